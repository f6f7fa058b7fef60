"""Who is calling, from an access token (services/common/identity.py): checked signature,
well-formed claims, a restricted token only where it is meant, and a disabled account's
tokens refused once its disabling is heard."""
import time
from datetime import datetime, timezone

import pytest

from services.common.config import settings
from services.common.errors import Forbidden, Unauthorized
from services.common.identity import ANY_PURPOSE, Identities, revocation_bindings
from services.common.tokens import (INTERNAL_AUDIENCE, Audience, InvalidToken, KeySet, ServiceKeys, SigningKey,
                                    new_private_pem, public_pem)
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
    assert bindings == {"akun.events": ["akun.dinonaktifkan"]}
    on_event("akun.events", "akun.dinonaktifkan",
             {"time": datetime.now(timezone.utc).isoformat(), "data": {"id": "akun-1", "username": "budi"}})
    assert refused(Unauthorized, identities, before)["code"] == "akun_nonaktif"
    assert identities.actor(token("akun-2")).sub == "akun-2"  # nobody else
    time.sleep(1.01)  # `iat` counts whole seconds
    assert identities.actor(KEY.issue("akun-1", ["petugas"])).sub == "akun-1"  # enabled again, logged in again


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
    assert SERVICE_KEYS.verify(kegiatan.issue("kegiatan", [])) == "kegiatan"
    posing = SigningKey(SERVICE_PEMS["kegiatan"], Audience("notifikasi", INTERNAL_AUDIENCE))
    with pytest.raises(InvalidToken):  # kegiatan's key, claiming to be notifikasi
        SERVICE_KEYS.verify(posing.issue("notifikasi", []))


def test_a_persons_token_is_not_a_services_and_a_services_is_not_a_persons(identities):
    with pytest.raises(InvalidToken):
        SERVICE_KEYS.verify(token())
    service = ServiceKeys.signing_key("kegiatan", SERVICE_PEMS["kegiatan"]).issue("kegiatan", [])
    with pytest.raises(Unauthorized):
        identities.actor(service)
