"""The organisasi service's entrypoints: units at four levels, their boards and members, and the
area reference they are built on. Each takes the caller's access token (checked here:
`self.caller`) and a payload, validates the payload with the service's schemas and hands both to
its use case (services/organisasi/usecases.py)."""
from services.common.access_reader import Readers
from services.common.extensions import BaseService
from services.common.messaging import internal, rpc
from services.common.schema import load
from services.common.store import Store
from services.organisasi import usecases
from services.organisasi.repository import OrganisasiRepository
from services.organisasi.schemas import (
    EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AnggotaBaruSchema, AnggotaUbahSchema, PengurusBaruSchema,
    PengurusUbahSchema, RiwayatQuerySchema, SelesaiSchema, UnitBaruSchema, UnitQuerySchema, UnitUbahSchema,
    WilayahQuerySchema)


class OrganisasiService(BaseService):
    name = "organisasi"

    store = Store(OrganisasiRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    reader = Readers()

    # For other services (no caller: services trust each other on the platform's broker)

    @internal("bantuan")
    def get_unit_ringkas(self, unit_id):
        return usecases.get_unit_ringkas(unit_id, self.store)

    @internal("kegiatan")
    def get_penanggung_jawab_wilayah(self, kode_wilayah):
        return usecases.get_penanggung_jawab_wilayah(kode_wilayah, self.store)

    @internal("kegiatan")
    def get_unit_dan_wilayah(self, unit_id, kode_wilayah):
        return usecases.get_unit_dan_wilayah(unit_id, kode_wilayah, self.store)

    @internal("bantuan")
    def list_wilayah(self, codes):
        return usecases.list_wilayah(codes, self.store)

    # The area reference, for anyone (the gateway's public routes: no token)

    @rpc
    def list_referensi_wilayah(self, query):
        return usecases.list_referensi_wilayah(load(WilayahQuerySchema, query or {}), self.store)

    @rpc
    def get_referensi_wilayah(self, kode):
        return usecases.get_referensi_wilayah(kode, self.store)

    @internal("notifikasi")
    def list_kontak_unit(self, unit_id):
        return usecases.list_kontak_unit(unit_id, self.store, self.reader("notifikasi"))

    @internal("notifikasi")
    def get_kontak_pengurus(self, unit_id, pengurus_id):
        return usecases.get_kontak_pengurus(unit_id, pengurus_id, self.store, self.reader("notifikasi"))

    @internal("notifikasi")
    def list_kontak_sekretaris(self, unit_id, with_parent):
        return usecases.list_kontak_sekretaris(unit_id, with_parent, self.store, self.reader("notifikasi"))

    # Units

    @rpc
    def bentuk_unit(self, token, payload):
        return usecases.bentuk_unit(self.caller(token), load(UnitBaruSchema, payload), self.store)

    @rpc
    def get_unit(self, token, unit_id):
        return usecases.get_unit(self.caller(token), unit_id, self.store)

    @rpc
    def list_unit(self, token, query):
        return usecases.list_unit(self.caller(token), load(UnitQuerySchema, query), self.store)

    @rpc
    def list_subunit(self, token, unit_id, query):
        return usecases.list_subunit(self.caller(token), unit_id, load(UnitQuerySchema, query or {}), self.store)

    @rpc
    def ubah_unit(self, token, unit_id, payload, if_match):
        return usecases.ubah_unit(self.caller(token), unit_id, load(UnitUbahSchema, payload), if_match, self.store)

    @rpc
    def get_struktur(self, token, unit_id):
        actor = self.caller(token)
        return usecases.get_struktur(actor, unit_id, self.store, self.reader(actor))

    # Board and members

    @rpc
    def angkat_pengurus(self, token, unit_id, payload):
        return usecases.angkat_pengurus(self.caller(token), unit_id, load(PengurusBaruSchema, payload), self.store)

    @rpc
    def berhentikan_pengurus(self, token, unit_id, pengurus_id, payload):
        actor = self.caller(token)
        return usecases.berhentikan_pengurus(actor, unit_id, pengurus_id, load(SelesaiSchema, payload), self.store,
                                             self.reader(actor))

    @rpc
    def list_pengurus(self, token, unit_id, query):
        actor = self.caller(token)
        return usecases.list_pengurus(actor, unit_id, load(RiwayatQuerySchema, query), self.store, self.reader(actor))

    @rpc
    def get_pengurus(self, token, unit_id, pengurus_id):
        actor = self.caller(token)
        return usecases.get_pengurus(actor, unit_id, pengurus_id, self.store, self.reader(actor))

    @rpc
    def ubah_pengurus(self, token, unit_id, pengurus_id, payload, if_match):
        actor = self.caller(token)
        return usecases.ubah_pengurus(actor, unit_id, pengurus_id, load(PengurusUbahSchema, payload), if_match,
                                      self.store, self.reader(actor))

    @rpc
    def tambah_anggota(self, token, unit_id, payload):
        return usecases.tambah_anggota(self.caller(token), unit_id, load(AnggotaBaruSchema, payload), self.store)

    @rpc
    def keluarkan_anggota(self, token, unit_id, anggota_id, payload):
        actor = self.caller(token)
        return usecases.keluarkan_anggota(actor, unit_id, anggota_id, load(SelesaiSchema, payload), self.store,
                                          self.reader(actor))

    @rpc
    def list_anggota(self, token, unit_id, query):
        actor = self.caller(token)
        return usecases.list_anggota(actor, unit_id, load(RiwayatQuerySchema, query), self.store, self.reader(actor))

    @rpc
    def get_anggota(self, token, unit_id, anggota_id):
        actor = self.caller(token)
        return usecases.get_anggota(actor, unit_id, anggota_id, self.store, self.reader(actor))

    @rpc
    def ubah_anggota(self, token, unit_id, anggota_id, payload, if_match):
        actor = self.caller(token)
        return usecases.ubah_anggota(actor, unit_id, anggota_id, load(AnggotaUbahSchema, payload), if_match,
                                     self.store, self.reader(actor))
