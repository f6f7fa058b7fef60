"""Rules of the notifikasi domain, in plain Python: who hears what, over which channel, when a
failure is worth another try, and how a webhook delivery is signed."""
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import NamedTuple

from services.common import phone
from services.common.access import within
from services.common.privacy import mask_middle

# The channels a person is told over, in the order the fallback chain tries them; `inbox` is
# the in-app inbox of someone with an account, told beside the chain; `webhook` is another
# system's endpoint.
CHAIN = ("whatsapp", "sms", "email")
KANAL = (*CHAIN, "inbox", "webhook")
SETTLED = ("terkirim", "gagal", "dilewati")  # a delivery's statuses once no more tries come
STATUS = ("antri", *SETTLED)
PREFERENSI = ("semua", *CHAIN, "inbox")
# What an official is told because of their post (a report to answer, a deadline passed, a
# program's quota used up): such an email has no opt-out link, since one click in a forwarded
# copy must not silence a duty. The official's own preferences still hold. A password reset
# link is no newsletter either.
DUTY_MESSAGES = frozenset({"aspirasi.diterima.sekretaris", "aspirasi.terlambat", "kuota.habis",
                           "akun.reset_diminta"})
# Messages sent whatever the person's preferences: a password reset link an admin asked for
# (an opt-out, perhaps made with someone else's forwarded link, must not lock a person out).
ALWAYS_SENT = frozenset({"akun.reset_diminta"})
# What a message's context holds that is a secret: dropped from the log once it is settled.
SECRET_CONTEXT = {"akun.reset_diminta": ("reset",)}
# Where a password reset link leads, under the platform's public address: the console's page
# that takes the new password (web/) and hands it to POST /api/v1/auth/atur-sandi.
RESET_PAGE = "/konsol/atur-sandi"


# Anyone may type any address into the public aspiration form: an address hears of at most
# this many new aspirations in a window, while messages about an aspiration it was told of
# (its progress) do not count. See usecases.admitted.
ABOUT_AN_ASPIRATION = frozenset({"aspirasi.diterima.pelapor", "aspirasi.diperbarui"})
NEW_ASPIRATIONS_PER_ADDRESS = 3
ADDRESS_WINDOW = timedelta(hours=24)
# Limits and opt-outs know an address by a keyed hash of its one spelling, so their tables hold
# no address. The key is fixed: another one would lose every opt-out made so far.
ADDRESS_HASH_KEY = b"bkpm.notifikasi.alamat.v1"
GMAIL = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class Penerima:
    """Someone to tell. `id` is stable across events, so preferences and the exactly-once key
    hold for the same person: their account (`akun:<sub>`) where they have one, else their
    record (`pengurus:<id>`, `pelapor:<aspirasi id>`, ...)."""
    id: str
    nama: str
    email: str | None = None
    telepon: str | None = None
    akun: str | None = None


def person(kind, contact):
    """A contact from another service (`id, nama, telepon?, email?, akun?`) as a recipient."""
    akun = contact.get("akun")
    return Penerima(id=f"akun:{akun}" if akun else f"{kind}:{contact['id']}", nama=contact["nama"],
                    email=contact.get("email"), telepon=contact.get("telepon"), akun=akun)


def board_and_members(contacts):
    """People of a unit (organisasi's `kontak_unit`) as recipients, each once."""
    people = [person("anggota" if c["peran"] == "anggota" else "pengurus", c) for c in contacts]
    return list({p.id: p for p in people}.values())


def board(contacts):
    """Only the unit's board, not its members."""
    return board_and_members([c for c in contacts if c["peran"] != "anggota"])


# What the unit's people were told of a scheduled activity: when and where. A correction of
# these (kegiatan.diubah) is a reschedule they hear of; one of its title or description alone
# is not worth a message.
JADWAL_KEGIATAN = frozenset({"mulai", "selesai", "lokasi"})


def rescheduled(kegiatan):
    """Whether a corrected activity (kegiatan.diubah's data) changed its time or place."""
    return bool(JADWAL_KEGIATAN & set(kegiatan["diubah"]))


class Message(NamedTuple):
    """A message as rendered for one channel (a webhook's has none of it); `berhenti_url`: the
    link with which its recipient stops this channel's messages (email only)."""
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    berhenti_url: str | None = None


class TemporaryFailure(Exception):
    """Worth another try later: a provider's 5xx, an SMTP 4xx, a timeout, a refused connection."""


class PermanentFailure(Exception):
    """Not worth another try: an invalid address or number, a provider's 4xx, an SMTP 5xx."""


def allowed(preferences, channel):
    """A person's preferences: {'semua': False} opts out of everything, {'email': False} of one
    channel; no preference means yes. Webhooks are systems, not people: always yes."""
    return channel == "webhook" or (preferences.get("semua", True) and preferences.get(channel, True))


def normalised_address(address):
    """One spelling per mailbox or phone line, so that no other spelling slips past a limit or
    an opt-out: an email in lower case without a '+tag' (and without dots before a Gmail
    host, which ignores them); a phone number as its digits with the country code (E.164
    without the '+', read by the parser the phone fields use, so '0812…', '62812…' and
    '+62 812…' are one line; these digits are what the hashes were made of before numbers were
    E.164, so no opt-out is lost). A number the parser refuses (one stored before numbers were
    checked) keeps the old rule: its digits, a leading 0 read as 62."""
    text = address.strip().lower()
    if "@" in text:
        local, _, host = text.rpartition("@")
        local = local.split("+", 1)[0] or local
        if host in GMAIL:
            local, host = local.replace(".", ""), GMAIL[0]
        return f"{local}@{host}"
    number = phone.parse(text)
    if number is not None:
        return phone.e164(number).removeprefix("+")
    digits = re.sub(r"\D", "", text)
    return f"62{digits[1:]}" if digits.startswith("0") else digits


def address_key(address):
    """HMAC-SHA256 of the address's one spelling, in hex."""
    return hmac.new(ADDRESS_HASH_KEY, normalised_address(address).encode(), hashlib.sha256).hexdigest()


def address_holder(address):
    """The preferences' key of an address: 'alamat:<hash>'."""
    return f"alamat:{address_key(address)}"


def address_holder_of(delivery):
    """Whose preferences hold beside the recipient's: those of the address a message to someone
    without an account goes to, so an opt-out made from any message to it stops them all,
    whatever record they come from. None for someone with an account, who keeps their
    account's preferences (theirs to change again), and for the inbox and webhooks."""
    if delivery["akun"] or delivery["kanal"] not in CHAIN:
        return None
    return address_holder(delivery["tujuan"])


def delivery_key(event_id, recipient_id, channel):
    """The key that makes a message exactly once per (event, recipient, channel)."""
    return f"{event_id}:{recipient_id}:{channel}"


# What a delivery says about its message, whichever channel carries it.
MESSAGE_FIELDS = ("event_id", "event_type", "wilayah", "penerima", "nama", "akun", "pesan", "konteks")


def next_in_chain(delivery):
    """(key, delivery) of the channel that takes over when this delivery is done without
    getting through, or None at the end of its chain."""
    if not delivery["cadangan"]:
        return None
    (channel, address), *rest = delivery["cadangan"]
    following = {**{name: delivery[name] for name in MESSAGE_FIELDS}, "kanal": channel, "tujuan": address,
                 "cadangan": rest}
    return delivery_key(delivery["event_id"], delivery["penerima"], channel), following


def shown_name(delivery):
    """The name the delivery log shows: citizens (reporters, aid recipients) masked, since the
    log's readers need not know who reported or received what; board members and members whole."""
    if delivery["penerima"].startswith(("pelapor:", "penerima:")):
        return mask_middle(delivery["nama"], 2, 0)
    return delivery["nama"]


def fallback_chain(person, usable):
    """The channels to try for one message, in order, with the address each uses: WhatsApp,
    then SMS, then email, as far as the person has an address and the channel is usable (set
    up, and with a template for this message)."""
    addresses = {"whatsapp": person.telepon, "sms": person.telepon, "email": person.email}
    return [(channel, addresses[channel]) for channel in CHAIN if addresses[channel] and channel in usable]


def first_address(person):
    """(channel, address) of the first channel of the chain the person has an address for, to
    log that they could not be reached when no usable channel has one; None without any."""
    return next(((channel, address) for channel, address in fallback_chain(person, CHAIN)), None)


def retry_delay(attempts, base_seconds, cap_seconds):
    """The pause after the `attempts`-th failed try: doubling from `base_seconds`, at most
    `cap_seconds`."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))


# Webhooks

def wants(webhook, event):
    """Whether a registered webhook asked for this event: its type matches one of the filter's
    patterns (`kegiatan.*`, `aspirasi.diterima`, `*`), and the event is within the webhook's
    area (a national webhook hears everything, an area's only what happens inside it)."""
    if not any(fnmatchcase(event["type"], pattern) for pattern in webhook["jenis"]):
        return False
    return within(event.get("wilayah"), webhook.get("wilayah"))


def plain_address(text):
    """An IP address as the networks see it ('::ffff:127.0.0.1' is 127.0.0.1, a zone id
    dropped); ValueError for a host name."""
    address = ipaddress.ip_address(text.split("%")[0])
    return address.ipv4_mapped or address if address.version == 6 else address


def in_blocked_network(address, blocked_networks):
    """Whether the IP address `address` (text) lies in one of `blocked_networks`; ValueError
    for a host name."""
    return any(plain_address(address) in network for network in blocked_networks)


SIGNATURE_HEADER = "BKPM-Signature"


def signature(secret, timestamp, body):
    """The `BKPM-Signature` header of a webhook delivery: `t=<unix seconds>,v1=<hex>`, where the
    hex is HMAC-SHA256 with the webhook's secret over `<t>.<body>`. The timestamp is signed too,
    so a receiver that refuses old timestamps cannot be fed a recorded delivery again."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
