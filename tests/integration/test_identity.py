"""The services check the caller's token themselves: a message put straight onto the broker
(anyone with the platform's broker login could) with a forged caller is refused by each of the
four services, and changes nothing; the token the gateway passes on is believed."""
import json
import time

import jwt
import pika
import pytest
import requests

from services.common.config import SERVICE_KEYS
from services.common.errors import Forbidden, Unauthorized
from services.common.events import new_event
from services.common.tokens import Audience, SigningKey, internal_audience, new_private_pem
from tests.support import rpc_client, token_for, wait_until

NATIONAL_ADMIN = {"sub": "penyusup", "roles": ["admin"], "wilayah": None}
# A write or a read of personal data of each service, with its arguments after the caller.
CALLS = [("akun", "list_akun", ({"page": 1, "per_page": 5},)),
         ("organisasi", "bentuk_unit", ({"tingkat": "provinsi", "kode_wilayah": "11"},)),
         ("kegiatan", "list_aspirasi", ({"page": 1, "per_page": 5},)),
         ("bantuan", "list_penerima", ({"page": 1, "per_page": 5},)),
         ("notifikasi", "list_pengiriman", ({"page": 1, "per_page": 5},))]


def hs256(env):
    """The old kind of token: a shared secret, which anyone holding it could forge."""
    now = int(time.time())
    return jwt.encode({"iss": "bkpm", "aud": "bkpm-api", "sub": "penyusup", "roles": ["admin"], "iat": now,
                       "exp": now + 600, "jti": "x"}, "rahasia-yang-bocor-0123456789abcdef", algorithm="HS256")


def stranger(env):
    """A well-formed token signed with a key the platform does not know."""
    return SigningKey(new_private_pem(), Audience("bkpm", "bkpm-api")).issue("penyusup", ["admin"])


def platform_key(env, audience="bkpm-api"):
    with open(env["JWT_PRIVATE_KEY_FILE"], "rb") as pem:
        return SigningKey(pem.read(), Audience("bkpm", audience))


FORGERIES = {
    "actor-dict": lambda env: NATIONAL_ADMIN,       # what the services believed before
    "no-token": lambda env: None,
    "hs256": hs256,
    "unknown-key": stranger,
    "other-audience": lambda env: platform_key(env, "sistem-lain").issue("penyusup", ["admin"]),
    "expired": lambda env: platform_key(env).issue("penyusup", ["admin"], now=time.time() - 3600),
}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("service,method,args", CALLS, ids=[f"{s}.{m}" for s, m, _ in CALLS])
def test_a_forged_caller_put_on_the_broker_is_refused_by_the_service(gateway, env, organisasi_db, service, method,
                                                                     args, forgery):
    before = organisasi_db.units.count_documents({})
    with pytest.raises(Unauthorized):
        rpc_client(env).call(service, method, FORGERIES[forgery](env), *args)
    assert organisasi_db.units.count_documents({}) == before


def test_the_platforms_own_token_is_believed_by_each_service(gateway, env):
    client = rpc_client(env)
    assert client.call("kegiatan", "list_aspirasi", token_for(env), {"page": 1, "per_page": 1})["page"] == 1
    assert client.call("bantuan", "list_penerima", token_for(env, role="petugas", wilayah="62.02"),
                       {"page": 1, "per_page": 1})["page"] == 1
    assert client.call("notifikasi", "list_pengiriman", token_for(env), {"page": 1, "per_page": 1})["page"] == 1


def test_a_disabled_accounts_access_token_is_refused_by_the_gateway_and_the_services_once_they_hear_it(
        gateway, env, api):
    """akun publishes akun.dinonaktifkan when an account is disabled (here published as akun
    does, on its own exchange); its token, still unexpired, stops working everywhere."""
    held = token_for(env, sub="akun-yang-pergi", role="pemantau", wilayah="62.02")
    headers = {"Authorization": f"Bearer {held}"}
    assert requests.get(f"{gateway}/api/v1/units", headers=headers, timeout=10).status_code == 200
    time.sleep(1)  # disabled a moment after the token was issued
    event = new_event("akun", "akun.dinonaktifkan", "akun/akun-yang-pergi",
                      {"id": "akun-yang-pergi", "username": "pergi", "wilayah": "62.02"}, wilayah="62.02")
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    try:
        channel = connection.channel()
        channel.exchange_declare("akun.events", exchange_type="topic", durable=True)
        channel.basic_publish("akun.events", "akun.dinonaktifkan", json.dumps(event),
                              pika.BasicProperties(content_type="application/cloudevents+json", delivery_mode=2))
    finally:
        connection.close()

    def refused_everywhere():
        at_gateway = requests.get(f"{gateway}/api/v1/units", headers=headers, timeout=10).status_code
        try:
            rpc_client(env).call("kegiatan", "list_aspirasi", held, {"page": 1, "per_page": 1})
            at_service = 200
        except Unauthorized:
            at_service = 401
        return at_gateway == 401 and at_service == 401

    wait_until(refused_everywhere, "the disabled account's token refused by the gateway and kegiatan")
    assert requests.get(f"{gateway}/api/v1/units", timeout=10, headers={
        "Authorization": f"Bearer {token_for(env, sub='akun-lain', role='pemantau')}"}).status_code == 200


def service_token(env, name, callee):
    """The token service `name` shows `callee`, signed with its own key."""
    from pathlib import Path
    from services.common.tokens import ServiceKeys
    folder = Path(env["BKPM_DATA_DIR"]) / SERVICE_KEYS
    key = ServiceKeys.signing_key(name, (folder / f"{name}.pem").read_bytes())
    return key.issue(name, [], aud=internal_audience(callee))


@pytest.mark.parametrize("service,method,args,allowed,refused", [
    ("organisasi", "list_kontak_unit", ("unit-x",), "notifikasi", "bantuan"),
    ("organisasi", "get_unit_dan_wilayah", ("unit-x", "62.02"), "kegiatan", "notifikasi"),
    ("kegiatan", "get_kontak_pelapor", ("aspirasi-x",), "notifikasi", "organisasi"),
    ("bantuan", "get_kontak_penerima", ("penerima-x",), "notifikasi", "kegiatan"),
    ("akun", "serahkan_reset", ("reset-x",), "notifikasi", "kegiatan"),
])
def test_an_internal_method_answers_only_the_services_on_its_list(gateway, env, service, method, args, allowed,
                                                                  refused):
    client = rpc_client(env)
    client.call(service, method, service_token(env, allowed, service), *args)  # answered (nothing found is fine)
    with pytest.raises(Forbidden):
        client.call(service, method, service_token(env, refused, service), *args)
    elsewhere = "organisasi" if service == "akun" else "akun"
    with pytest.raises(Unauthorized):  # what the allowed service was shown by another, replayed here
        client.call(service, method, service_token(env, allowed, elsewhere), *args)
    for forged in (token_for(env), None, NATIONAL_ADMIN, stranger(env)):  # a person's token, none, forgeries
        with pytest.raises(Unauthorized):
            client.call(service, method, forged, *args)
