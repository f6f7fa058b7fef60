"""The bantuan service: social-aid programs, their recipients, and distributions that are fair
under concurrency, with an audit trail of who did what when.

Nameko entrypoints only: each builds the caller, validates the input and calls its use case
(services/bantuan/usecases.py) with the real store and the services it asks."""
from services.bantuan import usecases
from services.bantuan.repository import BantuanRepository
from services.bantuan.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, BatalPenyaluranSchema,
                                      PenerimaBaruSchema, PenerimaQuerySchema, PenyaluranBaruSchema,
                                      PenyaluranQuerySchema, ProgramBaruSchema, ProgramQuerySchema)
from services.common.access import Actor
from services.common.extensions import BaseService
from services.common.messaging import CachedRpcProxy, RpcProxy, rpc
from services.common.schema import load
from services.common.store import Store
from services.organisasi import lookups


class BantuanService(BaseService):
    name = "bantuan"

    store = Store(BantuanRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = CachedRpcProxy("organisasi", lookups.CACHEABLE)
    kegiatan = RpcProxy("kegiatan")

    @rpc
    def get_program_ringkas(self, program_id):
        return usecases.get_program_ringkas(program_id, self.store)

    @rpc
    def get_kontak_penerima(self, penerima_id):
        return usecases.get_kontak_penerima(penerima_id, self.store)

    # Programs

    @rpc
    def buat_program(self, actor, payload):
        return usecases.buat_program(Actor.from_dict(actor), load(ProgramBaruSchema, payload), self.store,
                                     self.organisasi)

    @rpc
    def get_program(self, actor, program_id):
        return usecases.get_program(Actor.from_dict(actor), program_id, self.store)

    @rpc
    def list_program(self, actor, query):
        return usecases.list_program(Actor.from_dict(actor), load(ProgramQuerySchema, query), self.store)

    @rpc
    def aktifkan_program(self, actor, program_id):
        return usecases.aktifkan_program(Actor.from_dict(actor), program_id, self.store)

    @rpc
    def tutup_program(self, actor, program_id):
        return usecases.tutup_program(Actor.from_dict(actor), program_id, self.store)

    @rpc
    def get_rekap_program(self, actor, program_id):
        return usecases.get_rekap_program(Actor.from_dict(actor), program_id, self.store)

    # Recipients

    @rpc
    def daftarkan_penerima(self, actor, payload):
        return usecases.daftarkan_penerima(Actor.from_dict(actor), load(PenerimaBaruSchema, payload), self.store,
                                           self.organisasi)

    @rpc
    def impor_penerima(self, actor, csv_text):
        return usecases.impor_penerima(Actor.from_dict(actor), csv_text, self.store, self.organisasi)

    @rpc
    def get_penerima(self, actor, penerima_id):
        return usecases.get_penerima(Actor.from_dict(actor), penerima_id, self.store)

    @rpc
    def list_penerima(self, actor, query):
        return usecases.list_penerima(Actor.from_dict(actor), load(PenerimaQuerySchema, query), self.store)

    # Distributions

    @rpc
    def catat_penyaluran(self, actor, payload):
        return usecases.catat_penyaluran(Actor.from_dict(actor), load(PenyaluranBaruSchema, payload), self.store,
                                         self.kegiatan)

    @rpc
    def batalkan_penyaluran(self, actor, penyaluran_id, payload):
        return usecases.batalkan_penyaluran(Actor.from_dict(actor), penyaluran_id,
                                            load(BatalPenyaluranSchema, payload), self.store)

    @rpc
    def list_penyaluran(self, actor, query):
        return usecases.list_penyaluran(Actor.from_dict(actor), load(PenyaluranQuerySchema, query), self.store)

    @rpc
    def list_jejak_audit(self, actor, entitas_id):
        return usecases.list_jejak_audit(Actor.from_dict(actor), entitas_id, self.store)
