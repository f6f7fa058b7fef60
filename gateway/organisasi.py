"""Units, their board (pengurus) and members (anggota): the organisasi service over HTTP."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call, created, read
from gateway.corrections import correction, if_match
from services.common.schema import PageQuerySchema
from services.organisasi.schemas import (AnggotaBaruSchema, AnggotaPageSchema, AnggotaSchema, AnggotaUbahSchema,
                                         PengurusBaruSchema, PengurusPageSchema, PengurusSchema, PengurusUbahSchema,
                                         RiwayatQuerySchema, SelesaiSchema, StrukturSchema, UnitBaruSchema,
                                         UnitPageSchema, UnitQuerySchema, UnitSchema, UnitUbahSchema)

blp = Blueprint("units", __name__, url_prefix="/api/v1/units",
                description="Unit BKPM di empat tingkat, pengurus dan anggotanya.")


@blp.route("")
class Units(MethodView):
    @blp.arguments(UnitQuerySchema, location="query")
    @blp.documents(200, UnitPageSchema, 400, 403)
    def get(self, query):
        """Daftar unit, disaring menurut tingkat, induk dan awalan kode wilayah."""
        return read("organisasi", "list_unit", query)

    @blp.arguments(UnitBaruSchema)
    @blp.documents(201, UnitSchema, 400, 403, 409)
    def post(self, data):
        """Bentuk unit baru; induknya diturunkan dari kode wilayah dan harus sudah ada."""
        return created(call("organisasi", "bentuk_unit", data), "/api/v1/units/{id}")


@blp.route("/<unit_id>")
class Unit(MethodView):
    @blp.documents(200, UnitSchema, 403, 404)
    def get(self, unit_id):
        """Satu unit."""
        return read("organisasi", "get_unit", unit_id)

    @correction(blp, UnitUbahSchema)
    @blp.documents(200, UnitSchema, 400, 403, 404, 412, 428)
    def patch(self, data, unit_id):
        """Koreksi nama unit (JSON merge patch, dengan If-Match)."""
        return call("organisasi", "ubah_unit", unit_id, data, if_match())


@blp.route("/<unit_id>/struktur")
class Struktur(MethodView):
    @blp.documents(200, StrukturSchema, 403, 404)
    def get(self, unit_id):
        """Struktur unit: pengurus aktif dan anggota aktif."""
        return read("organisasi", "get_struktur", unit_id)


@blp.route("/<unit_id>/subtree")
class Subtree(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.documents(200, UnitPageSchema, 403, 404)
    def get(self, query, unit_id):
        """Unit ini dan semua unit di bawahnya."""
        return read("organisasi", "list_subunit", unit_id, query)


@blp.route("/<unit_id>/pengurus")
class Pengurus(MethodView):
    @blp.arguments(RiwayatQuerySchema, location="query")
    @blp.documents(200, PengurusPageSchema, 400, 403, 404)
    def get(self, query, unit_id):
        """Riwayat pengurus unit, terbaru lebih dahulu."""
        return read("organisasi", "list_pengurus", unit_id, query)

    @blp.arguments(PengurusBaruSchema)
    @blp.documents(201, PengurusSchema, 400, 403, 404, 409)
    def post(self, data, unit_id):
        """Angkat pengurus; satu pemegang aktif per jabatan (409 bila masih terisi)."""
        return created(call("organisasi", "angkat_pengurus", unit_id, data), "/api/v1/units/{unit_id}/pengurus/{id}")


@blp.route("/<unit_id>/pengurus/<pengurus_id>")
class SatuPengurus(MethodView):
    @blp.documents(200, PengurusSchema, 403, 404)
    def get(self, unit_id, pengurus_id):
        """Satu pengurus unit, yang aktif maupun riwayat."""
        return read("organisasi", "get_pengurus", unit_id, pengurus_id)

    @correction(blp, PengurusUbahSchema)
    @blp.documents(200, PengurusSchema, 400, 403, 404, 409, 412, 428)
    def patch(self, data, unit_id, pengurus_id):
        """Koreksi kontak atau akhir masa jabatan pengurus (JSON merge patch, dengan If-Match).

        Hanya pengurus aktif: yang sudah berhenti adalah riwayat dan tidak dikoreksi (409). Jabatan, nama atau
        tanggal mulai yang salah: berhentikan, lalu angkat dengan data yang benar."""
        return call("organisasi", "ubah_pengurus", unit_id, pengurus_id, data, if_match())


@blp.route("/<unit_id>/pengurus/<pengurus_id>/berhenti")
class PengurusBerhenti(MethodView):
    @blp.arguments(SelesaiSchema, required=False)
    @blp.documents(200, PengurusSchema, 400, 403, 404, 409)
    def post(self, data, unit_id, pengurus_id):
        """Berhentikan pengurus; riwayatnya tetap tersimpan."""
        return call("organisasi", "berhentikan_pengurus", unit_id, pengurus_id, data)


@blp.route("/<unit_id>/anggota")
class Anggota(MethodView):
    @blp.arguments(RiwayatQuerySchema, location="query")
    @blp.documents(200, AnggotaPageSchema, 400, 403, 404)
    def get(self, query, unit_id):
        """Anggota unit, termasuk yang sudah keluar kecuali disaring dengan `aktif`."""
        return read("organisasi", "list_anggota", unit_id, query)

    @blp.arguments(AnggotaBaruSchema)
    @blp.documents(201, AnggotaSchema, 400, 403, 404)
    def post(self, data, unit_id):
        """Tambah anggota unit."""
        return created(call("organisasi", "tambah_anggota", unit_id, data), "/api/v1/units/{unit_id}/anggota/{id}")


@blp.route("/<unit_id>/anggota/<anggota_id>")
class SatuAnggota(MethodView):
    @blp.documents(200, AnggotaSchema, 403, 404)
    def get(self, unit_id, anggota_id):
        """Satu anggota unit, termasuk yang sudah keluar."""
        return read("organisasi", "get_anggota", unit_id, anggota_id)

    @correction(blp, AnggotaUbahSchema)
    @blp.documents(200, AnggotaSchema, 400, 403, 404, 409, 412, 428)
    def patch(self, data, unit_id, anggota_id):
        """Koreksi kontak anggota (JSON merge patch, dengan If-Match).

        Hanya anggota aktif: yang sudah keluar adalah riwayat dan tidak dikoreksi (409)."""
        return call("organisasi", "ubah_anggota", unit_id, anggota_id, data, if_match())

    @blp.arguments(SelesaiSchema, required=False)
    @blp.documents(200, AnggotaSchema, 400, 403, 404, 409)
    def delete(self, data, unit_id, anggota_id):
        """Anggota keluar; datanya tetap tersimpan sebagai riwayat."""
        return call("organisasi", "keluarkan_anggota", unit_id, anggota_id, data)
