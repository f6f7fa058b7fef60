"""The public feed's AsyncAPI document: generated from the schemas the services publish with,
committed as docs/asyncapi.json, valid against the official AsyncAPI 3.0 JSON schema, and
naming every event type the services emit."""
import copy
import json

import jsonschema
import pytest

from services import asyncapi
from services.akun import schemas as akun
from services.bantuan import schemas as bantuan
from services.common.events import INTERNAL, public_routing_key
from services.kegiatan import schemas as kegiatan
from services.notifikasi import schemas as notifikasi
from services.organisasi import schemas as organisasi
from tests.support import ROOT

OFFICIAL_SCHEMA = ROOT / "tools/asyncapi/node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"
SERVICES = {"organisasi": organisasi, "kegiatan": kegiatan, "bantuan": bantuan, "notifikasi": notifikasi,
            "akun": akun}
# What the services put on the public feed: every event type whose projection is not INTERNAL.
EMITTED = {service: [event_type for event_type, projection in module.PUBLIC_DATA_SCHEMAS.items()
                     if projection is not INTERNAL]
           for service, module in SERVICES.items()}


@pytest.fixture(scope="module")
def validator():
    assert OFFICIAL_SCHEMA.exists(), "make test installs the AsyncAPI schemas (npm ci --prefix tools/asyncapi)"
    return jsonschema.Draft7Validator(json.loads(OFFICIAL_SCHEMA.read_text()))


def test_the_committed_document_is_the_generated_one():
    committed = json.loads((ROOT / "docs/asyncapi.json").read_text())
    assert committed == asyncapi.document(), "regenerate it: bkpm asyncapi > docs/asyncapi.json"


def test_the_document_is_valid_asyncapi_3(validator):
    document = asyncapi.document()
    assert list(validator.iter_errors(document)) == []
    broken = copy.deepcopy(document)
    del broken["channels"]["bantuan.penyaluran.dicatat"]["address"]
    broken["operations"]["receiveBantuanPenyaluranDicatat"]["action"] = "kirim"
    assert list(validator.iter_errors(broken))  # the validator does catch a bad document


def test_every_event_type_the_services_emit_is_in_it_with_its_public_data():
    document = asyncapi.document()
    for service, emitted in EMITTED.items():
        for event_type in emitted:
            key = f"{service}.{event_type}"
            message = document["components"]["messages"][key]
            assert message["payload"]["properties"]["type"] == {"const": event_type}
            data = document["components"]["schemas"][f"{key}.data"]
            assert set(data["properties"]) == set(asyncapi.PUBLIC_EVENTS[service][event_type]().fields)
            channel = document["channels"][key]
            example = {"type": event_type, "wilayah": "31.71.01"}
            assert channel["address"].replace("{wilayah}", "31.71.01") == public_routing_key(service, example)
    assert len(document["channels"]) == sum(len(emitted) for emitted in EMITTED.values())


def test_no_public_schema_carries_a_field_for_personal_data():
    personal = {"nik", "no_kk", "telepon", "email", "pelapor", "isi", "penerima", "penerima_id", "alamat_rumah"}
    for service, events in asyncapi.PUBLIC_EVENTS.items():
        for event_type, schema in events.items():
            assert not personal & set(schema().fields), (service, event_type)


def test_internal_event_types_are_not_in_it():
    document = asyncapi.document()
    internal = [f"{service}.{event_type}" for service, module in SERVICES.items()
                for event_type, projection in module.PUBLIC_DATA_SCHEMAS.items() if projection is INTERNAL]
    assert {"kegiatan.survei.diisi", "notifikasi.notifikasi.terkirim", "notifikasi.notifikasi.gagal",
            "akun.akun.reset_diminta"} <= set(internal)
    assert not set(internal) & set(document["channels"])
    assert not set(internal) & set(document["components"]["messages"])


def test_removing_fields_from_the_feed_made_it_a_new_major_version_and_new_event_types_a_minor_one():
    assert asyncapi.document()["info"]["version"] == "2.1.0"
