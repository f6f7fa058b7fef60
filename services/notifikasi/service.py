"""The notifikasi service: tells people what concerns them, exactly once per event, person
and channel. This first part writes email to a unit's board and members when an activity is
scheduled or cancelled; the other events and channels of issue 5 follow the same path."""
from nameko.rpc import RpcProxy, rpc

from services.common.access import Actor
from services.common.config import settings
from services.common.consumer import event_handler
from services.common.extensions import BaseService, ask
from services.common.privacy import mask_address
from services.common.schema import load, page_result
from services.common.store import Store
from services.notifikasi import domain
from services.notifikasi.channels import Templates, send_email, send_via_provider
from services.notifikasi.repository import NotifikasiRepository
from services.notifikasi.schemas import EVENT_DATA_SCHEMAS, PengirimanQuerySchema, PengirimanSchema

ROLES_LOG = ("admin", "pengurus")
TEMPLATES = Templates(settings().template_dir)


def configured_channels():
    config = settings()
    return {"email"} | {channel for channel, url in (("sms", config.sms_provider_url),
                                                     ("whatsapp", config.whatsapp_provider_url)) if url}


def send(channel, address, subject, body, key):
    """One message over one channel. WhatsApp's first message must use an approved template:
    its template's first line is the template's name, each further line one parameter."""
    config = settings()
    if channel == "email":
        send_email(config, address, subject, body, key)
    elif channel == "sms":
        send_via_provider(config.sms_provider_url, config.sms_provider_token,
                          {"kanal": "sms", "ke": address, "pesan": body.strip()}, key)
    else:
        send_via_provider(config.whatsapp_provider_url, config.whatsapp_provider_token,
                          {"kanal": "whatsapp", "ke": address, "templat": {
                              "nama": subject, "bahasa": "id", "parameter": body.strip().splitlines()}}, key)


class NotifikasiService(BaseService):
    name = "notifikasi"

    store = Store(NotifikasiRepository, EVENT_DATA_SCHEMAS)
    organisasi = RpcProxy("organisasi")
    bantuan = RpcProxy("bantuan")

    @event_handler("kegiatan", "kegiatan.dijadwalkan")
    def kegiatan_dijadwalkan(self, event):
        self._tell_unit(event)

    @event_handler("kegiatan", "kegiatan.dibatalkan")
    def kegiatan_dibatalkan(self, event):
        self._tell_unit(event)

    @event_handler("organisasi", "pengurus.diangkat")
    def pengurus_diangkat(self, event):
        """The appointee, if a contact is known: WhatsApp, falling back to SMS, then email."""
        pengurus = event["data"]
        contact = ask(self.organisasi, "kontak_pengurus", pengurus["unit_id"], pengurus["id"])
        if contact is not None:
            [person] = domain.board_and_members([contact])
            self._deliver_first(event, person, pengurus=pengurus)

    @event_handler("bantuan", "penyaluran.dicatat")
    def penyaluran_dicatat(self, event):
        """A receipt to the recipient, if a phone is known."""
        penyaluran = event["data"]
        contact = ask(self.bantuan, "kontak_penerima", penyaluran["penerima_id"])
        if contact and contact["telepon"]:
            person = domain.Penerima(id=f"penerima:{contact['id']}", nama=contact["nama"], telepon=contact["telepon"])
            self._deliver_first(event, person, penyaluran=penyaluran)

    def _deliver_first(self, event, person, **context):
        """Down the fallback chain until a channel takes the message; a temporary failure stops
        here and the event comes back later to the same channel."""
        for channel, address in domain.fallback_chain(person, configured_channels()):
            if self._deliver(event, person, channel, address, **context) == "terkirim":
                return

    def _tell_unit(self, event):
        """The unit's active board and members, fetched at send time; a temporary failure for
        anyone makes the event come back later, and who was told already is not told again."""
        kegiatan = event["data"]
        contacts = ask(self.organisasi, "kontak_unit", kegiatan["unit_id"])
        failures = []
        for person in domain.board_and_members(contacts):
            if person.email:
                try:
                    self._deliver(event, person, "email", person.email, kegiatan=kegiatan)
                except domain.TemporaryFailure as exc:
                    failures.append(str(exc))
        if failures:
            raise domain.TemporaryFailure(f"{len(failures)} pesan belum terkirim: {failures[0]}")

    def _deliver(self, event, person, channel, address, **context):
        """Send one message once; returns how the delivery stands."""
        key = domain.delivery_key(event["id"], person.id, channel)
        delivery = self.store.claim(key, {"event_id": event["id"], "event_type": event["type"], "penerima": person.id,
                                          "nama": person.nama, "kanal": channel, "tujuan": address})
        if delivery["status"] != "antri":
            return delivery["status"]  # told already (or skipped, or failed for good): never twice
        if not domain.allowed(self.store.preferences(person.id), channel):
            self._settle(key, "dilewati", "penerima memilih tidak menerima lewat kanal ini")
            return "dilewati"
        subject, body = TEMPLATES.render(event["type"], channel, penerima=person, **context)
        try:
            send(channel, address, subject, body, key)
        except domain.PermanentFailure as exc:
            self._settle(key, "gagal", str(exc))
            return "gagal"
        except domain.TemporaryFailure as exc:
            self._settle(key, "antri", str(exc))
            raise
        self._settle(key, "terkirim")
        return "terkirim"

    def _settle(self, key, status, error=None):
        def settle(tx):
            delivery = self.store.settle(tx, key, status, error)
            if status in ("terkirim", "gagal"):
                tx.emit(f"notifikasi.{status}", f"notifikasi/{key}", delivery)

        self.store.uow.commit(settle)

    @rpc
    def log_pengiriman(self, actor, query):
        """The delivery log, for those who run the platform; addresses masked."""
        actor = Actor.from_dict(actor)
        actor.require_role(ROLES_LOG, actor.wilayah, "Peran Anda tidak berwenang melihat log notifikasi.")
        query = load(PengirimanQuerySchema, query)
        criteria = {name: query[name] for name in ("status", "event_id", "kanal") if name in query}
        items, total = self.store.find_deliveries(criteria, query["page"], query["per_page"])
        masked = [{**item, "tujuan": mask_address(item["tujuan"])} for item in items]
        return page_result(PengirimanSchema(many=True).dump(masked), total, query)
