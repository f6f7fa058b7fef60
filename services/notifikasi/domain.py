"""Rules of the notifikasi domain, in plain Python: who hears what, over which channel, and
when a failure is worth another try."""
from dataclasses import dataclass

KANAL = ("email", "sms", "whatsapp", "inbox")
STATUS = ("antri", "terkirim", "gagal", "dilewati")


@dataclass(frozen=True)
class Penerima:
    """Someone to tell: `id` is stable across events (e.g. 'pengurus:<id>'), so preferences and
    the exactly-once key hold for the same person."""
    id: str
    nama: str
    email: str | None = None
    telepon: str | None = None


class TemporaryFailure(Exception):
    """Worth another try later: a provider's 5xx, an SMTP 4xx, a timeout, a refused connection."""


class PermanentFailure(Exception):
    """Not worth another try: an invalid address or number, a provider's 4xx, an SMTP 5xx."""


def board_and_members(contacts):
    """People of a unit (from organisasi) as recipients."""
    return [Penerima(id=f"{'anggota' if c['peran'] == 'anggota' else 'pengurus'}:{c['id']}", nama=c["nama"],
                     email=c.get("email"), telepon=c.get("telepon")) for c in contacts]


def allowed(preferences, channel):
    """A person's preferences: {'semua': False} opts out of everything, {'email': False} of one
    channel; no preference means yes."""
    return preferences.get("semua", True) and preferences.get(channel, True)


def delivery_key(event_id, recipient_id, channel):
    """The key that makes a message exactly once per (event, recipient, channel)."""
    return f"{event_id}:{recipient_id}:{channel}"


def fallback_chain(person, configured):
    """The channels to try for one message, in order, with the address each uses: WhatsApp,
    then SMS, then email, as far as the person has an address and the channel is configured."""
    chain = [("whatsapp", person.telepon), ("sms", person.telepon), ("email", person.email)]
    return [(channel, address) for channel, address in chain if address and channel in configured]
