"""A region's identity provider (OIDC) end to end, on the session platform (its OIDC_* settings
are in tests/conftest.py: a provider of Jawa Tengah, 33): a Keycloak-like provider on 127.0.0.1 serves its
discovery document and keys; the gateway and the service behind it both accept its tokens,
scoped to the area they name, and refuse one for another audience."""
from urllib.parse import urlsplit

import pytest
import requests

from services.common.errors import Unauthorized
from tests.oidc import FakeProvider
from tests.support import assert_problem, rpc_client


@pytest.fixture(scope="module")
def provider(env):
    started = FakeProvider(urlsplit(env["OIDC_ISSUER"]).port)
    assert started.issuer == env["OIDC_ISSUER"]
    yield started
    started.stop()


def units(gateway, token, kode_prefix):
    return requests.get(f"{gateway}/api/v1/units", params={"kode_prefix": kode_prefix},
                        headers={"Authorization": f"Bearer {token}"}, timeout=15)


def test_a_providers_token_is_believed_by_the_gateway_and_by_the_service_behind_it(gateway, env, provider):
    held = provider.token()
    assert units(gateway, held, "33.74").status_code == 200
    assert_problem(units(gateway, held, "33.75"), 403)  # outside the area the token names
    # The service checks it itself, as it does any token put on the broker.
    page = rpc_client(env).call("organisasi", "list_unit", held, {"kode_prefix": "33.74.01"})
    assert page["page"] == 1


def test_a_providers_token_for_another_audience_or_with_no_role_of_ours_is_401(gateway, env, provider):
    other = provider.token(aud="sistem-lain")
    assert "tidak diterbitkan" in assert_problem(units(gateway, other, "33.74"), 401)["detail"]
    with pytest.raises(Unauthorized):
        rpc_client(env).call("organisasi", "list_unit", other, {"kode_prefix": "33.74"})
    # Not in OIDC_ROLE_MAP, though named as one of ours: only the map counts.
    assert "peran" in assert_problem(units(gateway, provider.token(roles=["admin"]), "33.74"), 401)["detail"]


def test_a_regions_provider_gives_no_access_outside_its_region(gateway, provider):
    elsewhere = provider.token(wilayah="31.71")
    assert "di luar wilayahnya" in assert_problem(units(gateway, elsewhere, "31.71"), 401)["detail"]
    regional = provider.token(wilayah=None, sub="tanpa-atribut")  # a forgotten mapper: the region, not national
    assert units(gateway, regional, "33").status_code == 200
    assert_problem(units(gateway, regional, "31"), 403)
