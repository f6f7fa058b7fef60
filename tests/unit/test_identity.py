"""Who is calling, from an access token (services/common/identity.py): checked signature,
well-formed claims, a restricted token only where it is meant, and a disabled account's
tokens refused once its disabling is heard."""
import time

import jwt
from datetime import datetime, timezone

import pytest

from services.common.config import settings
from services.common.errors import Forbidden, Unauthorized
from services.common.identity import ANY_PURPOSE, Identities, revocation_bindings
from services.common.tokens import (Audience, InvalidToken, KeySet, ServiceKeys, SigningKey,
                                    internal_audience, new_private_pem, public_pem)
from tests.keys import AUDIENCE, CURRENT, KEY, STRANGER_KEY, token


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
    on_event("akun.events", "akun.dinonaktifkan",
             {"time": datetime.now(timezone.utc).isoformat(), "data": {"id": "akun-1", "username": "budi"}})
    assert refused(Unauthorized, identities, before)["code"] == "token_dicabut"
    assert identities.actor(token("akun-2")).sub == "akun-2"  # nobody else
    time.sleep(1.01)  # `iat` counts whole seconds
    assert identities.actor(KEY.issue("akun-1", ["petugas"])).sub == "akun-1"  # enabled again, logged in again


def test_a_change_of_role_or_area_refuses_the_tokens_issued_before_and_a_change_of_contacts_does_not(identities):
    _, on_event = revocation_bindings(identities)
    held = token("akun-3", role="admin", wilayah="33")
    now = datetime.now(timezone.utc).isoformat()
    on_event("akun.events", "akun.diubah", {"time": now, "data": {"id": "akun-3", "berubah": ["email", "telepon"]}})
    assert identities.actor(held).sub == "akun-3"
    on_event("akun.events", "akun.diubah", {"time": now, "data": {"id": "akun-3", "berubah": ["role"]}})
    assert refused(Unauthorized, identities, held)["code"] == "token_dicabut"


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
