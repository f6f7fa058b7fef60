"""The notifikasi service: tells people (and other systems) what concerns them, exactly once per
event, recipient and channel.

An event handler decides who hears what and puts one delivery per person in the log, on the
first channel of their fallback chain (and one in the inbox of those with an account), then
tries it at once. The log is the source of truth: a delivery waits as `antri` until a channel
takes it (`terkirim`), refuses it for good or runs out of tries (`gagal`: the next channel of
the chain takes over), or the person opted out (`dilewati`). Retries are times in the log,
taken up by a timer, so a restart loses none."""
import json
import logging
from datetime import timedelta

import eventlet
from nameko.timer import timer

from services.common.access import Actor
from services.common.config import settings
from services.common.consumer import event_handler
from services.common.errors import Forbidden, NotFound
from services.common.events import PUBLIC_EXCHANGE, source_of
from services.common.extensions import BaseService, ask, organisasi_proxy
from services.common.messaging import RpcProxy, rpc
from services.common.metrics import NOTIFICATIONS
from services.common.mongo import area_filter, utcnow
from services.common.privacy import mask_address
from services.common.schema import instance, load, page_result
from services.common.store import Store
from services.notifikasi import domain
from services.notifikasi.channels import Message, Templates, send_email, send_to_webhook, send_via_provider
from services.notifikasi.repository import NotifikasiRepository
from services.notifikasi.schemas import (
    EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, KotakMasukQuerySchema, PengirimanQuerySchema, PengirimanSchema,
    PesanSchema, PreferensiBaruSchema, PreferensiSchema, WebhookBaruSchema, WebhookSchema)

log = logging.getLogger(__name__)

ROLES_LOG = ("admin", "pengurus")
SENDS_AT_ONCE = 10
TEMPLATES = Templates(settings().template_dir)
RETENTION = settings().notifikasi_retention  # checked as the service starts: a bad value stops it
FORGET_EVERY_SECONDS = 3600
OPTED_OUT = "penerima memilih tidak menerima lewat kanal ini"
UNREACHABLE = "tidak ada kanal yang dapat dipakai: pesan ini tidak punya templat atau penyedia untuk alamat penerima"


def configured_channels():
    config = settings()
    return {"email", "inbox"} | {channel for channel, url in (("sms", config.sms_provider_url),
                                                              ("whatsapp", config.whatsapp_provider_url)) if url}


def send(delivery, message, webhook):
    """One message over one channel. WhatsApp's first message must use an approved template:
    its template's first line is the template's name, each further line one parameter. The
    inbox is written when the delivery is settled, with it."""
    config, channel, address, key = settings(), delivery["kanal"], delivery["tujuan"], delivery["id"]
    if channel == "email":
        send_email(config, address, message, key)
    elif channel == "sms":
        send_via_provider(config.sms_provider_url, config.sms_provider_token,
                          {"kanal": "sms", "ke": address, "pesan": message.text.strip()}, key, config.send_timeout)
    elif channel == "whatsapp":
        send_via_provider(config.whatsapp_provider_url, config.whatsapp_provider_token,
                          {"kanal": "whatsapp", "ke": address, "templat": {
                              "nama": message.subject, "bahasa": "id",
                              "parameter": message.text.strip().splitlines()}},
                          key, config.send_timeout)
    elif channel == "webhook":
        send_to_webhook(address, webhook["rahasia"], json.dumps(delivery["konteks"]["event"]).encode(), key,
                        config.send_timeout, config.webhook_blocked_networks)


class NotifikasiService(BaseService):
    name = "notifikasi"

    store = Store(NotifikasiRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = organisasi_proxy()
    kegiatan = RpcProxy("kegiatan")
    bantuan = RpcProxy("bantuan")

    # Who hears what

    @event_handler("kegiatan", "kegiatan.dijadwalkan")
    def kegiatan_dijadwalkan(self, event):
        self._tell_unit(event)

    @event_handler("kegiatan", "kegiatan.dibatalkan")
    def kegiatan_dibatalkan(self, event):
        self._tell_unit(event)

    @event_handler("organisasi", "pengurus.diangkat")
    def pengurus_diangkat(self, event):
        """The appointee, if a contact is known."""
        pengurus = event["data"]
        contact = ask(self.organisasi, "kontak_pengurus", pengurus["unit_id"], pengurus["id"])
        if contact is not None:
            self._tell(event, event["type"], [domain.person("pengurus", contact)], pengurus=pengurus)

    @event_handler("bantuan", "penyaluran.dicatat")
    def penyaluran_dicatat(self, event):
        """A receipt to the recipient, if a phone is known."""
        penyaluran = event["data"]
        contact = ask(self.bantuan, "kontak_penerima", penyaluran["penerima_id"])
        if contact and contact["telepon"]:
            self._tell(event, event["type"], [domain.person("penerima", contact)], penyaluran=penyaluran)

    @event_handler("bantuan", "kuota.habis")
    def kuota_habis(self, event):
        """The board of the program's unit."""
        contacts = ask(self.organisasi, "kontak_unit", event["data"]["unit_id"])
        self._tell(event, event["type"], domain.board(contacts), kuota=event["data"])

    @event_handler("kegiatan", "aspirasi.diterima")
    def aspirasi_diterima(self, event):
        """The reporter, with the ticket and the due date; the unit's sekretaris, with a summary
        that never names the reporter."""
        aspirasi = event["data"]
        self._tell_reporter(event, f"{event['type']}.pelapor")
        sekretaris = ask(self.organisasi, "kontak_sekretaris", aspirasi["unit_id"], False)
        self._tell(event, f"{event['type']}.sekretaris", domain.board(sekretaris), aspirasi=aspirasi)

    @event_handler("kegiatan", "aspirasi.diperbarui")
    def aspirasi_diperbarui(self, event):
        """The reporter, with the new status and the public answer."""
        self._tell_reporter(event, event["type"])

    @event_handler("kegiatan", "aspirasi.terlambat")
    def aspirasi_terlambat(self, event):
        """The sekretaris of the unit and of its parent unit: a late report is escalated."""
        sekretaris = ask(self.organisasi, "kontak_sekretaris", event["data"]["unit_id"], True)
        self._tell(event, event["type"], domain.board(sekretaris), aspirasi=event["data"])

    def _tell_unit(self, event):
        """The unit's active board and members, fetched at send time."""
        contacts = ask(self.organisasi, "kontak_unit", event["data"]["unit_id"])
        self._tell(event, event["type"], domain.board_and_members(contacts), kegiatan=event["data"])

    def _tell_reporter(self, event, message):
        contact = ask(self.kegiatan, "kontak_pelapor", event["data"]["id"])
        if contact is not None:
            self._tell(event, message, [domain.person("pelapor", contact)], aspirasi=event["data"])

    @event_handler(PUBLIC_EXCHANGE, "#", keyed_by_event=True)
    def teruskan(self, event):
        """Webhooks get the public feed's events they asked for, in their public form (never
        notifikasi's own, which would tell of the webhook's deliveries without end). A delivery
        is logged for each, keyed by the event and the webhook (so a redelivery logs nothing
        new); the timer sends them, so a slow or dead receiver never holds up the handlers of
        people's messages."""
        if event["source"] == source_of(self.name):
            return
        for webhook in self.store.webhooks():
            if domain.wants(webhook, event):
                self._log(event, {"penerima": f"webhook:{webhook['id']}", "nama": f"webhook {webhook['id'][:8]}",
                                  "akun": None, "pesan": event["type"], "konteks": {"event": event},
                                  "kanal": "webhook", "tujuan": webhook["url"], "webhook_id": webhook["id"],
                                  "cadangan": []})

    # Delivering

    def _tell(self, event, message, people, **context):
        """One delivery per person on the first channel of their chain, and one in the inbox of
        those with an account, each tried at once; channels without a template for this message
        are not used."""
        usable = configured_channels() & TEMPLATES.channels(message)
        for person in people:
            common = {"penerima": person.id, "nama": person.nama, "akun": person.akun, "pesan": message,
                      "konteks": context}
            chain = domain.fallback_chain(person, usable)
            unreachable = None if chain else domain.first_address(person)
            if chain:
                (channel, address), *rest = chain
                self._attempt(self._log(event, {**common, "kanal": channel, "tujuan": address, "cadangan": rest}))
            elif unreachable:  # has an address, but not for a channel this message uses
                channel, address = unreachable
                self._log(event, {**common, "kanal": channel, "tujuan": address, "cadangan": [], "status": "dilewati",
                                  "berikutnya": None, "galat_terakhir": UNREACHABLE})
            if person.akun and "inbox" in usable:
                self._attempt(self._log(event, {**common, "kanal": "inbox", "tujuan": person.akun, "cadangan": []}))

    def _log(self, event, delivery):
        """Put a delivery in the log, once per key (the same event again changes nothing)."""
        key = domain.delivery_key(event["id"], delivery["penerima"], delivery["kanal"])
        self.store.claim(key, {"event_id": event["id"], "event_type": event["type"],
                               "wilayah": event.get("wilayah"), **delivery})
        return key

    @timer(interval=settings().notifikasi_poll_seconds)
    def kirim_ulang(self):
        """Deliveries whose time has come: webhooks, retries, and whatever a crashed sender
        held; several at once, so one slow receiver does not hold up the rest."""
        pool = eventlet.GreenPool(SENDS_AT_ONCE)
        for key in self.store.due():
            pool.spawn_n(self._attempt, key)
        pool.waitall()

    @timer(interval=FORGET_EVERY_SECONDS, eager=True)
    def lupakan_lama(self):
        """Settled deliveries and inbox messages past NOTIFIKASI_RETENTION_DAYS are forgotten:
        the log holds people's addresses, and neither may grow for ever."""
        deliveries, messages = self.store.forget_older_than(utcnow() - RETENTION)
        if deliveries or messages:
            log.info("forgot %d deliveries and %d inbox messages older than %s", deliveries, messages, RETENTION)

    def _attempt(self, key):
        """One try of one delivery, if it is due and nobody else holds it."""
        config = settings()
        delivery = self.store.take(key, utcnow() + timedelta(seconds=config.notifikasi_lease_seconds))
        if delivery is None:
            return
        tries = delivery["percobaan"]
        if not domain.allowed(self.store.preferences(delivery["penerima"]), delivery["kanal"]):
            self._settle(delivery, "dilewati", OPTED_OUT, tried=False)
        elif tries > config.notifikasi_max_attempts:  # its sender died on every try
            self._settle(delivery, "gagal", f"berhenti setelah {tries - 1} percobaan yang terputus")
        else:
            self._try(delivery, tries, config)

    def _try(self, delivery, tries, config):
        try:
            message = self._message(delivery)
            send(delivery, message, self._webhook(delivery))
        except domain.PermanentFailure as exc:
            self._settle(delivery, "gagal", str(exc))
        except Exception as exc:  # temporary, and anything unforeseen: tried again, up to the limit
            if isinstance(exc, domain.TemporaryFailure):
                error = str(exc)
            else:
                log.exception("unexpected failure sending %s", delivery["id"])
                error = f"galat tak terduga ({type(exc).__name__})"
            if tries >= config.notifikasi_max_attempts:
                self._settle(delivery, "gagal", f"{error} ({tries} kali dicoba)")
            else:
                pause = domain.retry_delay(tries, config.notifikasi_retry_base_seconds,
                                           config.notifikasi_retry_cap_seconds)
                self._settle(delivery, "antri", error, next_try=utcnow() + pause)
        else:
            self._settle(delivery, "terkirim", message=message)

    def _message(self, delivery):
        """A delivery to a person as its templates render it; an email (but for a duty's) with
        the link that stops the person's emails, when the platform's public address is known
        (PUBLIC_URL)."""
        channel = delivery["kanal"]
        if channel == "webhook":
            return Message()
        linked = channel == "email" and delivery["pesan"] not in domain.DUTY_MESSAGES
        berhenti_url = self._opt_out_url(delivery["penerima"]) if linked else None
        context = {"penerima": {"nama": delivery["nama"]}, "wilayah": delivery["wilayah"], **delivery["konteks"]}
        try:
            subject, text = TEMPLATES.render(delivery["pesan"], channel, **context)
            if channel != "email":
                return Message(subject, text)
            html = TEMPLATES.render_html(delivery["pesan"], berhenti_url=berhenti_url, **context)
            footer = TEMPLATES.opt_out_footer(berhenti_url) if berhenti_url else ""
            return Message(subject, text + footer, html, berhenti_url)
        except Exception as exc:  # a template missing or not rendering: no retry mends it
            raise domain.PermanentFailure(
                f"templat {delivery['pesan']}.{delivery['kanal']} tidak dapat dipakai ({type(exc).__name__})") from None

    def _opt_out_url(self, recipient_id):
        public_url = settings().public_url
        if public_url is None:
            return None
        return f"{public_url}/api/v1/notifikasi/berhenti/{self.store.opt_out_token(recipient_id, 'email')}"

    def _webhook(self, delivery):
        if delivery["kanal"] != "webhook":
            return None
        webhook = self.store.webhook(delivery["webhook_id"])
        if webhook is None:
            raise domain.PermanentFailure("webhook sudah dihapus")
        return webhook

    def _settle(self, delivery, status, error=None, tried=True, next_try=None, message=None):
        """Record the outcome of a try with its event, only while the delivery is still ours; a
        message to the inbox is written with it, and so is the delivery on the next channel of
        the chain when this one is done without getting through (then tried at once)."""
        key = delivery["id"]
        following = domain.next_in_chain(delivery) if status in ("gagal", "dilewati") else None

        def settle(tx):
            settled = self.store.settle(tx, delivery, status, error, tried, next_try)
            if settled is None:
                log.warning("delivery %s was taken over by another sender; its outcome here is dropped", key)
                return False
            if status == "terkirim" and delivery["kanal"] == "inbox":
                self.store.put_in_inbox(tx, key, {"akun": delivery["tujuan"], "event_type": delivery["event_type"],
                                                  "judul": message.subject, "isi": message.text})
            if following:
                self.store.claim(*following, session=tx.session)
            if status in ("terkirim", "gagal"):
                tx.emit(f"notifikasi.{status}", f"notifikasi/{delivery['event_id']}", settled, delivery["wilayah"])
            return True

        if self.store.uow.commit(settle):
            NOTIFICATIONS.labels(delivery["kanal"], status).inc()
            if following:
                self._attempt(following[0])

    # Over the gateway

    @rpc
    def log_pengiriman(self, actor, query):
        """The delivery log, for those who run the platform; addresses masked."""
        actor = Actor.from_dict(actor)
        actor.require_role(ROLES_LOG, actor.wilayah, "Peran Anda tidak berwenang melihat log notifikasi.")
        query = load(PengirimanQuerySchema, query)
        criteria = {name: query[name] for name in ("status", "event_id", "kanal") if name in query}
        criteria.update(area_filter("wilayah", actor.wilayah))
        items, total = self.store.find_deliveries(criteria, query["page"], query["per_page"])
        masked = [{**item, "tujuan": mask_address(item["tujuan"]), "nama": domain.shown_name(item)} for item in items]
        return page_result(PengirimanSchema(many=True).dump(masked), total, query)

    @rpc
    def kotak_masuk(self, actor, query):
        """One's own inbox: the messages to the account of the token's `sub`, newest first."""
        actor = Actor.from_dict(actor)
        query = load(KotakMasukQuerySchema, query)
        criteria = {"dibaca": {"$ne": None} if query["dibaca"] else None} if "dibaca" in query else {}
        items, total = self.store.inbox(actor.sub, criteria, query["page"], query["per_page"])
        return page_result(PesanSchema(many=True).dump(items), total, query)

    @rpc
    def baca_pesan(self, actor, pesan_id):
        actor = Actor.from_dict(actor)
        message = self.store.mark_read(actor.sub, pesan_id)
        if message is None:
            raise NotFound(f"Pesan {pesan_id} tidak ada di kotak masuk Anda.")
        return instance(PesanSchema).dump(message)

    @rpc
    def preferensi(self, actor):
        actor = Actor.from_dict(actor)
        return instance(PreferensiSchema).dump(self.store.preference_record(f"akun:{actor.sub}"))

    @rpc
    def atur_preferensi(self, actor, payload):
        """One's own preferences. Someone without an account (a reporter who phoned, an aid
        recipient who replied STOP) has their wish recorded by a national admin: a person's
        preferences hold everywhere, so no area's admin may silence people beyond their area,
        and nobody may change those of someone with an account but they themselves."""
        actor = Actor.from_dict(actor)
        data = load(PreferensiBaruSchema, payload)
        own = f"akun:{actor.sub}"
        recipient = data.get("penerima", own)
        if recipient != own:
            if recipient.startswith("akun:"):
                raise Forbidden("Preferensi pemilik akun hanya dapat diatur oleh pemiliknya sendiri.")
            actor.require_role(("admin",), None, "Hanya admin nasional yang dapat mengatur preferensi orang lain.")
        return instance(PreferensiSchema).dump(self.store.set_preferences(recipient, data["kanal"], actor.sub))

    @rpc
    def tautan_berhenti(self, token):
        """What an email's opt-out link stops, and whether it is stopped already."""
        recipient_id, channel = self._opt_out_link(token)
        return {"kanal": channel, "berhenti": not domain.allowed(self.store.preferences(recipient_id), channel)}

    @rpc
    def berhenti(self, token):
        """Stop what an opt-out link names, without an account: the link came in a message to
        that person only, so holding it is as good as being them."""
        recipient_id, channel = self._opt_out_link(token)
        self.store.set_preferences(recipient_id, {channel: False}, "tautan-berhenti")
        return {"kanal": channel, "berhenti": True}

    def _opt_out_link(self, token):
        found = self.store.opt_out_link(token)
        if found is None:
            raise NotFound("Tautan berhenti berlangganan ini tidak dikenal.")
        return found

    @rpc
    def daftar_webhook(self, actor, payload):
        """Register another system's endpoint (admin, within their area)."""
        actor = Actor.from_dict(actor)
        data = load(WebhookBaruSchema, payload)
        data["wilayah"] = data.get("wilayah", actor.wilayah)
        actor.require_role(("admin",), data["wilayah"], "Hanya admin yang dapat mendaftarkan webhook.")
        return instance(WebhookSchema).dump(self.store.insert_webhook({**data, "oleh": actor.sub}))

    @rpc
    def webhooks(self, actor):
        actor = Actor.from_dict(actor)
        actor.require_role(("admin",), actor.wilayah, "Hanya admin yang dapat melihat webhook.")
        visible = [webhook for webhook in self.store.webhooks() if actor.covers(webhook["wilayah"])]
        return WebhookSchema(many=True).dump(visible)

    @rpc
    def hapus_webhook(self, actor, webhook_id):
        actor = Actor.from_dict(actor)
        webhook = self.store.webhook(webhook_id)
        if webhook is None:
            raise NotFound(f"Webhook {webhook_id} tidak ditemukan.")
        actor.require_role(("admin",), webhook["wilayah"], "Hanya admin yang dapat menghapus webhook.")
        self.store.delete_webhook(webhook_id)
