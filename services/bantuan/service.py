"""The bantuan service: social-aid programs, their recipients, and distributions that are fair
under concurrency, with an audit trail of who did what when.

Nameko entrypoints only: each builds the caller, validates the input and calls its use case
(services/bantuan/usecases.py) with the real store and the services it asks."""
from services.bantuan import usecases
from services.bantuan.repository import BantuanRepository
from services.bantuan.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, BatalPenyaluranSchema,
                                      CariPenerimaSchema, HapusPenerimaSchema, PenerimaBaruSchema, PenerimaQuerySchema,
                                      PenyaluranBaruSchema, PenyaluranQuerySchema, ProgramBaruSchema,
                                      ProgramQuerySchema)
from services.common.access_reader import Readers
from services.common.extensions import BaseService
from services.common.messaging import CachedRpcProxy, RpcProxy, internal, rpc
from services.common.schema import PageQuerySchema, load
from services.common.store import Store
from services.organisasi import lookups


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
    def aktifkan_program(self, token, program_id):
        return usecases.aktifkan_program(self.caller(token), program_id, self.store)

    @rpc
    def tutup_program(self, token, program_id):
        return usecases.tutup_program(self.caller(token), program_id, self.store)

    @rpc
    def get_rekap_program(self, token, program_id):
        return usecases.get_rekap_program(self.caller(token), program_id, self.store)

    # Recipients

    @rpc
    def daftarkan_penerima(self, token, payload):
        return usecases.daftarkan_penerima(self.caller(token), load(PenerimaBaruSchema, payload), self.store,
                                           self.organisasi)

    @rpc
    def impor_penerima(self, token, csv_text):
        return usecases.impor_penerima(self.caller(token), csv_text, self.store, self.organisasi)

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

    @rpc
    def list_penyaluran(self, token, query):
        return usecases.list_penyaluran(self.caller(token), load(PenyaluranQuerySchema, query), self.store)

    @rpc
    def list_jejak_audit(self, token, entitas_id):
        return usecases.list_jejak_audit(self.caller(token), entitas_id, self.store)

    @rpc
    def list_jejak_audit_impor(self, token, query):
        return usecases.list_jejak_audit_impor(self.caller(token), load(PageQuerySchema, query), self.store)
