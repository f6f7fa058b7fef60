"""The kegiatan service: activities and their participants, and the aspirations citizens bring.
RPC entrypoints take the caller's access token (checked here: `self.caller`; none for the public
ones) and a payload, validate the payload with the service's schemas and hand both to the use
cases (services/kegiatan/usecases.py), which return JSON-ready dicts."""
from eventlet import tpool
from nameko.timer import timer

from services.common import attachments
from services.common.access_reader import Readers
from services.common.config import settings
from services.common.extensions import BaseService
from services.common.messaging import CachedRpcProxy, RpcProxy, internal, rpc
from services.common.mongo import utcnow
from services.common.schema import PageQuerySchema, load
from services.common.store import Store
from services.kegiatan import domain, usecases
from services.kegiatan.repository import KegiatanRepository
from services.kegiatan.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AspirasiBaruSchema,
                                       AspirasiQuerySchema, BatalSchema, IndeksQuerySchema, KegiatanBaruSchema,
                                       KegiatanQuerySchema, KegiatanUbahSchema, PesertaBaruSchema, PublikQuerySchema,
                                       RekapQuerySchema, SelesaiKegiatanSchema, SurveiSchema, TindakLanjutSchema)
from services.organisasi import lookups

HOLIDAYS = domain.parse_holidays(settings().hari_libur)
PELAPOR_RETENTION = settings().pelapor_retention
ERASE_EVERY_SECONDS = 3600
# At start, and again for what an older instance wrote during an upgrade (usecases.isi_urutan_tenggat).
INBOX_ORDER_EVERY_SECONDS = 3600


class KegiatanService(BaseService):
    name = "kegiatan"

    store = Store(KegiatanRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = CachedRpcProxy("organisasi", lookups.CACHEABLE)
    bantuan = RpcProxy("bantuan")
    reader = Readers()

    # For other services

    @internal("bantuan")
    def get_kegiatan_ringkas(self, kegiatan_id):
        return usecases.get_kegiatan_ringkas(kegiatan_id, self.store)

    @internal("notifikasi")
    def get_kontak_pelapor(self, aspirasi_id):
        return usecases.get_kontak_pelapor(aspirasi_id, self.store, self.reader("notifikasi"))

    # Activities

    @rpc
    def buat_kegiatan(self, token, payload):
        return usecases.buat_kegiatan(self.caller(token), load(KegiatanBaruSchema, payload), self.store,
                                      self.organisasi, self.bantuan)

    @rpc
    def get_kegiatan(self, token, kegiatan_id):
        return usecases.get_kegiatan(self.caller(token), kegiatan_id, self.store)

    @rpc
    def ubah_kegiatan(self, token, kegiatan_id, payload, if_match):
        return usecases.ubah_kegiatan(self.caller(token), kegiatan_id, load(KegiatanUbahSchema, payload), if_match,
                                      self.store, self.organisasi, self.bantuan)

    @rpc
    def list_kegiatan(self, token, query):
        return usecases.list_kegiatan(self.caller(token), load(KegiatanQuerySchema, query), self.store)

    @rpc
    def mulai_kegiatan(self, token, kegiatan_id):
        return usecases.mulai_kegiatan(self.caller(token), kegiatan_id, self.store)

    @rpc
    def selesaikan_kegiatan(self, token, kegiatan_id, payload):
        return usecases.selesaikan_kegiatan(self.caller(token), kegiatan_id, load(SelesaiKegiatanSchema, payload),
                                            self.store)

    @rpc
    def batalkan_kegiatan(self, token, kegiatan_id, payload):
        return usecases.batalkan_kegiatan(self.caller(token), kegiatan_id, load(BatalSchema, payload),
                                          self.store)

    # Participants

    @rpc
    def tambah_peserta(self, token, kegiatan_id, payload):
        return usecases.tambah_peserta(self.caller(token), kegiatan_id, load(PesertaBaruSchema, payload),
                                       self.store)

    @rpc
    def list_peserta(self, token, kegiatan_id, query):
        actor = self.caller(token)
        return usecases.list_peserta(actor, kegiatan_id, load(PageQuerySchema, query), self.store, self.reader(actor))

    # Photos and documents

    @rpc
    def tambah_lampiran(self, token, kegiatan_id, payload):
        return usecases.tambah_lampiran(self.caller(token), kegiatan_id, load(attachments.LampiranBaruSchema, payload),
                                        self.store, offload=tpool.execute)

    @rpc
    def list_lampiran(self, token, kegiatan_id, query):
        return usecases.list_lampiran(self.caller(token), kegiatan_id, load(PageQuerySchema, query), self.store)

    @rpc
    def get_lampiran(self, token, kegiatan_id, lampiran_id):
        return usecases.get_lampiran(self.caller(token), kegiatan_id, lampiran_id, self.store)

    @rpc
    def hapus_lampiran(self, token, kegiatan_id, lampiran_id):
        return usecases.hapus_lampiran(self.caller(token), kegiatan_id, lampiran_id, self.store)

    # Trust survey and summary

    @rpc
    def get_kode_survei(self, token, kegiatan_id):
        return usecases.get_kode_survei(self.caller(token), kegiatan_id, self.store)

    @rpc
    def isi_survei(self, kegiatan_id, payload):
        return usecases.isi_survei(kegiatan_id, load(SurveiSchema, payload), self.store)

    @rpc
    def list_komentar_survei(self, token, kegiatan_id, query):
        return usecases.list_komentar_survei(self.caller(token), kegiatan_id, load(PageQuerySchema, query),
                                             self.store)

    @rpc
    def get_rekap(self, token, query):
        return usecases.get_rekap(self.caller(token), load(RekapQuerySchema, query), self.store)

    # The citizens' portal

    @rpc
    def list_kegiatan_publik(self, query):
        return usecases.list_kegiatan_publik(load(PublikQuerySchema, query), self.store)

    @rpc
    def get_indeks(self, query):
        return usecases.get_indeks(load(IndeksQuerySchema, query), self.store)

    # Aspirations

    @rpc
    def kirim_aspirasi(self, payload):
        return usecases.kirim_aspirasi(load(AspirasiBaruSchema, payload), self.store, self.organisasi, utcnow(),
                                       HOLIDAYS)

    @rpc
    def get_tiket(self, nomor_tiket):
        return usecases.get_tiket(nomor_tiket, self.store)

    @rpc
    def get_aspirasi(self, token, aspirasi_id):
        actor = self.caller(token)
        return usecases.get_aspirasi(actor, aspirasi_id, self.store, self.reader(actor))

    @rpc
    def list_aspirasi(self, token, query):
        actor = self.caller(token)
        return usecases.list_aspirasi(actor, load(AspirasiQuerySchema, query), self.store, self.reader(actor))

    @rpc
    def tindaklanjuti_aspirasi(self, token, aspirasi_id, payload):
        actor = self.caller(token)
        return usecases.tindaklanjuti_aspirasi(actor, aspirasi_id, load(TindakLanjutSchema, payload), self.store,
                                               self.reader(actor), utcnow(), HOLIDAYS)

    @timer(interval=settings().aspirasi_check_seconds)
    def periksa_tenggat(self):
        usecases.periksa_tenggat(self.store, utcnow())

    @timer(interval=INBOX_ORDER_EVERY_SECONDS, eager=True)
    def isi_urutan_tenggat(self):
        usecases.isi_urutan_tenggat(self.store)

    @timer(interval=ERASE_EVERY_SECONDS, eager=True)
    def hapus_pelapor_lama(self):
        usecases.hapus_pelapor_lama(self.store, PELAPOR_RETENTION, utcnow())

    @timer(interval=attachments.LEFTOVER_AFTER.total_seconds())
    def hapus_lampiran_tertinggal(self):
        attachments.sweep(self.store, utcnow())
