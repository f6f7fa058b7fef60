"""Social aid (bantuan): programs, recipients and distributions over HTTP."""
from flask import request
from flask.views import MethodView

from gateway.blueprint import Blueprint, call
from services.bantuan.schemas import (AuditPageSchema, AuditSchema, BatalPenyaluranSchema, CariPenerimaSchema,
                                      HapusPenerimaSchema, ImporLaporanSchema, PenerimaBaruSchema, PenerimaPageSchema,
                                      PenerimaQuerySchema, PenerimaSchema, PenyaluranBaruSchema, PenyaluranPageSchema,
                                      PenyaluranQuerySchema, PenyaluranSchema, ProgramBaruSchema, ProgramPageSchema,
                                      ProgramQuerySchema, ProgramSchema, RekapProgramSchema)
from services.common.errors import InvalidInput
from services.common.schema import PageQuerySchema

# A file of thousands of rows takes longer than an ordinary call, and is larger than the 1 MiB
# any other body may be: 100,000 recipients are about 10 MiB.
IMPORT_TIMEOUT = 120
IMPORT_MAX_BYTES = 32 * 1024 * 1024

blp = Blueprint("bantuan", __name__, url_prefix="/api/v1/bantuan",
                description="Program bantuan sosial, penerima dan penyaluran yang adil.")


@blp.route("/program")
class Program(MethodView):
    @blp.arguments(ProgramQuerySchema, location="query")
    @blp.documents(200, ProgramPageSchema, 400)
    def get(self, query):
        """Program yang menyasar wilayah Anda."""
        return call("bantuan", "list_program", query)

    @blp.arguments(ProgramBaruSchema)
    @blp.documents(201, ProgramSchema, 400, 403)
    def post(self, data):
        """Buat program (berstatus draf)."""
        return call("bantuan", "buat_program", data), 201


@blp.route("/program/<program_id>")
class SatuProgram(MethodView):
    @blp.documents(200, ProgramSchema, 403, 404)
    def get(self, program_id):
        """Satu program, dengan kuota tersalur dan sisa."""
        return call("bantuan", "get_program", program_id)


@blp.route("/program/<program_id>/aktifkan")
class Aktifkan(MethodView):
    @blp.documents(200, ProgramSchema, 403, 404, 409)
    def post(self, program_id):
        """Aktifkan program draf."""
        return call("bantuan", "aktifkan_program", program_id)


@blp.route("/program/<program_id>/tutup")
class Tutup(MethodView):
    @blp.documents(200, ProgramSchema, 403, 404, 409)
    def post(self, program_id):
        """Tutup program aktif."""
        return call("bantuan", "tutup_program", program_id)


@blp.route("/program/<program_id>/rekap")
class Rekap(MethodView):
    @blp.documents(200, RekapProgramSchema, 403, 404)
    def get(self, program_id):
        """Kuota, tersalur, sisa, per desa/kelurahan dan per jenis bukti."""
        return call("bantuan", "get_rekap_program", program_id)


@blp.route("/penerima")
class Penerima(MethodView):
    @blp.arguments(PenerimaQuerySchema, location="query")
    @blp.documents(200, PenerimaPageSchema, 400, 403)
    def get(self, query):
        """Penerima di wilayah Anda (NIK, No. KK dan telepon disamarkan)."""
        return call("bantuan", "list_penerima", query)

    @blp.arguments(PenerimaBaruSchema)
    @blp.documents(201, PenerimaSchema, 400, 403, 409)
    def post(self, data):
        """Daftarkan penerima; satu data per NIK."""
        return call("bantuan", "daftarkan_penerima", data), 201


@blp.route("/penerima/impor")
class Impor(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})
    @blp.documents(200, ImporLaporanSchema, 400, 403)
    def post(self):
        """Impor penerima dari CSV (nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,alamat,telepon);
        laporan per baris; mengulang berkas yang sama tidak menambah apa pun."""
        request.max_content_length = IMPORT_MAX_BYTES
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({"csv": ["Berkas harus berenkode UTF-8 (simpan sebagai 'CSV UTF-8')."]}) from None
        return call("bantuan", "impor_penerima", text, timeout=IMPORT_TIMEOUT)


@blp.route("/penerima/cari")
class CariPenerima(MethodView):
    @blp.arguments(CariPenerimaSchema)
    @blp.documents(200, PenerimaPageSchema, 400, 403)
    def post(self, data):
        """Cari penerima di wilayah Anda menurut NIK atau No. KK: isi tepat salah satunya, di badan permintaan
        (tidak pernah di URL). Disamarkan seperti daftar penerima; setiap penerima yang ditemukan tercatat di
        catatan akses data pribadi."""
        return call("bantuan", "list_penerima_menurut_nomor", data)


@blp.route("/penerima/<penerima_id>")
class SatuPenerima(MethodView):
    @blp.documents(200, PenerimaSchema, 403, 404)
    def get(self, penerima_id):
        """Satu penerima (NIK utuh hanya untuk pencatat di wilayahnya)."""
        return call("bantuan", "get_penerima", penerima_id)


@blp.route("/penerima/<penerima_id>/hapus")
class HapusPenerima(MethodView):
    @blp.arguments(HapusPenerimaSchema)
    @blp.documents(200, PenerimaSchema, 400, 403, 404, 409)
    def post(self, data, penerima_id):
        """Hapus data pribadi penerima atas permintaannya (admin wilayahnya); penyalurannya tetap
        tercatat tanpa identitasnya, sehingga kuota dan jejak audit tetap utuh."""
        return call("bantuan", "hapus_penerima", penerima_id, data)


@blp.route("/penyaluran")
class Penyaluran(MethodView):
    @blp.arguments(PenyaluranQuerySchema, location="query")
    @blp.documents(200, PenyaluranPageSchema, 400)
    def get(self, query):
        """Penyaluran di wilayah Anda."""
        return call("bantuan", "list_penyaluran", query)

    @blp.arguments(PenyaluranBaruSchema)
    @blp.documents(201, PenyaluranSchema, 400, 403, 404, 409)
    def post(self, data):
        """Catat penyaluran: sekali per KK per program, dalam kuota, tanpa program eksklusif yang beririsan."""
        return call("bantuan", "catat_penyaluran", data), 201


@blp.route("/penyaluran/<penyaluran_id>/batal")
class BatalPenyaluran(MethodView):
    @blp.arguments(BatalPenyaluranSchema)
    @blp.documents(200, PenyaluranSchema, 400, 403, 404, 409)
    def post(self, data, penyaluran_id):
        """Batalkan penyaluran; kuota dan jatah KK kembali; riwayat tetap ada."""
        return call("bantuan", "batalkan_penyaluran", penyaluran_id, data)


@blp.route("/audit/impor")
class AuditImpor(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.documents(200, AuditPageSchema, 400, 403)
    def get(self, query):
        """Jejak audit impor penerima di wilayah Anda, terbaru dahulu: siapa, kapan, berapa baris diterima
        dan ditolak."""
        return call("bantuan", "list_jejak_audit_impor", query)


@blp.route("/audit/<entitas_id>")
class Audit(MethodView):
    @blp.documents(200, AuditSchema(many=True), 403, 404)
    def get(self, entitas_id):
        """Jejak audit: siapa melakukan apa dan kapan, dengan nilai lama dan baru."""
        return call("bantuan", "list_jejak_audit", entitas_id)
