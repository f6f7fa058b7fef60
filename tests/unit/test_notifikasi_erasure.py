"""notifikasi obeys an erasure made where a person's record is kept (aspirasi.pelapor_dihapus,
penerima.dihapus): the delivery log keeps status and times but no address, name or context of
theirs, a message still waiting is not sent, and their preferences and the aspirations their
address was told of go. Over notifikasi's in-memory store."""
import pytest

from services.notifikasi import usecases
from services.notifikasi.domain import TemporaryFailure
from tests.unit.fake_notifikasi import ALAMAT_DIBERITAHU, PREFERENSI
from tests.unit.fakes import ADMIN
from tests.unit.test_notifikasi_usecases import PENYALURAN, PHONE, World, event, report

EMAIL = "pelapor@contoh.id"


@pytest.fixture
def world():
    return World()


def erased(world, kind, record_id, event_type):
    usecases.forget_person(kind, event(event_type, {"id": record_id, "kode_wilayah": "31.71.01.1001"}), world.store)


def test_an_erased_reporter_leaves_no_address_name_or_context_in_the_log_and_hears_nothing_more(world):
    world.sender.fail("whatsapp", TemporaryFailure("provider sibuk"))  # waits for a retry
    report(world, "e-1", "asp-1", telepon=PHONE, email=EMAIL)
    report(world, "e-2", "asp-2", email="orang.lain@contoh.id")
    world.store.set_preferences("pelapor:asp-1", {"sms": False}, "admin")
    sekretaris = [d for d in world.log() if not d["penerima"].startswith("pelapor:")]
    before = {d["id"]: (d["status"], d["dibuat"]) for d in world.log(penerima="pelapor:asp-1")}
    assert [status for status, _ in before.values()] == ["antri"]

    erased(world, "pelapor", "asp-1", "aspirasi.pelapor_dihapus")
    for delivery in world.log(penerima="pelapor:asp-1"):
        assert PHONE not in str(delivery) and EMAIL not in str(delivery)
        assert (delivery["tujuan"], delivery["nama"], delivery["konteks"], delivery["cadangan"]) == (None, "", {}, [])
        assert (delivery["status"], delivery["galat_terakhir"]) == ("dilewati", usecases.ERASED)
        assert delivery["dibuat"] == before[delivery["id"]][1]
    world.later(3600)
    assert [to for _, to, _, _ in world.sender.sent if to in (PHONE, EMAIL)] == []
    assert world.store.get(PREFERENSI, "pelapor:asp-1") is None
    assert [told["penerima"] for told in world.store.rows(ALAMAT_DIBERITAHU)] == ["pelapor:asp-2"]
    # Nobody else's deliveries change; the operators' log still lists the erased one, empty.
    assert [d for d in world.log() if not d["penerima"].startswith("pelapor:")] == sekretaris
    shown = usecases.list_pengiriman(ADMIN, {"page": 1, "per_page": 50}, world.store)["items"]
    assert [d["tujuan"] for d in shown if d["penerima"] == "pelapor:asp-1"] == [None]


def test_an_erased_aid_recipient_keeps_no_phone_in_the_log_and_erasing_again_changes_nothing(world):
    world.bantuan.contacts["pn-1"] = {"id": "pn-1", "nama": "Ibu Ani Lestari", "telepon": PHONE}
    usecases.tell_recipient(event("penyaluran.dicatat", PENYALURAN, source="/bkpm/bantuan"), world.store,
                            world.bantuan, world.postman)
    [sent] = world.log(penerima="penerima:pn-1")
    assert sent["status"] == "terkirim"
    erased(world, "penerima", "pn-1", "penerima.dihapus")
    [kept] = world.log(penerima="penerima:pn-1")
    assert PHONE not in str(kept) and "Ani" not in str(kept) and kept["status"] == "terkirim"
    erased(world, "penerima", "pn-1", "penerima.dihapus")
    assert world.log(penerima="penerima:pn-1") == [kept]
