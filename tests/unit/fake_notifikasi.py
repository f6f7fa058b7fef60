"""In-memory stand-ins for what notifikasi's use cases need: its repository (on a clock the test
moves), the other services it asks for contacts, and a sender that records what would leave
the platform or fails as a test tells it to."""
import copy
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from services.notifikasi.domain import SETTLED
from services.notifikasi.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from tests.unit.fakes import FakeStore

PENGIRIMAN, PREFERENSI, KOTAK_MASUK, WEBHOOK, TAUTAN_BERHENTI, ALAMAT_DIBERITAHU = (
    "pengiriman", "preferensi", "kotak_masuk", "webhook", "tautan_berhenti", "alamat_diberitahu")
START = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


class FakeClock:
    """The time it is in a test; `advance(seconds)` moves it on."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


def newest_first(record):
    return -record["dibuat"].timestamp(), record["id"]


class FakeNotifikasiRepository(FakeStore):
    """services.notifikasi.repository.NotifikasiRepository in memory, with its time from `clock`."""

    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    def __init__(self, clock=None):
        super().__init__()
        self.clock = clock or FakeClock()

    # The delivery log

    def claim(self, key, entry, tx=None):
        if key in self.tables[PENGIRIMAN]:
            return False
        stamp = self.clock()
        self.put(PENGIRIMAN, {"status": "antri", "percobaan": 0, "galat_terakhir": None, "berikutnya": stamp,
                              "dibuat": stamp, "diperbarui": stamp, **entry, "id": key})
        return True

    def _waiting(self, delivery):
        return delivery["status"] == "antri" and delivery["berikutnya"] <= self.clock()

    def take(self, key, lease_until):
        delivery = self.tables[PENGIRIMAN].get(key)
        if delivery is None or not self._waiting(delivery):
            return None
        delivery.update(berikutnya=lease_until, percobaan=delivery["percobaan"] + 1)
        return copy.deepcopy(delivery)

    def due(self, limit=100):
        waiting = sorted(self.rows(PENGIRIMAN, self._waiting), key=lambda delivery: delivery["berikutnya"])
        return [delivery["id"] for delivery in waiting[:limit]]

    def logged(self, key):
        return key in self.tables[PENGIRIMAN]

    def settle(self, tx, taken, status, error=None, tried=True, next_try=None, forget=()):
        delivery = self.tables[PENGIRIMAN].get(taken["id"])
        if delivery is None or delivery["status"] != "antri" or delivery["berikutnya"] != taken["berikutnya"]:
            return None
        delivery.update(status=status, galat_terakhir=error, berikutnya=next_try, diperbarui=self.clock(),
                        percobaan=delivery["percobaan"] - (0 if tried else 1))
        for name in forget:
            delivery["konteks"].pop(name, None)
        return copy.deepcopy(delivery)

    def forget_older_than(self, cutoff):
        deliveries = [key for key, delivery in self.tables[PENGIRIMAN].items()
                      if delivery["status"] in SETTLED and delivery["dibuat"] < cutoff]
        messages = [key for key, message in self.tables[KOTAK_MASUK].items() if message["dibuat"] < cutoff]
        told = [key for key, record in self.tables[ALAMAT_DIBERITAHU].items() if record["dibuat"] < cutoff]
        for table, keys in ((PENGIRIMAN, deliveries), (KOTAK_MASUK, messages), (ALAMAT_DIBERITAHU, told)):
            for key in keys:
                del self.tables[table][key]
        return len(deliveries), len(messages)

    def find_deliveries(self, area, filters, page, per_page):
        def wanted(delivery):
            return self.in_area(delivery["wilayah"], area) and all(delivery.get(n) == v for n, v in filters.items())
        return self.page(PENGIRIMAN, wanted, newest_first, page, per_page)

    def forget_person(self, recipient_id, reason):
        for delivery in self.tables[PENGIRIMAN].values():
            if delivery["penerima"] == recipient_id:
                if delivery["status"] == "antri":
                    delivery.update(status="dilewati", berikutnya=None)
                delivery.update(tujuan=None, cadangan=[], nama="", konteks={}, galat_terakhir=reason,
                                diperbarui=self.clock())
        self.tables[PREFERENSI].pop(recipient_id, None)
        for key in [key for key, told in self.tables[ALAMAT_DIBERITAHU].items() if told["penerima"] == recipient_id]:
            del self.tables[ALAMAT_DIBERITAHU][key]

    # What addresses were told of: the aspirations each heard of, when (the real one holds
    # slots; counting those heard of within the window is the same rule)

    def admit(self, address_key, case, now, slots, window):
        told = f"{address_key}:{case}"
        if told in self.tables[ALAMAT_DIBERITAHU]:
            return True
        recent = self.rows(ALAMAT_DIBERITAHU, lambda record: record["alamat"] == address_key
                           and record["dibuat"] > now - window)
        if len(recent) >= slots:
            return False
        self.put(ALAMAT_DIBERITAHU, {"id": told, "alamat": address_key, "penerima": case, "dibuat": now})
        return True

    # Preferences

    def preferences(self, recipient_id):
        return self.preference_record(recipient_id)["kanal"]

    def preference_record(self, recipient_id):
        record = self.get(PREFERENSI, recipient_id) or {}
        return {"penerima": recipient_id, "kanal": record.get("kanal", {}), "diperbarui": record.get("diperbarui")}

    def set_preferences(self, recipient_id, kanal, by):
        record = self.get(PREFERENSI, recipient_id) or {"id": recipient_id, "kanal": {}}
        self.put(PREFERENSI, {**record, "kanal": {**record["kanal"], **kanal}, "diperbarui": self.clock(), "oleh": by})
        return self.preference_record(recipient_id)

    def opt_out_token(self, recipient_id, channel):
        link = next((link for link in self.tables[TAUTAN_BERHENTI].values()
                     if (link["penerima"], link["kanal"]) == (recipient_id, channel)), None)
        if link is None:
            link = self.put(TAUTAN_BERHENTI, {"id": self.new_id("token"), "penerima": recipient_id, "kanal": channel,
                                              "dibuat": self.clock()})
        return link["id"]

    def opt_out_link(self, token):
        link = self.get(TAUTAN_BERHENTI, token)
        return (link["penerima"], link["kanal"]) if link else None

    # The inbox

    def put_in_inbox(self, tx, key, message):
        if key not in self.tables[KOTAK_MASUK]:
            self.put(KOTAK_MASUK, {**message, "id": key, "dibaca": None, "dibuat": self.clock()})

    def inbox(self, akun, read, page, per_page):
        def wanted(message):
            return message["akun"] == akun and (read is None or (message["dibaca"] is not None) == read)
        return self.page(KOTAK_MASUK, wanted, newest_first, page, per_page)

    def mark_read(self, akun, message_id):
        message = self.tables[KOTAK_MASUK].get(message_id)
        if message is None or message["akun"] != akun:
            return None
        if message["dibaca"] is None:
            message["dibaca"] = self.clock()
        return copy.deepcopy(message)

    # Webhooks

    def insert_webhook(self, tx, webhook):
        return self.put(WEBHOOK, {"id": self.new_id("webhook"), "dibuat": self.clock(), **webhook})

    def webhooks(self):
        return sorted(self.rows(WEBHOOK), key=lambda webhook: webhook["dibuat"])

    def webhook(self, webhook_id):
        return self.get(WEBHOOK, webhook_id)

    def delete_webhook(self, webhook_id):
        return self.tables[WEBHOOK].pop(webhook_id, None) is not None


class FakeContacts:
    """Another service answering one lookup of a contact by id, from `contacts` that a test
    fills: kegiatan's `get_kontak_pelapor` (by aspiration), bantuan's `get_kontak_penerima`."""

    def __init__(self, service_name, method):
        self.service_name = service_name
        self.contacts = {}
        setattr(self, method, lambda record_id: copy.deepcopy(self.contacts.get(record_id)))


class FakeSender:
    """What would leave the platform, as `sent` [(channel, address, message, webhook)]; a
    failure planned with `fail(channel, error, times)` is raised by that many tries over the
    channel, and `during(action)` runs `action(delivery)` while a message is on its way."""

    def __init__(self):
        self.sent = []
        self.failures = defaultdict(list)
        self.action = None

    def fail(self, channel, error, times=1):
        self.failures[channel].extend([error] * times)

    def during(self, action):
        self.action = action

    def __call__(self, delivery, message, webhook):
        if self.action:
            self.action(delivery)
        if self.failures[delivery["kanal"]]:
            raise self.failures[delivery["kanal"]].pop(0)
        self.sent.append((delivery["kanal"], delivery["tujuan"], message, webhook))

    def to(self, address):
        return [(channel, message) for channel, to, message, _ in self.sent if to == address]
