"""Activities (kegiatan) and aspirations (aspirasi): the kegiatan service over HTTP."""
from flask.views import MethodView

from gateway.altcha import anonymous_write
from gateway.blueprint import Blueprint, call, call_anonymous, created
from gateway.corrections import correction, if_match
from gateway.publik import public_read
from services.common.config import settings
from services.common.schema import PageQuerySchema
from services.kegiatan.schemas import (AspirasiBaruSchema, AspirasiDiterimaSchema, AspirasiPageSchema,
                                       AspirasiQuerySchema, AspirasiSchema, BatalSchema, KegiatanBaruSchema,
                                       KegiatanPageSchema, KegiatanQuerySchema, KegiatanSchema, KegiatanUbahSchema,
                                       KodeSurveiSchema, KomentarPageSchema, LacakSchema, PesertaBaruSchema,
                                       PesertaPageSchema, PesertaSchema, RekapQuerySchema, RekapSchema,
                                       SelesaiKegiatanSchema, SurveiDiterimaSchema, SurveiSchema, TindakLanjutSchema)

kegiatan_blp = Blueprint("kegiatan", __name__, url_prefix="/api/v1/kegiatan",
                         description="Kegiatan BKPM: jadwal, pelaksanaan, laporan dan peserta.")
rekap_blp = Blueprint("rekap", __name__, url_prefix="/api/v1/rekap",
                      description="Rekap kegiatan, aspirasi dan kepercayaan per wilayah dan periode.")
aspirasi_blp = Blueprint("aspirasi", __name__, url_prefix="/api/v1/aspirasi",
                         description="Aspirasi, keluhan dan masukan warga, dengan alur SP4N-LAPOR!.")


@kegiatan_blp.route("")
class Kegiatan(MethodView):
    @kegiatan_blp.arguments(KegiatanQuerySchema, location="query")
    @kegiatan_blp.documents(200, KegiatanPageSchema, 400, 403)
    def get(self, query):
        """Daftar kegiatan menurut unit, jenis, status, rentang tanggal dan awalan kode wilayah."""
        return call("kegiatan", "list_kegiatan", query)

    @kegiatan_blp.arguments(KegiatanBaruSchema)
    @kegiatan_blp.documents(201, KegiatanSchema, 400, 403)
    def post(self, data):
        """Jadwalkan kegiatan; tiap jenis punya field wajibnya sendiri."""
        return created(call("kegiatan", "buat_kegiatan", data), "/api/v1/kegiatan/{id}")


@kegiatan_blp.route("/<kegiatan_id>")
class SatuKegiatan(MethodView):
    @kegiatan_blp.documents(200, KegiatanSchema, 403, 404)
    def get(self, kegiatan_id):
        """Satu kegiatan."""
        return call("kegiatan", "get_kegiatan", kegiatan_id)

    @correction(kegiatan_blp, KegiatanUbahSchema)
    @kegiatan_blp.documents(200, KegiatanSchema, 400, 403, 404, 409, 412, 428)
    def patch(self, data, kegiatan_id):
        """Jadwalkan ulang atau koreksi kegiatan yang masih direncanakan.

        Judul, waktu, tempat, deskripsi dan field jenisnya; unit, jenis dan status tetap, dan hasilnya harus
        memenuhi aturan kegiatan baru. Perubahan waktu atau tempat diberitahukan kepada pengurus dan anggota unit.
        """
        return call("kegiatan", "ubah_kegiatan", kegiatan_id, data, if_match())


@kegiatan_blp.route("/<kegiatan_id>/mulai")
class Mulai(MethodView):
    @kegiatan_blp.documents(200, KegiatanSchema, 403, 404, 409)
    def post(self, kegiatan_id):
        """Mulai kegiatan yang direncanakan."""
        return call("kegiatan", "mulai_kegiatan", kegiatan_id)


@kegiatan_blp.route("/<kegiatan_id>/selesai")
class Selesai(MethodView):
    @kegiatan_blp.arguments(SelesaiKegiatanSchema)
    @kegiatan_blp.documents(200, KegiatanSchema, 400, 403, 404, 409)
    def post(self, data, kegiatan_id):
        """Selesaikan kegiatan yang berlangsung, dengan laporannya."""
        return call("kegiatan", "selesaikan_kegiatan", kegiatan_id, data)


@kegiatan_blp.route("/<kegiatan_id>/batal")
class Batal(MethodView):
    @kegiatan_blp.arguments(BatalSchema)
    @kegiatan_blp.documents(200, KegiatanSchema, 400, 403, 404, 409)
    def post(self, data, kegiatan_id):
        """Batalkan kegiatan yang direncanakan atau berlangsung, dengan alasan."""
        return call("kegiatan", "batalkan_kegiatan", kegiatan_id, data)


@kegiatan_blp.route("/<kegiatan_id>/peserta")
class Peserta(MethodView):
    @kegiatan_blp.arguments(PageQuerySchema, location="query")
    @kegiatan_blp.documents(200, PesertaPageSchema, 400, 403, 404)
    def get(self, query, kegiatan_id):
        """Peserta kegiatan."""
        return call("kegiatan", "list_peserta", kegiatan_id, query)

    @kegiatan_blp.arguments(PesertaBaruSchema)
    @kegiatan_blp.documents(201, PesertaSchema, 400, 403, 404, 409)
    def post(self, data, kegiatan_id):
        """Catat kehadiran peserta."""
        return created(call("kegiatan", "tambah_peserta", kegiatan_id, data), "/api/v1/kegiatan/{kegiatan_id}/peserta")


@kegiatan_blp.route("/<kegiatan_id>/survei")
class Survei(MethodView):
    @kegiatan_blp.documents(200, KodeSurveiSchema, 403, 404)
    def get(self, kegiatan_id):
        """Kode survei yang belum dipakai, untuk dibagikan kepada peserta."""
        return call("kegiatan", "get_kode_survei", kegiatan_id)

    @kegiatan_blp.public
    @anonymous_write(lambda: settings().survei_rate_limit, lambda: settings().survei_rate_limit_tanpa_altcha)
    @kegiatan_blp.arguments(SurveiSchema)
    @kegiatan_blp.documents(201, SurveiDiterimaSchema, 400, 404, 409, 429)
    def post(self, data, kegiatan_id):
        """Isi survei kepercayaan dan kepuasan dengan kode sekali pakai, tanpa akun."""
        return created(call_anonymous("kegiatan", "isi_survei", kegiatan_id, data), "/api/v1/kegiatan/{kegiatan_id}")


@kegiatan_blp.route("/<kegiatan_id>/survei/komentar")
class KomentarSurvei(MethodView):
    @kegiatan_blp.arguments(PageQuerySchema, location="query")
    @kegiatan_blp.documents(200, KomentarPageSchema, 400, 403, 404)
    def get(self, query, kegiatan_id):
        """Komentar survei kegiatan, untuk pencatat; nomor telepon dan email di dalamnya disamarkan."""
        return call("kegiatan", "list_komentar_survei", kegiatan_id, query)


@rekap_blp.route("/kegiatan")
class Rekap(MethodView):
    @rekap_blp.arguments(RekapQuerySchema, location="query")
    @rekap_blp.documents(200, RekapSchema, 400, 403)
    def get(self, query):
        """Rekap per wilayah dan periode: kegiatan, peserta per unsur, aspirasi, kepercayaan."""
        return call("kegiatan", "get_rekap", query)


@aspirasi_blp.route("")
class Aspirasi(MethodView):
    @aspirasi_blp.arguments(AspirasiQuerySchema, location="query")
    @aspirasi_blp.documents(200, AspirasiPageSchema, 400, 403)
    def get(self, query):
        """Daftar aspirasi di wilayah Anda."""
        return call("kegiatan", "list_aspirasi", query)

    @aspirasi_blp.public
    @anonymous_write(lambda: settings().aspirasi_rate_limit, lambda: settings().aspirasi_rate_limit_tanpa_altcha)
    @aspirasi_blp.arguments(AspirasiBaruSchema)
    @aspirasi_blp.documents(201, AspirasiDiterimaSchema, 400, 409, 429)
    def post(self, data):
        """Kirim aspirasi tanpa akun; simpan nomor tiket untuk melacaknya."""
        return created(call_anonymous("kegiatan", "kirim_aspirasi", data), "/api/v1/aspirasi/lacak/{nomor_tiket}")


@aspirasi_blp.route("/<aspirasi_id>")
class SatuAspirasi(MethodView):
    @aspirasi_blp.documents(200, AspirasiSchema, 403, 404)
    def get(self, aspirasi_id):
        """Satu aspirasi; identitas pelapor rahasia hanya terlihat oleh unit yang menangani."""
        return call("kegiatan", "get_aspirasi", aspirasi_id)


@aspirasi_blp.route("/<aspirasi_id>/tindak-lanjut")
class TindakLanjut(MethodView):
    @aspirasi_blp.arguments(TindakLanjutSchema)
    @aspirasi_blp.documents(200, AspirasiSchema, 400, 403, 404, 409)
    def post(self, data, aspirasi_id):
        """Tindak lanjut: diterima → diverifikasi → diproses → selesai, atau ditolak dengan alasan."""
        return call("kegiatan", "tindaklanjuti_aspirasi", aspirasi_id, data)


@aspirasi_blp.route("/lacak/<nomor_tiket>")
class Lacak(MethodView):
    @aspirasi_blp.public
    @public_read
    @aspirasi_blp.documents(200, LacakSchema, 404, 429)
    def get(self, nomor_tiket):
        """Lacak aspirasi dengan nomor tiket: status dan jawaban publik."""
        return call_anonymous("kegiatan", "get_tiket", nomor_tiket)
