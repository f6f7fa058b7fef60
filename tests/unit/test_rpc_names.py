"""RPC method names are a contract (docs/architecture.md, "RPC names"): `get_` answers one thing
or None, `list_` several, and a write is an Indonesian verb in its base form followed by what it
acts on, each verb with one meaning everywhere."""
import inspect

import pytest
from nameko.rpc import Rpc

from services.akun.service import AkunService
from services.bantuan.service import BantuanService
from services.kegiatan.service import KegiatanService
from services.notifikasi.service import NotifikasiService
from services.organisasi.service import OrganisasiService

READS = {"get", "list"}
# Each verb of a write, and what it means: one meaning per verb, in every service.
WRITES = {
    "angkat": "appoint to a board position", "berhentikan": "end a board appointment",
    "tambah": "add to a collection", "keluarkan": "end a membership", "bentuk": "form a unit",
    "buat": "create", "mulai": "start", "selesaikan": "finish", "batalkan": "cancel",
    "isi": "fill in (a survey)", "kirim": "send (an aspiration)", "tindaklanjuti": "follow up",
    "aktifkan": "activate", "tutup": "close", "daftarkan": "register", "impor": "import in bulk",
    "catat": "record", "baca": "mark read", "atur": "set", "hentikan": "stop", "hapus": "delete",
    "ubah": "change", "ganti": "replace", "perbarui": "renew", "akhiri": "end", "minta": "ask for",
    "serahkan": "hand over (once)",
}
SERVICES = (OrganisasiService, KegiatanService, BantuanService, NotifikasiService, AkunService)


def rpc_methods(service_class):
    return sorted(name for name, member in inspect.getmembers(service_class, inspect.isfunction)
                  if any(isinstance(entry, Rpc) for entry in getattr(member, "nameko_entrypoints", ())))


ALL = [(cls.name, method) for cls in SERVICES for method in rpc_methods(cls)]


def test_every_service_has_its_rpc_methods_walked():
    assert {service for service, _ in ALL} == {"organisasi", "kegiatan", "bantuan", "notifikasi", "akun"}
    assert len(ALL) > 60


@pytest.mark.parametrize("service,method", ALL, ids=[f"{s}.{m}" for s, m in ALL])
def test_the_rpc_name_says_what_the_method_does(service, method):
    if method == "ping":  # the readiness probe of every service
        return
    verb, _, subject = method.partition("_")
    assert subject, f"{service}.{method}: a name is <verb>_<what it acts on>"
    assert verb in READS or verb in WRITES, (
        f"{service}.{method}: '{verb}' is neither get_/list_ nor a verb of the table in docs/architecture.md")


def test_no_verb_means_two_things():
    # 'daftar' meant 'list' in two services and 'register' in two others.
    assert not READS & set(WRITES)
    assert "daftar" not in WRITES
