"""The area reference's search by name, on a database of its own: read from organisasi's memory
(services/organisasi/repository.py), and read again once an import changed the reference."""
from services.organisasi.commands import import_wilayah
from services.organisasi.repository import OrganisasiRepository
from tests.support import PROVINCES_CSV


def names(repository, text, induk=None):
    return sorted(area["nama"] for area in repository.wilayah_named(text, induk))


def test_a_search_sees_what_an_import_renamed_added_and_retired(isolated):
    _, db = isolated
    repository = OrganisasiRepository(db, unit_of_work=None)
    assert names(repository, "SUMATERA") == ["Sumatera Barat", "Sumatera Selatan", "Sumatera Utara"]
    revised = [line for line in PROVINCES_CSV if not line.startswith("16,")]  # Sumatera Selatan retired
    import_wilayah(db, [*(line.replace("Sumatera Utara", "Sumatra Utara") for line in revised), "11.01,Simeulue"])
    assert names(repository, "sumatera") == ["Sumatera Barat"]
    assert names(repository, "sumatra") == ["Sumatra Utara"]
    assert names(repository, "simeulue") == ["Simeulue"]
    assert names(repository, "simeulue", induk="11") == ["Simeulue"]
    assert names(repository, "simeulue", induk="12") == []
