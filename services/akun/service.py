"""The akun service's entrypoints: accounts of the organisation's people, logging in and out,
refresh tokens, one-time codes. Each takes the caller's access token (checked here:
`self.caller`), except logging in and refreshing, which are how one gets a token; validates
the payload with the service's schemas and hands it to its use case
(services/akun/usecases.py) with the store, what logging in needs and the time."""
import functools

from eventlet import tpool

from services.akun import domain, usecases
from services.akun.repository import AkunRepository
from services.akun.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AkunBaruSchema, AkunQuerySchema,
                                   AkunUbahSchema, AturSandiSchema, ClientCredentialsSchema, GantiPasswordSchema,
                                   KlienBaruSchema, KlienQuerySchema, KlienUbahSchema, KodeOtpSchema, LoginSchema,
                                   RefreshSchema)
from services.common.config import settings
from services.common.extensions import BaseService
from services.common.identity import OTP_ENROLMENT, PASSWORD_CHANGE
from services.common.messaging import internal, rpc
from services.common.mongo import utcnow
from services.common.schema import load
from services.common.store import Store


@functools.cache
def issuer():
    """What logging in needs, once per process: the signing key is read when first needed."""
    config = settings()
    return usecases.Issuer(domain.Passwords(offload=tpool.execute), config.signing_key(),
                           domain.LoginPolicy.from_settings(config))


class AkunService(BaseService):
    name = "akun"

    store = Store(AkunRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)

    # Accounts, managed by admins

    @rpc
    def buat_akun(self, token, payload):
        return usecases.buat_akun(self.caller(token), load(AkunBaruSchema, payload), self.store, issuer().passwords,
                                  utcnow())

    @rpc
    def get_akun(self, token, akun_id):
        return usecases.get_akun(self.caller(token), akun_id, self.store)

    @rpc
    def list_akun(self, token, query):
        return usecases.list_akun(self.caller(token), load(AkunQuerySchema, query), self.store)

    @rpc
    def ubah_akun(self, token, akun_id, payload):
        return usecases.ubah_akun(self.caller(token), akun_id, load(AkunUbahSchema, payload), self.store, utcnow())

    @rpc
    def minta_reset(self, token, akun_id):
        return usecases.minta_reset(self.caller(token), akun_id, self.store, utcnow())

    # For other services

    @internal("notifikasi")
    def serahkan_reset(self, reset_id):
        return usecases.serahkan_reset(reset_id, self.store, utcnow())

    # The account holder

    @rpc
    def get_akun_saya(self, token):
        # Also with a token good only for what must come first: the front-end greets its holder.
        return usecases.get_akun_saya(self.caller(token, purpose=(OTP_ENROLMENT, PASSWORD_CHANGE)), self.store)

    @rpc
    def ganti_password(self, token, payload):
        return usecases.ganti_password(self.caller(token, purpose=PASSWORD_CHANGE), load(GantiPasswordSchema, payload),
                                       self.store, issuer(), utcnow())

    @rpc
    def daftarkan_otp(self, token):
        return usecases.daftarkan_otp(self.caller(token, purpose=OTP_ENROLMENT), self.store, utcnow())

    @rpc
    def aktifkan_otp(self, token, payload):
        return usecases.aktifkan_otp(self.caller(token, purpose=OTP_ENROLMENT), load(KodeOtpSchema, payload),
                                     self.store, issuer(), utcnow())

    # Machine accounts of other systems, managed by admins

    @rpc
    def buat_klien(self, token, payload):
        return usecases.buat_klien(self.caller(token), load(KlienBaruSchema, payload), self.store, utcnow())

    @rpc
    def list_klien(self, token, query):
        return usecases.list_klien(self.caller(token), load(KlienQuerySchema, query), self.store)

    @rpc
    def ubah_klien(self, token, klien_id, payload):
        return usecases.ubah_klien(self.caller(token), klien_id, load(KlienUbahSchema, payload), self.store, utcnow())

    @rpc
    def ganti_rahasia_klien(self, token, klien_id):
        return usecases.ganti_rahasia_klien(self.caller(token), klien_id, self.store, utcnow())

    # Logins: the first four are how one gets a token, so they take none

    @rpc
    def buat_sesi(self, payload):
        return usecases.buat_sesi(load(LoginSchema, payload), self.store, issuer(), utcnow())

    @rpc
    def perbarui_sesi(self, payload):
        return usecases.perbarui_sesi(load(RefreshSchema, payload), self.store, issuer(), utcnow())

    @rpc
    def atur_sandi(self, payload):
        return usecases.atur_sandi(load(AturSandiSchema, payload), self.store, issuer().passwords, utcnow())

    @rpc
    def buat_token_klien(self, payload):
        return usecases.buat_token_klien(load(ClientCredentialsSchema, payload), self.store, issuer(), utcnow())

    @rpc
    def akhiri_sesi(self, token, payload):
        # A person's token good only for what must come first may log out too.
        return usecases.akhiri_sesi(self.caller(token, purpose=(OTP_ENROLMENT, PASSWORD_CHANGE)),
                                    load(RefreshSchema, payload), self.store, utcnow())
