"""Who is calling, from an access token (services/common/identity.py): checked signature,
well-formed claims, a restricted token only where it is meant, a disabled account's tokens
refused once its disabling is heard, and a region's identity provider's tokens beside ours."""
import time

import jwt
from datetime import datetime, timedelta, timezone

import pytest

from services.common.config import settings
from services.common.errors import Forbidden, Unauthorized, Unavailable
from services.common.identity import ANY_PURPOSE, Identities, IdentityProvider, revocation_bindings
from services.stack import free_port
from services.common.tokens import (Audience, InvalidToken, KeySet, ProviderKeys, ServiceKeys, SigningKey,
                                    internal_audience, new_private_pem, public_pem)
from tests.keys import AUDIENCE, CURRENT, KEY, STRANGER_KEY, token
from tests.oidc import OTHER_RSA_KEY, THEIR_AUDIENCE, FakeProvider, their_token


@pytest.fixture
def identities():
    return Identities(KeySet([public_pem(CURRENT)], AUDIENCE))


def refused(error, identities, *args):
    with pytest.raises(error) as caught:
        identities.actor(*args)
    return caught.value.payload


def test_a_good_token_is_its_holders_actor(identities):
    actor = identities.actor(token("sek-3171", "pengurus", "31.71"))
    assert (actor.sub, actor.roles, actor.wilayah) == ("sek-3171", ("pengurus",), "31.71")


@pytest.mark.parametrize("bad", [None, "", {"sub": "x", "roles": ["admin"]}, "a.b.c"])
def test_no_token_or_not_a_token_is_401(identities, bad):
    assert refused(Unauthorized, identities, bad)["code"] == "tidak_terautentikasi"


def test_a_token_of_a_key_not_in_the_set_expired_or_with_odd_claims_is_401(identities):
    assert "tidak dikenal" in refused(Unauthorized, identities, token(key=STRANGER_KEY))["detail"]
    assert "kedaluwarsa" in refused(Unauthorized, identities, token(expired=True))["detail"]
    assert "peran" in refused(Unauthorized, identities, token(role="tamu"))["detail"]
    assert "wilayah" in refused(Unauthorized, identities, token(wilayah="31-71"))["detail"]


def test_a_token_good_only_for_enrolling_a_code_is_refused_elsewhere(identities):
    restricted = token(hanya="daftar_otp")
    assert refused(Forbidden, identities, restricted)["code"] == "otp_belum_didaftarkan"
    assert identities.actor(restricted, "daftar_otp").sub == "penguji"
    assert identities.actor(restricted, ANY_PURPOSE).sub == "penguji"  # the gateway lets it through


def test_a_disabled_accounts_tokens_issued_before_are_refused_and_later_ones_are_not(identities):
    before = token("akun-1")
    assert identities.actor(before).sub == "akun-1"  # checked, and its check kept
    bindings, on_event = revocation_bindings(identities)
    assert bindings == {"akun.events": ["akun.dinonaktifkan", "akun.diubah"]}
    disabled = datetime.now(timezone.utc)
    on_event("akun.events", "akun.dinonaktifkan", {"time": disabled.isoformat(), "data": {"id": "akun-1",
                                                                                         "username": "budi"}})
    assert refused(Unauthorized, identities, before)["code"] == "token_dicabut"
    assert identities.actor(token("akun-2")).sub == "akun-2"  # nobody else
    # Enabled again and logged in again a moment later, in the same second: `iat` has milliseconds.
    again = KEY.issue("akun-1", ["petugas"], now=disabled.timestamp() + 0.005)
    assert identities.actor(again).sub == "akun-1"
    assert refused(Unauthorized, identities, KEY.issue("akun-1", ["petugas"], now=disabled.timestamp() - 0.005))


def test_a_change_of_role_or_area_refuses_the_tokens_issued_before_and_a_change_of_contacts_does_not(identities):
    _, on_event = revocation_bindings(identities)
    held = token("akun-3", role="admin", wilayah="33")
    now = datetime.now(timezone.utc).isoformat()
    on_event("akun.events", "akun.diubah", {"time": now, "data": {"id": "akun-3", "berubah": ["email", "telepon"]}})
    assert identities.actor(held).sub == "akun-3"
    on_event("akun.events", "akun.diubah", {"time": now, "data": {"id": "akun-3", "berubah": ["role"]}})
    assert refused(Unauthorized, identities, held)["code"] == "token_dicabut"


def test_a_new_password_or_code_refuses_older_tokens_and_spares_the_pair_issued_with_it(identities):
    _, on_event = revocation_bindings(identities)
    stolen = token("akun-5", issued_ago=60)
    renewed = token("akun-5")  # issued as the request that changed the password began
    changed = datetime.now(timezone.utc) + timedelta(seconds=1)  # its event, a moment later
    for change in (["password"], ["otp"]):
        on_event("akun.events", "akun.diubah",
                 {"time": changed.isoformat(), "data": {"id": "akun-5", "berubah": change}})
        assert refused(Unauthorized, identities, stolen)["code"] == "token_dicabut"
        assert identities.actor(renewed).sub == "akun-5"
    # An admin removing a lost code leaves no token of before, the holder gets none with it.
    on_event("akun.events", "akun.diubah", {"time": changed.isoformat(), "data": {"id": "akun-5",
                                                                                 "berubah": ["otp_aktif"]}})
    assert refused(Unauthorized, identities, renewed)["code"] == "token_dicabut"


def test_a_disabling_dated_in_the_future_counts_from_now_not_for_ever(identities):
    _, on_event = revocation_bindings(identities)
    on_event("akun.events", "akun.dinonaktifkan", {"time": "2099-01-01T00:00:00+00:00", "data": {"id": "akun-4"}})
    time.sleep(1.01)
    assert identities.actor(KEY.issue("akun-4", ["petugas"])).sub == "akun-4"


def test_a_malformed_disabling_event_changes_nothing(identities):
    _, on_event = revocation_bindings(identities)
    on_event("akun.events", "akun.dinonaktifkan", None)
    on_event("akun.events", "akun.dinonaktifkan", {"data": {}})
    assert identities.actor(token("akun-1")).sub == "akun-1"


def test_the_platforms_keys_come_from_the_configured_files(monkeypatch, tmp_path):
    (tmp_path / "public.pem").write_bytes(public_pem(CURRENT))
    monkeypatch.setenv("JWT_PUBLIC_KEYS_FILE", str(tmp_path / "public.pem"))
    assert Identities(settings().verification_keys()).actor(token()).sub == "penguji"


# Services' own identities (services/common/tokens.py ServiceKeys)

SERVICE_PEMS = {name: new_private_pem() for name in ("kegiatan", "notifikasi")}
SERVICE_KEYS = ServiceKeys({name: public_pem(pem) for name, pem in SERVICE_PEMS.items()})


def test_a_service_is_known_by_the_key_it_signs_with_and_cannot_pass_for_another():
    kegiatan = ServiceKeys.signing_key("kegiatan", SERVICE_PEMS["kegiatan"])
    shown = kegiatan.issue("kegiatan", [], aud=internal_audience("bantuan"))
    assert SERVICE_KEYS.verify(shown, "bantuan") == "kegiatan"
    posing = SigningKey(SERVICE_PEMS["kegiatan"], Audience("notifikasi", internal_audience("bantuan")))
    with pytest.raises(InvalidToken):  # kegiatan's key, claiming to be notifikasi
        SERVICE_KEYS.verify(posing.issue("notifikasi", []), "bantuan")


def test_a_token_shown_to_one_service_is_refused_by_another():
    notifikasi = ServiceKeys.signing_key("notifikasi", SERVICE_PEMS["notifikasi"])
    shown_to_organisasi = notifikasi.issue("notifikasi", [], aud=internal_audience("organisasi"))
    with pytest.raises(InvalidToken):  # organisasi replaying it to kegiatan
        SERVICE_KEYS.verify(shown_to_organisasi, "kegiatan")


def test_a_token_made_a_moment_ahead_of_the_verifiers_clock_is_good_and_one_living_too_long_is_not():
    assert KeySet([public_pem(CURRENT)], AUDIENCE).verify(KEY.issue("penguji", ["admin"], now=time.time() + 5))
    too_long = jwt.encode({"iss": "bkpm", "aud": "bkpm-api", "sub": "x", "roles": ["admin"], "jti": "j",
                           "iat": int(time.time()), "exp": int(time.time()) + 3600}, KEY._key, algorithm="ES256",
                          headers={"kid": KEY.kid})
    with pytest.raises(InvalidToken, match="terlalu panjang"):
        KeySet([public_pem(CURRENT)], AUDIENCE).verify(too_long)


def test_a_persons_token_is_not_a_services_and_a_services_is_not_a_persons(identities):
    with pytest.raises(InvalidToken):
        SERVICE_KEYS.verify(token(), "kegiatan")
    service = ServiceKeys.signing_key("kegiatan", SERVICE_PEMS["kegiatan"]).issue(
        "kegiatan", [], aud=internal_audience("organisasi"))
    with pytest.raises(Unauthorized):
        identities.actor(service)


# A region's own identity provider (services/common/tokens.py ProviderKeys, identity.py
# IdentityProvider): a local HTTP server stands for it, serving its discovery document and keys.

ROLE_MAP = {"bkpm-petugas": "petugas", "bkpm-admin": "admin"}


def with_provider(issuer, role_map=ROLE_MAP, jwks_url=None, area=None, retry_seconds=30):
    provider = IdentityProvider(ProviderKeys(issuer, THEIR_AUDIENCE, jwks_url=jwks_url, retry_seconds=retry_seconds),
                                roles_claim="realm_access.roles", role_map=role_map, area=area)
    return Identities(KeySet([public_pem(CURRENT)], AUDIENCE), provider=provider)


@pytest.fixture(scope="module")
def region():
    started = FakeProvider()
    yield started
    started.stop()


@pytest.fixture
def both(region):
    return with_provider(region.issuer)


def test_a_providers_token_with_a_mapped_role_and_an_area_is_its_holders_actor(both, region):
    actor = both.actor(region.token(roles=["bkpm-petugas", "offline_access", "uma_authorization"]))
    assert (actor.sub, actor.roles, actor.wilayah) == ("oidc:f3b1c2d4", ("petugas",), "33.74")
    assert both.actor(region.token(sub="nasional", roles=["bkpm-admin"], wilayah=None)).wilayah is None
    # Its lifetime is the provider's: an hour is not refused as ours would be.
    assert both.actor(region.token(lives=3600)).sub == "oidc:f3b1c2d4"


def test_the_providers_keys_are_fetched_once_and_its_checked_tokens_kept(region):
    identities = with_provider(region.issuer)
    before = len(region.requests)
    held = region.token(sub="sekali")
    for _ in range(3):
        assert identities.actor(held).sub == "oidc:sekali"
    assert identities.actor(region.token(sub="lain")).sub == "oidc:lain"
    assert region.requests[before:] == ["/realms/polri/.well-known/openid-configuration", "/realms/polri/certs"]


def test_a_providers_token_is_never_restricted_and_no_akun_event_refuses_it(both, region):
    held = region.token(sub="akun-1", hanya="daftar_otp")
    assert both.actor(held).sub == "oidc:akun-1"
    assert both.restriction(held) is None
    _, on_event = revocation_bindings(both)
    on_event("akun.events", "akun.dinonaktifkan",
             {"time": datetime.now(timezone.utc).isoformat(), "data": {"id": "akun-1"}})
    assert both.actor(held).sub == "oidc:akun-1"  # their akun-1 is not our akun-1


def test_a_providers_token_for_another_audience_expired_or_of_an_unknown_key_is_401(both, region):
    assert "tidak diterbitkan" in refused(Unauthorized, both, region.token(aud="sistem-lain"))["detail"]
    assert "kedaluwarsa" in refused(Unauthorized, both, region.token(issued_ago=600))["detail"]
    assert "tidak dikenal" in refused(Unauthorized, both, region.token(key=OTHER_RSA_KEY, kid="kunci-x"))["detail"]
    # The provider's kid, another key: the signature does not hold.
    assert refused(Unauthorized, both, region.token(key=OTHER_RSA_KEY))["code"] == "tidak_terautentikasi"


def test_a_token_with_the_providers_issuer_signed_with_a_secret_or_unsigned_is_401(both, region):
    now = int(time.time())
    claims = {"iss": region.issuer, "aud": THEIR_AUDIENCE, "sub": "penyusup", "iat": now, "exp": now + 300,
              "realm_access": {"roles": ["bkpm-admin"]}}
    shared = jwt.encode(claims, "rahasia-yang-bocor-0123456789abcdef", algorithm="HS256", headers={"kid": "kunci-1"})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "kunci-1"})
    for forged in (shared, unsigned):
        assert refused(Unauthorized, both, forged)["code"] == "tidak_terautentikasi"


def test_a_providers_token_with_no_role_of_ours_or_a_malformed_area_is_401(both, region):
    assert "peran" in refused(Unauthorized, both, region.token(roles=["petugas-lain", "offline_access"]))["detail"]
    # With a map, only what it names counts, even a name that is ours.
    assert "peran" in refused(Unauthorized, both, region.token(roles=["admin"]))["detail"]
    assert "wilayah" in refused(Unauthorized, both, region.token(wilayah="33-74"))["detail"]
    assert "wilayah" in refused(Unauthorized, both, region.token(wilayah=["33.74"]))["detail"]


def test_a_regions_provider_speaks_for_its_region_only(region):
    jateng = with_provider(region.issuer, area="33")
    assert jateng.actor(region.token(wilayah="33.74")).wilayah == "33.74"
    assert jateng.actor(region.token(sub="lupa-atribut", wilayah=None)).wilayah == "33"  # not national
    assert "di luar wilayahnya" in refused(Unauthorized, jateng, region.token(sub="luar", wilayah="31.71"))["detail"]
    assert "di luar wilayahnya" in refused(Unauthorized, jateng, region.token(sub="mirip", wilayah="3"))["detail"]


def test_without_a_map_a_providers_role_names_must_be_ours(region):
    identities = with_provider(region.issuer, role_map=None)
    assert identities.actor(region.token(roles=["pemantau", "offline_access"])).roles == ("pemantau",)
    assert "peran" in refused(Unauthorized, identities, region.token(roles=["bkpm-petugas"]))["detail"]


def test_our_own_tokens_are_still_ours_and_another_issuers_are_401(both, region):
    actor = both.actor(token("sek-3171", "pengurus", "31.71"))
    assert (actor.sub, actor.roles, actor.wilayah) == ("sek-3171", ("pengurus",), "31.71")
    other = SigningKey(CURRENT, Audience("https://sso.lain.go.id/realms/x", "bkpm-api")).issue("x", ["admin"])
    assert "tidak diterbitkan" in refused(Unauthorized, both, other)["detail"]
    assert "tidak dikenal" in refused(Unauthorized, both, token(key=STRANGER_KEY))["detail"]


def test_a_provider_that_does_not_answer_is_503_and_is_not_asked_again_for_a_while():
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/realms/polri"
    identities = with_provider(issuer)
    refused(Unavailable, identities, their_token(issuer))
    started = FakeProvider(port)
    try:
        refused(Unavailable, identities, their_token(issuer, sub="lagi"))
        assert started.requests == []  # answered at once, without waiting on the provider again
    finally:
        started.stop()


def test_a_provider_that_does_not_answer_is_503_and_is_asked_again_at_the_next_token():
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/realms/polri"
    identities = with_provider(issuer, retry_seconds=0)
    payload = refused(Unavailable, identities, their_token(issuer))
    assert payload["code"] == "penyedia_identitas_tidak_tersedia" and "coba lagi" in payload["detail"]
    started = FakeProvider(port)
    try:
        assert identities.actor(their_token(issuer)).sub == "oidc:f3b1c2d4"  # the failure was not kept
    finally:
        started.stop()


def test_keys_named_by_oidc_jwks_url_are_fetched_from_there_and_503_when_it_does_not_answer(region):
    before = len(region.requests)
    identities = with_provider(region.issuer, jwks_url=f"{region.issuer}/certs")
    assert identities.actor(region.token()).sub == "oidc:f3b1c2d4"
    assert region.requests[before:] == ["/realms/polri/certs"]  # no discovery
    closed = with_provider(region.issuer, jwks_url=f"http://127.0.0.1:{free_port()}/certs")
    assert refused(Unavailable, closed, region.token())["code"] == "penyedia_identitas_tidak_tersedia"
