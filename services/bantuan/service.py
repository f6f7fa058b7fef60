"""The bantuan service: social-aid programs, their recipients, and distributions that are fair
under concurrency, with an audit trail of who did what when.

Nameko entrypoints only: each builds the caller, validates the input and calls its use case
(services/bantuan/usecases.py) with the real store and the services it asks."""
import logging
import os
import socket
import uuid

from eventlet import tpool
from nameko.timer import timer

from services.bantuan import usecases
from services.bantuan.repository import BantuanRepository
from services.bantuan.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, BagianImporSchema, BatalPenyaluranSchema,
                                      CariPenerimaSchema, HapusPenerimaSchema, MulaiImporSchema, PenerimaBaruSchema,
                                      PenerimaQuerySchema, PenerimaUbahSchema, PenyaluranBaruSchema,
                                      PenyaluranQuerySchema, ProgramBaruSchema, ProgramQuerySchema, ProgramUbahSchema,
                                      RekapProgramQuerySchema, UnggahanImporSchema)
from services.common import attachments
from services.common.access_reader import Readers
from services.common.config import settings
from services.common.extensions import BaseService
from services.common.messaging import CachedRpcProxy, RpcProxy, internal, rpc
from services.common.mongo import utcnow
from services.common.outbox import crash_if
from services.common.schema import PageQuerySchema, load
from services.common.store import Store
from services.organisasi import lookups

log = logging.getLogger(__name__)

# How long one turn of the background import may run: the service stops only after it.
IMPORT_TURN_SECONDS = 5
FORGET_IMPORTS_EVERY_SECONDS = 3600


def after_import_batch(job):
    log.debug("import %s: %d of %d rows", job["id"], job["diproses"], job["jumlah_baris"])
    crash_if("import_batch")  # the crash tests' kill between two batches


IMPORTER = usecases.Pemroses(
    pemegang=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
    lease_seconds=settings().impor_lease_seconds, turn_seconds=IMPORT_TURN_SECONDS, after_batch=after_import_batch,
    offload=tpool.execute)


class BantuanService(BaseService):
    name = "bantuan"

    store = Store(BantuanRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = CachedRpcProxy("organisasi", lookups.CACHEABLE)
    kegiatan = RpcProxy("kegiatan")
    reader = Readers()

    @internal("kegiatan")
    def get_program_ringkas(self, program_id):
        return usecases.get_program_ringkas(program_id, self.store)

    @internal("notifikasi")
    def get_kontak_penerima(self, penerima_id):
        return usecases.get_kontak_penerima(penerima_id, self.store, self.reader("notifikasi"))

    # Programs

    @rpc
    def buat_program(self, token, payload):
        return usecases.buat_program(self.caller(token), load(ProgramBaruSchema, payload), self.store,
                                     self.organisasi)

    @rpc
    def get_program(self, token, program_id):
        return usecases.get_program(self.caller(token), program_id, self.store)

    @rpc
    def list_program(self, token, query):
        return usecases.list_program(self.caller(token), load(ProgramQuerySchema, query), self.store)

    @rpc
    def ubah_program(self, token, program_id, patch, if_match):
        return usecases.ubah_program(self.caller(token), program_id, load(ProgramUbahSchema, patch), if_match,
                                     self.store)

    @rpc
    def aktifkan_program(self, token, program_id):
        return usecases.aktifkan_program(self.caller(token), program_id, self.store)

    @rpc
    def tutup_program(self, token, program_id):
        return usecases.tutup_program(self.caller(token), program_id, self.store)

    @rpc
    def get_rekap_program(self, token, program_id, query=None):  # None: from a gateway without `rinci`
        return usecases.get_rekap_program(self.caller(token), program_id, load(RekapProgramQuerySchema, query),
                                          self.store)

    # Recipients

    @rpc
    def daftarkan_penerima(self, token, payload):
        return usecases.daftarkan_penerima(self.caller(token), load(PenerimaBaruSchema, payload), self.store,
                                           self.organisasi)

    # Imports of recipients: the gateway sends the file in parts; the job runs in the background.

    @rpc
    def mulai_impor_penerima(self, token, payload):
        return usecases.mulai_impor_penerima(self.caller(token), load(MulaiImporSchema, payload)["judul"], self.store)

    @rpc
    def tambah_bagian_impor(self, token, pekerjaan_id, payload):
        part = load(BagianImporSchema, payload)
        return usecases.tambah_bagian_impor(self.caller(token), pekerjaan_id, part["nomor"], part["teks"],
                                            self.store)

    @rpc
    def selesaikan_unggahan_impor(self, token, pekerjaan_id, payload):
        return usecases.selesaikan_unggahan_impor(self.caller(token), pekerjaan_id,
                                                  load(UnggahanImporSchema, payload)["jumlah_bagian"], self.store)

    @rpc
    def get_pekerjaan(self, token, pekerjaan_id):
        return usecases.get_pekerjaan(self.caller(token), pekerjaan_id, self.store)

    @timer(interval=settings().impor_poll_seconds)
    def jalankan_impor(self):
        usecases.jalankan_impor(self.store, self.organisasi, IMPORTER)

    @timer(interval=FORGET_IMPORTS_EVERY_SECONDS, eager=True)
    def lupakan_impor_lama(self):
        usecases.lupakan_impor_lama(self.store, utcnow())

    @rpc
    def get_penerima(self, token, penerima_id):
        actor = self.caller(token)
        return usecases.get_penerima(actor, penerima_id, self.store, self.reader(actor))

    @rpc
    def list_penerima(self, token, query):
        return usecases.list_penerima(self.caller(token), load(PenerimaQuerySchema, query), self.store)

    @rpc
    def list_penerima_menurut_nomor(self, token, payload):
        actor = self.caller(token)
        return usecases.list_penerima_menurut_nomor(actor, load(CariPenerimaSchema, payload), self.store,
                                                    self.reader(actor))

    @rpc
    def ubah_penerima(self, token, penerima_id, patch, if_match):
        actor = self.caller(token)
        return usecases.ubah_penerima(actor, penerima_id, load(PenerimaUbahSchema, patch), if_match, self.store,
                                      self.organisasi, self.reader(actor))

    @rpc
    def hapus_penerima(self, token, penerima_id, payload):
        return usecases.hapus_penerima(self.caller(token), penerima_id, load(HapusPenerimaSchema, payload),
                                       self.store)

    # Distributions

    @rpc
    def catat_penyaluran(self, token, payload):
        return usecases.catat_penyaluran(self.caller(token), load(PenyaluranBaruSchema, payload), self.store,
                                         self.kegiatan)

    @rpc
    def batalkan_penyaluran(self, token, penyaluran_id, payload):
        return usecases.batalkan_penyaluran(self.caller(token), penyaluran_id,
                                            load(BatalPenyaluranSchema, payload), self.store)

    # Photos and documents of a distribution

    @rpc
    def tambah_lampiran(self, token, penyaluran_id, payload):
        return usecases.tambah_lampiran(self.caller(token), penyaluran_id,
                                        load(attachments.LampiranBaruSchema, payload), self.store,
                                        offload=tpool.execute)

    @rpc
    def list_lampiran(self, token, penyaluran_id, query):
        return usecases.list_lampiran(self.caller(token), penyaluran_id, load(PageQuerySchema, query), self.store)

    @rpc
    def get_lampiran(self, token, penyaluran_id, lampiran_id):
        return usecases.get_lampiran(self.caller(token), penyaluran_id, lampiran_id, self.store)

    @rpc
    def hapus_lampiran(self, token, penyaluran_id, lampiran_id):
        return usecases.hapus_lampiran(self.caller(token), penyaluran_id, lampiran_id, self.store)

    @timer(interval=attachments.LEFTOVER_AFTER.total_seconds())
    def hapus_lampiran_tertinggal(self):
        attachments.sweep(self.store, utcnow())

    @rpc
    def list_penyaluran(self, token, query):
        return usecases.list_penyaluran(self.caller(token), load(PenyaluranQuerySchema, query), self.store)

    @rpc
    def list_jejak_audit(self, token, entitas_id):
        return usecases.list_jejak_audit(self.caller(token), entitas_id, self.store)

    @rpc
    def list_jejak_audit_impor(self, token, query):
        return usecases.list_jejak_audit_impor(self.caller(token), load(PageQuerySchema, query), self.store)
