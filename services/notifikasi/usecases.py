"""The notifikasi service's use cases: who hears what of each event, how one delivery is tried
and settled, and what people and operators ask of it over the gateway.

An event's use case decides who hears what and puts one delivery per person in the log, on the
first channel of their fallback chain (and one in the inbox of those with an account), then
tries it at once. The log is the source of truth: a delivery waits as `antri` until a channel
takes it (`terkirim`), refuses it for good or runs out of tries (`gagal`: the next channel of
the chain takes over), or is not to be sent (`dilewati`: the person or their address opted
out, or the address had its share of new aspirations today). Retries are times in the log,
taken up by a timer, so a restart loses none. Sending itself is the outside world: a `Postman`
says how a message leaves, from which templates, with which settings and clock.

Framework-free: imported by services/notifikasi/service.py and the unit tests."""
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from services.common.errors import Forbidden, NotFound
from services.common.events import source_of
from services.common.privacy import mask_address
from services.common.schema import instance, page_result
from services.common.usecase import found, page_in_area
from services.notifikasi import domain
from services.notifikasi.schemas import PengirimanSchema, PesanSchema, PreferensiSchema, WebhookSchema

log = logging.getLogger(__name__)

ROLES_LOG = ("admin", "pengurus")
LOG_FILTERS = ("status", "event_id", "kanal")
OPTED_OUT = "penerima memilih tidak menerima lewat kanal ini"
TOO_MANY = (f"alamat ini sudah mendapat pesan tentang {domain.NEW_ASPIRATIONS_PER_ADDRESS} aspirasi baru dalam "
            f"{domain.ADDRESS_WINDOW.total_seconds() / 3600:g} jam terakhir; pesan tentang aspirasi lain ditahan")
ERASED = "data pribadi penerima sudah dihapus di layanan asalnya"
UNREACHABLE = "tidak ada kanal yang dapat dipakai: pesan ini tidak punya templat atau penyedia untuk alamat penerima"


@dataclass(frozen=True)
class Postman:
    """What delivering needs from the outside world.

    `send(delivery, message, webhook)` carries one message over the delivery's channel and
    raises domain.TemporaryFailure or PermanentFailure when it does not get through;
    `templates` write the messages (services.notifikasi.channels.Templates); `channels` are
    those set up (email and the inbox always, SMS and WhatsApp with a provider); a temporary
    failure is tried again after `retry_base_seconds`, doubling up to `retry_cap_seconds`, at
    most `max_attempts` times; a sender holds a delivery for `lease_seconds`; emails carry an
    opt-out link under `public_url` when it is known, a reset link under `portal_url` (the web
    front-end's address; by default the same); `clock()` is the time now, and
    `on_settled(channel, status)` hears of every outcome recorded (the metrics)."""
    send: Callable
    templates: object
    channels: frozenset
    max_attempts: int
    retry_base_seconds: float
    retry_cap_seconds: float
    lease_seconds: float
    public_url: str | None
    clock: Callable
    on_settled: Callable = lambda channel, status: None
    portal_url: str | None = None


# Who hears what

def tell_unit(event, store, organisasi, postman):
    """kegiatan.dijadwalkan, kegiatan.dibatalkan: the unit's active board and members, fetched
    at send time."""
    contacts = organisasi.list_kontak_unit(event["data"]["unit_id"])
    tell(event, event["type"], domain.board_and_members(contacts), store, postman, kegiatan=event["data"])


def tell_unit_of_reschedule(event, store, organisasi, postman):
    """kegiatan.diubah: as `tell_unit`, when the activity's time or place changed."""
    if domain.rescheduled(event["data"]):
        tell_unit(event, store, organisasi, postman)


def tell_appointee(event, store, organisasi, postman):
    """pengurus.diangkat: the appointee, if a contact is known."""
    pengurus = event["data"]
    contact = organisasi.get_kontak_pengurus(pengurus["unit_id"], pengurus["id"])
    if contact is not None:
        tell(event, event["type"], [domain.person("pengurus", contact)], store, postman, pengurus=pengurus)


def tell_recipient(event, store, bantuan, postman):
    """penyaluran.dicatat: a receipt to the recipient, if a phone is known."""
    penyaluran = event["data"]
    contact = bantuan.get_kontak_penerima(penyaluran["penerima_id"])
    if contact and contact["telepon"]:
        tell(event, event["type"], [domain.person("penerima", contact)], store, postman, penyaluran=penyaluran)


def tell_board(event, store, organisasi, postman):
    """kuota.habis: the board of the program's unit, not its members."""
    contacts = organisasi.list_kontak_unit(event["data"]["unit_id"])
    tell(event, event["type"], domain.board(contacts), store, postman, kuota=event["data"])


def tell_new_aspirasi(event, store, organisasi, kegiatan, postman):
    """aspirasi.diterima: the reporter, with the ticket and the due date; the unit's
    sekretaris, with a summary that never names the reporter."""
    aspirasi = event["data"]
    tell_reporter(event, store, kegiatan, postman, f"{event['type']}.pelapor")
    sekretaris = organisasi.list_kontak_sekretaris(aspirasi["unit_id"], False)
    tell(event, f"{event['type']}.sekretaris", domain.board(sekretaris), store, postman, aspirasi=aspirasi)


def tell_reporter(event, store, kegiatan, postman, message=None):
    """aspirasi.diperbarui: the reporter, with the new status and the public answer (or the
    `message` named), if a contact is known."""
    contact = kegiatan.get_kontak_pelapor(event["data"]["id"])
    if contact is not None:
        tell(event, message or event["type"], [domain.person("pelapor", contact)], store, postman,
             aspirasi=event["data"])


def escalate_late_aspirasi(event, store, organisasi, postman):
    """aspirasi.terlambat: the sekretaris of the unit and of its parent unit."""
    sekretaris = organisasi.list_kontak_sekretaris(event["data"]["unit_id"], True)
    tell(event, event["type"], domain.board(sekretaris), store, postman, aspirasi=event["data"])


def send_reset_link(event, store, akun, postman):
    """akun.reset_diminta: the account's holder, by email only (a phone may be shared, and the
    inbox is behind the password being reset), whatever their preferences, with a link akun
    makes when asked. The same event heard again after its email was logged asks nothing (a new
    link would void the one in that email); heard again before, it asks for a new one. Without
    the platform's public address there is no link to send."""
    portal = postman.portal_url or postman.public_url
    if portal is None:
        log.error("a password reset link was asked for, but PORTAL_URL and PUBLIC_URL are not set: none can be sent")
        return
    recipient = f"akun:{event['data']['id']}"
    if store.logged(domain.delivery_key(event["id"], recipient, "email")):
        return
    handed = akun.serahkan_reset(event["data"]["reset_id"])
    if handed is None:
        return
    holder = domain.Penerima(id=recipient, nama=handed["nama"], email=handed["email"])
    tell(event, event["type"], [holder], store, postman,
         reset={"tautan": f"{portal}{domain.RESET_PAGE}?token={handed['token']}",
                "berlaku_sampai": handed["berlaku_sampai"]})


def forward_to_webhooks(event, store):
    """Webhooks get the public feed's events they asked for, in their public form (never
    notifikasi's own, which would tell of the webhook's deliveries without end). A delivery
    is logged for each, keyed by the event and the webhook (so a redelivery logs nothing
    new); the timer sends them, so a slow or dead receiver never holds up people's messages."""
    if event["source"] == source_of("notifikasi"):
        return
    for webhook in store.webhooks():
        if domain.wants(webhook, event):
            log_delivery(event, {"penerima": f"webhook:{webhook['id']}", "nama": f"webhook {webhook['id'][:8]}",
                                 "akun": None, "pesan": event["type"], "konteks": {"event": event},
                                 "kanal": "webhook", "tujuan": webhook["url"], "webhook_id": webhook["id"],
                                 "cadangan": []}, store)


def tell(event, message, people, store, postman, **context):
    """One delivery per person on the first channel of their chain, and one in the inbox of
    those with an account, each tried at once; channels without a template for this message
    are not used, and someone with no address for the channels left is logged as not reached."""
    usable = postman.channels & postman.templates.channels(message)
    for person in people:
        common = {"penerima": person.id, "nama": person.nama, "akun": person.akun, "pesan": message,
                  "konteks": context}
        chain = domain.fallback_chain(person, usable)
        unreachable = None if chain else domain.first_address(person)
        if chain:
            (channel, address), *rest = chain
            attempt(log_delivery(event, {**common, "kanal": channel, "tujuan": address, "cadangan": rest}, store),
                    store, postman)
        elif unreachable:
            channel, address = unreachable
            log_delivery(event, {**common, "kanal": channel, "tujuan": address, "cadangan": [], "status": "dilewati",
                                 "berikutnya": None, "galat_terakhir": UNREACHABLE}, store)
        if person.akun and "inbox" in usable:
            attempt(log_delivery(event, {**common, "kanal": "inbox", "tujuan": person.akun, "cadangan": []}, store),
                    store, postman)


def log_delivery(event, delivery, store):
    """Put a delivery in the log, once per key (the same event again changes nothing); its key."""
    key = domain.delivery_key(event["id"], delivery["penerima"], delivery["kanal"])
    store.claim(key, {"event_id": event["id"], "event_type": event["type"], "wilayah": event.get("wilayah"),
                      **delivery})
    return key


# Delivering

def attempt_due(store, postman, spawn):
    """Deliveries whose time has come (webhooks, retries, and whatever a crashed sender held),
    each tried by `spawn(attempt, key, store, postman)`: the entrypoint runs several at once,
    so one slow receiver does not hold up the rest."""
    for key in store.due():
        spawn(attempt, key, store, postman)


def attempt(key, store, postman):
    """One try of one delivery, if it is due and nobody else holds it (the try is counted as
    it is taken, so a sender that dies mid-try has tried)."""
    delivery = store.take(key, postman.clock() + timedelta(seconds=postman.lease_seconds))
    if delivery is None:
        return
    tries = delivery["percobaan"]
    if not wanted(delivery, store):
        settle(delivery, "dilewati", store, postman, OPTED_OUT, tried=False)
    elif tries > postman.max_attempts:  # its sender died on every try
        settle(delivery, "gagal", store, postman, f"berhenti setelah {tries - 1} percobaan yang terputus")
    elif not admitted(delivery, store, postman.clock()):
        settle(delivery, "dilewati", store, postman, TOO_MANY, tried=False)
    else:
        send_once(delivery, store, postman)


def wanted(delivery, store):
    """Whether a message is still wanted: always for one sent whatever the preferences; else
    when the recipient's preferences allow its channel, and so do those of its address."""
    if delivery["pesan"] in domain.ALWAYS_SENT:
        return True
    holders = (delivery["penerima"], domain.address_holder_of(delivery))
    return all(domain.allowed(store.preferences(holder), delivery["kanal"]) for holder in holders if holder)


def admitted(delivery, store, now):
    """Whether a message about an aspiration may go to its address: always when the address was
    told of that aspiration before (its progress, a retry, the next channel of the chain);
    else only while the address has heard of fewer than NEW_ASPIRATIONS_PER_ADDRESS new ones
    within ADDRESS_WINDOW, and this one then counts. The progress of an aspiration held back
    is held back too, unless the address has room by then: otherwise officers rejecting a
    flood of forms with someone else's address would write to that person once for each."""
    if delivery["pesan"] not in domain.ABOUT_AN_ASPIRATION:
        return True
    return store.admit(domain.address_key(delivery["tujuan"]), delivery["penerima"], now,
                       domain.NEW_ASPIRATIONS_PER_ADDRESS, domain.ADDRESS_WINDOW)


def send_once(delivery, store, postman):
    """Send a taken delivery and settle it: sent, failed for good, or due again after a pause
    that grows with each try, until the tries run out."""
    tries = delivery["percobaan"]
    try:
        message = render(delivery, store, postman)
        postman.send(delivery, message, webhook_of(delivery, store))
    except domain.PermanentFailure as exc:
        settle(delivery, "gagal", store, postman, str(exc))
    except Exception as exc:  # temporary, and anything unforeseen: tried again, up to the limit
        if isinstance(exc, domain.TemporaryFailure):
            error = str(exc)
        else:
            log.exception("unexpected failure sending %s", delivery["id"])
            error = f"galat tak terduga ({type(exc).__name__})"
        if tries >= postman.max_attempts:
            settle(delivery, "gagal", store, postman, f"{error} ({tries} kali dicoba)")
        else:
            pause = domain.retry_delay(tries, postman.retry_base_seconds, postman.retry_cap_seconds)
            settle(delivery, "antri", store, postman, error, next_try=postman.clock() + pause)
    else:
        settle(delivery, "terkirim", store, postman, message=message)


def render(delivery, store, postman):
    """A delivery to a person as its templates render it; an email (but for a duty's) with
    the link that stops the person's emails, when the platform's public address is known."""
    channel, templates = delivery["kanal"], postman.templates
    if channel == "webhook":
        return domain.Message()
    linked = channel == "email" and delivery["pesan"] not in domain.DUTY_MESSAGES
    berhenti_url = opt_out_url(delivery, store, postman.public_url) if linked else None
    context = {"penerima": {"nama": delivery["nama"]}, "wilayah": delivery["wilayah"], **delivery["konteks"]}
    try:
        subject, text = templates.render(delivery["pesan"], channel, **context)
        if channel != "email":
            return domain.Message(subject, text)
        html = templates.render_html(delivery["pesan"], berhenti_url=berhenti_url, **context)
        footer = templates.opt_out_footer(berhenti_url) if berhenti_url else ""
        return domain.Message(subject, text + footer, html, berhenti_url)
    except Exception as exc:  # a template missing or not rendering: no retry mends it
        raise domain.PermanentFailure(
            f"templat {delivery['pesan']}.{channel} tidak dapat dipakai ({type(exc).__name__})") from None


def opt_out_url(delivery, store, public_url):
    """The link under an email that stops the emails to its address (to the account, for
    someone with one), under the platform's public address (None when it is not known)."""
    if public_url is None:
        return None
    holder = domain.address_holder_of(delivery) or delivery["penerima"]
    return f"{public_url}/api/v1/notifikasi/berhenti/{store.opt_out_token(holder, 'email')}"


def webhook_of(delivery, store):
    """The webhook a delivery goes to (None for a person's); failed for good once deleted."""
    if delivery["kanal"] != "webhook":
        return None
    webhook = store.webhook(delivery["webhook_id"])
    if webhook is None:
        raise domain.PermanentFailure("webhook sudah dihapus")
    return webhook


def settle(delivery, status, store, postman, error=None, tried=True, next_try=None, message=None):
    """Record the outcome of a try with its event, only while the delivery is still ours; a
    message to the inbox is written with it, and so is the delivery on the next channel of
    the chain when this one is done without getting through (then tried at once)."""
    key = delivery["id"]
    following = domain.next_in_chain(delivery) if status in ("gagal", "dilewati") else None

    def record(tx):
        secrets = domain.SECRET_CONTEXT.get(delivery["pesan"], ()) if status != "antri" else ()
        settled = store.settle(tx, delivery, status, error, tried, next_try, forget=secrets)
        if settled is None:
            log.warning("delivery %s was taken over by another sender; its outcome here is dropped", key)
            return False
        if status == "terkirim" and delivery["kanal"] == "inbox":
            store.put_in_inbox(tx, key, {"akun": delivery["tujuan"], "event_type": delivery["event_type"],
                                         "judul": message.subject, "isi": message.text})
        if following:
            store.claim(*following, tx=tx)
        if status in ("terkirim", "gagal"):
            tx.emit(f"notifikasi.{status}", f"notifikasi/{delivery['event_id']}", settled, delivery["wilayah"])
        return True

    if store.uow.commit(record):
        postman.on_settled(delivery["kanal"], status)
        if following:
            attempt(following[0], store, postman)


def forget_old(store, retention, now):
    """Settled deliveries and inbox messages older than `retention` are forgotten: the log holds
    people's addresses, and neither may grow for ever. The counts of each forgotten."""
    deliveries, messages = store.forget_older_than(now - retention)
    if deliveries or messages:
        log.info("forgot %d deliveries and %d inbox messages older than %s", deliveries, messages, retention)
    return deliveries, messages


def forget_person(kind, event, store):
    """aspirasi.pelapor_dihapus, penerima.dihapus: the reporter or aid recipient (`kind`) was
    erased where their record is kept, so what the delivery log copied of them goes too."""
    store.forget_person(f"{kind}:{event['data']['id']}", ERASED)


# Over the gateway

def list_pengiriman(actor, query, store):
    """The delivery log of the caller's area, for those who run the platform; addresses masked,
    and the names of citizens."""
    actor.require_role(ROLES_LOG, actor.wilayah, "Peran Anda tidak berwenang melihat log notifikasi.")
    return page_in_area(actor, query, store.find_deliveries, masked, filters=LOG_FILTERS)


def masked(deliveries):
    return PengirimanSchema(many=True).dump(
        [{**item, "tujuan": mask_address(item["tujuan"]), "nama": domain.shown_name(item)} for item in deliveries])


def list_pesan(actor, query, store):
    """One's own inbox: the messages to the account of the caller's `sub`, newest first."""
    items, total = store.inbox(actor.sub, query.get("dibaca"), query["page"], query["per_page"])
    return page_result(PesanSchema(many=True).dump(items), total, query)


def baca_pesan(actor, pesan_id, store):
    """Mark one's own message read; the first reading's time stays."""
    message = store.mark_read(actor.sub, pesan_id)
    if message is None:
        raise NotFound(f"Pesan {pesan_id} tidak ada di kotak masuk Anda.")
    return instance(PesanSchema).dump(message)


def get_preferensi(actor, store):
    return instance(PreferensiSchema).dump(store.preference_record(f"akun:{actor.sub}"))


def atur_preferensi(actor, data, store):
    """One's own preferences. Someone without an account (a reporter who phoned, an aid
    recipient who replied STOP) has their wish recorded by a national admin, for their record
    (`penerima`) or for their address (`email`, `telepon`: whatever record a message to it
    comes from): a person's preferences hold everywhere, so no area's admin may silence people
    beyond their area, and nobody may change those of someone with an account but themselves."""
    own = f"akun:{actor.sub}"
    address = data.get("email") or data.get("telepon")
    recipient = domain.address_holder(address) if address else data.get("penerima", own)
    if recipient != own:
        if recipient.startswith("akun:"):
            raise Forbidden("Preferensi pemilik akun hanya dapat diatur oleh pemiliknya sendiri.")
        actor.require_role(("admin",), None, "Hanya admin nasional yang dapat mengatur preferensi orang lain.")
    return instance(PreferensiSchema).dump(store.set_preferences(recipient, data["kanal"], actor.sub))


def get_tautan_berhenti(token, store):
    """What an email's opt-out link stops, and whether it is stopped already."""
    recipient_id, channel = opt_out_link(token, store)
    return {"kanal": channel, "berhenti": not domain.allowed(store.preferences(recipient_id), channel)}


def hentikan_langganan(token, store):
    """Stop what an opt-out link names, without an account: the link came in a message to
    that address (or account) only, so holding it is as good as owning it."""
    recipient_id, channel = opt_out_link(token, store)
    store.set_preferences(recipient_id, {channel: False}, "tautan-berhenti")
    return {"kanal": channel, "berhenti": True}


def opt_out_link(token, store):
    link = store.opt_out_link(token)
    if link is None:
        raise NotFound("Tautan berhenti berlangganan ini tidak dikenal.")
    return link


def daftarkan_webhook(actor, data, store):
    """Register another system's endpoint (admin, within their area; their area by default)."""
    data = {**data, "wilayah": data.get("wilayah", actor.wilayah)}
    actor.require_role(("admin",), data["wilayah"], "Hanya admin yang dapat mendaftarkan webhook.")
    # Through the unit of work, so a repeat with the same Idempotency-Key registers nothing.
    webhook = store.uow.commit(lambda tx: store.insert_webhook(tx, {**data, "oleh": actor.sub}))
    return instance(WebhookSchema).dump(webhook)


def list_webhook(actor, store):
    """The webhooks of the admin's area, without their secrets."""
    actor.require_role(("admin",), actor.wilayah, "Hanya admin yang dapat melihat webhook.")
    return WebhookSchema(many=True).dump([webhook for webhook in store.webhooks() if actor.covers(webhook["wilayah"])])


def hapus_webhook(actor, webhook_id, store):
    """Delete a webhook of the admin's area; its deliveries still waiting fail."""
    webhook = found(store.webhook(webhook_id), "Webhook", webhook_id)
    actor.require_role(("admin",), webhook["wilayah"], "Hanya admin yang dapat menghapus webhook.")
    store.delete_webhook(webhook_id)
