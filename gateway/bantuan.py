"""Social aid (bantuan): programs, recipients and distributions over HTTP."""
from flask import request, url_for
from flask.views import MethodView

from gateway.blueprint import Blueprint, call, created
from gateway.corrections import correction, if_match
from services.bantuan.schemas import (AuditPageSchema, AuditSchema, BatalPenyaluranSchema, CariPenerimaSchema,
                                      HapusPenerimaSchema, PekerjaanSchema, PenerimaBaruSchema, PenerimaPageSchema,
                                      PenerimaQuerySchema, PenerimaSchema, PenyaluranBaruSchema, PenyaluranPageSchema,
                                      PenerimaUbahSchema, PenyaluranQuerySchema, PenyaluranSchema, ProgramBaruSchema,
                                      ProgramPageSchema, ProgramQuerySchema, ProgramSchema, ProgramUbahSchema,
                                      RekapProgramQuerySchema, RekapProgramSchema)
from services.bantuan.domain import csv_upload
from services.common.errors import InvalidInput
from services.common.schema import RULE_KEY, PageQuerySchema

# A file of recipients is larger than the 1 MiB any other body may be (100,000 recipients are
# about 10 MiB): it is read as a stream and sent on in parts (domain.csv_parts), so the worker
# never holds more than one; storing a part of up to 5 MiB may take longer than an ordinary call.
IMPORT_MAX_BYTES = 64 * 1024 * 1024
IMPORT_PART_TIMEOUT = 30
JOB_LOCATION = {"Location": {"description": "Pekerjaan impor (GET /api/v1/jobs/{id}): kemajuan dan laporannya.",
                             "schema": {"type": "string"}}}

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
        return created(call("bantuan", "buat_program", data), "/api/v1/bantuan/program/{id}")


@blp.route("/program/<program_id>")
class SatuProgram(MethodView):
    @blp.documents(200, ProgramSchema, 403, 404)
    def get(self, program_id):
        """Satu program, dengan kuota tersalur dan sisa."""
        return call("bantuan", "get_program", program_id)

    @correction(blp, ProgramUbahSchema)
    @blp.documents(200, ProgramSchema, 400, 403, 404, 409, 412, 428)
    def patch(self, data, program_id):
        """Koreksi kuota, tanggal selesai atau catatan kelayakan program (JSON merge patch, dengan If-Match;
        pengelola program, selama belum ditutup). Kuota tidak boleh kurang dari yang sudah tersalur; kuota yang
        dinaikkan membuka lagi penyaluran."""
        return call("bantuan", "ubah_program", program_id, data, if_match())


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
    @blp.arguments(RekapProgramQuerySchema, location="query")
    @blp.documents(200, RekapProgramSchema, 400, 403, 404)
    def get(self, query, program_id):
        """Kuota, tersalur, sisa, per desa/kelurahan dan per jenis bukti; dengan `rinci`, per wilayah di bawahnya
        dan/atau per bulan."""
        return call("bantuan", "get_rekap_program", program_id, query)


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
        return created(call("bantuan", "daftarkan_penerima", data), "/api/v1/bantuan/penerima/{id}")


@blp.route("/penerima/impor")
class Impor(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {
        "type": "string", RULE_KEY: "Baris judulnya memuat kolom wajib (400 pada `csv`)."}}}})
    @blp.alt_response(202, schema=PekerjaanSchema, success=True, headers=JOB_LOCATION)
    @blp.documents(202, PekerjaanSchema, 400, 403, 409, 413)
    def post(self):
        """Impor penerima dari CSV (nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,alamat,telepon; koma
        atau titik koma; UTF-8, sampai 64 MiB). Baris judul diperiksa saat itu juga; sisanya diperiksa dan disimpan
        di latar: jawabannya 202 dengan `Location` pekerjaan impor (`GET /api/v1/jobs/{id}`), yang menunjukkan
        kemajuan, baris yang ditolak beserta alasannya, dan laporan akhirnya. Mengulang berkas yang sama tidak
        menambah apa pun."""
        request.max_content_length = IMPORT_MAX_BYTES
        # The call that queues the job is the request's work, done once per Idempotency-Key (a
        # replay finds the first job; the upload it sent again is dropped as abandoned).
        header, parts = csv_upload(request.stream.read)
        job_id = call("bantuan", "mulai_impor_penerima", {"judul": utf8(header)}, keyed=False)
        count = 0
        for count, part in enumerate(parts, start=1):
            call("bantuan", "tambah_bagian_impor", job_id, {"nomor": count, "teks": utf8(part)},
                 timeout=IMPORT_PART_TIMEOUT, keyed=False)
        job = call("bantuan", "selesaikan_unggahan_impor", job_id, {"jumlah_bagian": count})
        return job, 202, {"Location": url_for("jobs.Pekerjaan", pekerjaan_id=job["id"])}


def utf8(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput({"csv": ["Berkas harus berenkode UTF-8 (simpan sebagai 'CSV UTF-8')."]}) from None


@blp.route("/penerima/cari")
class CariPenerima(MethodView):
    @blp.arguments(CariPenerimaSchema)
    @blp.documents(200, PenerimaPageSchema, 400, 403)
    def post(self, data):
        """Cari penerima di wilayah Anda menurut NIK atau No. KK: isi tepat salah satunya, di badan permintaan
        (tidak pernah di URL). Disamarkan seperti daftar penerima; setiap penerima yang ditemukan tercatat di
        catatan akses data pribadi."""
        return call("bantuan", "list_penerima_menurut_nomor", data)


@blp.route("/penerima/<id:penerima_id>")
class SatuPenerima(MethodView):
    @blp.documents(200, PenerimaSchema, 403, 404)
    def get(self, penerima_id):
        """Satu penerima (NIK utuh hanya untuk pencatat di wilayahnya)."""
        return call("bantuan", "get_penerima", penerima_id)

    @correction(blp, PenerimaUbahSchema)
    @blp.documents(200, PenerimaSchema, 400, 403, 404, 409, 412, 428)
    def patch(self, data, penerima_id):
        """Koreksi nama, alamat, telepon atau desa/kelurahan penerima (JSON merge patch, dengan If-Match;
        pencatat di wilayahnya). NIK dan No. KK tidak dapat diubah: NIK yang salah dicatat sebagai penerima
        baru. Jawabannya tercatat di catatan akses data pribadi, seperti GET."""
        return call("bantuan", "ubah_penerima", penerima_id, data, if_match())


@blp.route("/penerima/<id:penerima_id>/hapus")
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
        return created(call("bantuan", "catat_penyaluran", data),
                       "/api/v1/bantuan/penyaluran?program_id={program_id}&penerima_id={penerima_id}")


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


@blp.route("/audit/<id:entitas_id>")
class Audit(MethodView):
    @blp.documents(200, AuditSchema(many=True), 403, 404)
    def get(self, entitas_id):
        """Jejak audit: siapa melakukan apa dan kapan, dengan nilai lama dan baru."""
        return call("bantuan", "list_jejak_audit", entitas_id)
