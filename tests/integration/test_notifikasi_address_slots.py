"""The allowance of an address for new aspirations, in notifikasi's MongoDB storage: senders
running at once never give out more than its slots, an aspiration it was told of takes none,
slots free up a window after they were taken, and retention forgets both. Only the database
(SecantusDB), no services."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from services.common.mongo import connect, ensure_indexes
from services.notifikasi.repository import ALAMAT_DIBERITAHU, JATAH_ALAMAT, NotifikasiRepository

WINDOW = timedelta(hours=24)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def repository(mongo_uri):
    client = connect(mongo_uri)
    db = client[f"slots_{uuid.uuid4().hex[:8]}"]
    ensure_indexes(db, NotifikasiRepository.INDEXES)
    yield NotifikasiRepository(db, None)
    client.drop_database(db.name)
    client.close()


def test_senders_at_once_give_an_address_no_more_than_its_slots(repository):
    with ThreadPoolExecutor(12) as pool:
        admitted = list(pool.map(lambda n: repository.admit("hash-a", f"pelapor:asp-{n}", NOW, 3, WINDOW), range(24)))
    assert admitted.count(True) == 3
    told = [n for n, yes in enumerate(admitted) if yes]
    assert all(repository.admit("hash-a", f"pelapor:asp-{n}", NOW, 3, WINDOW) for n in told)  # takes no slot
    assert repository.db[JATAH_ALAMAT].count_documents({}) == 3
    assert repository.admit("hash-b", "pelapor:asp-0", NOW, 3, WINDOW)  # another address, its own slots


def test_a_slot_frees_up_a_window_after_it_was_taken_and_retention_forgets_what_is_old(repository):
    for n, hours in enumerate((0, 1, 2)):
        assert repository.admit("hash-a", f"pelapor:asp-{n}", NOW + timedelta(hours=hours), 3, WINDOW)
    assert not repository.admit("hash-a", "pelapor:asp-9", NOW + WINDOW - timedelta(seconds=1), 3, WINDOW)
    assert repository.admit("hash-a", "pelapor:asp-9", NOW + WINDOW, 3, WINDOW)
    assert not repository.admit("hash-a", "pelapor:asp-10", NOW + WINDOW, 3, WINDOW)

    repository.forget_older_than(NOW + timedelta(hours=1, minutes=30))
    assert sorted(d["_id"] for d in repository.db[ALAMAT_DIBERITAHU].find()) == [
        "hash-a:pelapor:asp-2", "hash-a:pelapor:asp-9"]
    assert repository.db[JATAH_ALAMAT].count_documents({}) == 3  # all still held
    repository.forget_older_than(NOW + WINDOW + timedelta(hours=1, minutes=30))
    assert repository.db[JATAH_ALAMAT].count_documents({}) == 2  # the slot asp-1 held is free since NOW + 25 h
