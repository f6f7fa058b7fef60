"""The public feed's rules in plain Python: routing keys, the public projection of each event,
the event log's cursor and merge, the subscriber's bindings and topic matching, and an outside
system's RabbitMQ user. No broker, no database."""
import base64
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import bson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields

from services import broker_definitions as outside_systems
from services.akun import schemas as akun_schemas
from services.bantuan import schemas as bantuan_schemas
from services.bantuan.schemas import PENYALURAN_PUBLIK, PenyaluranData
from services.common.eventlog import EventLogQuerySchema, decode_cursor, encode_cursor, merge_pages, type_filter
from services.common.events import INTERNAL, PUBLIC_EXCHANGE, new_event, public_event, public_routing_key, public_schema
from services.common.schema import BaseSchema
from services.common.store import Store
from services.kegiatan import schemas as kegiatan_schemas
from services.notifikasi import schemas as notifikasi_schemas
from services.organisasi import schemas as organisasi_schemas
from services.subscriber import Subscriber, binding_keys, routing_key_of, topic_matches
from tests.support import ROOT

SERVICE_SCHEMAS = {"akun": akun_schemas, "bantuan": bantuan_schemas, "kegiatan": kegiatan_schemas,
                   "notifikasi": notifikasi_schemas, "organisasi": organisasi_schemas}

PENYALURAN = {"id": "pny-1", "program_id": "prg-1", "penerima_id": "pnr-rahasia", "kode_wilayah": "31.71.01.1001",
              "tanggal": "2026-03-02", "jenis_bukti": "foto", "kegiatan_id": None}


def area_event(event_type="penyaluran.dicatat", wilayah="31.71.01.1001"):
    return new_event("bantuan", event_type, "pny-1", {"id": "pny-1"}, wilayah=wilayah, correlation_id="req-42")


# Routing keys

def test_an_area_event_is_routed_by_service_entity_verb_and_every_part_of_its_area_code():
    assert public_routing_key("bantuan", area_event()) == "bantuan.penyaluran.dicatat.31.71.01.1001"
    assert public_routing_key("kegiatan", {"type": "kegiatan.dimulai", "wilayah": "53.71"}) == \
        "kegiatan.kegiatan.dimulai.53.71"


def test_a_national_event_is_routed_up_to_the_verb_only():
    assert public_routing_key("bantuan", {"type": "program.dibuat", "wilayah": None}) == "bantuan.program.dibuat"
    assert public_routing_key("bantuan", {"type": "program.dibuat"}) == "bantuan.program.dibuat"


def test_a_versioned_type_keeps_three_words_before_the_area():
    key = public_routing_key("bantuan", {"type": "penyaluran.dicatat.v2", "wilayah": "31.71"})
    assert key == "bantuan.penyaluran.dicatat_v2.31.71"
    assert key.split(".")[:3] == ["bantuan", "penyaluran", "dicatat_v2"]
    assert public_routing_key("bantuan", {"type": "penyaluran.dicatat.v2", "wilayah": None}) == \
        "bantuan.penyaluran.dicatat_v2"
    # So a binding for the whole area still reaches it, and one for the old type does not.
    assert topic_matches("*.*.*.31.#", key)
    assert not topic_matches("bantuan.penyaluran.dicatat.#", key)


def test_the_routing_key_of_a_received_event_takes_the_service_from_its_source():
    event = public_event(area_event(), {"id": "pny-1"})
    assert event["source"] == "/bkpm/bantuan"
    assert routing_key_of(event) == "bantuan.penyaluran.dicatat.31.71.01.1001"
    national = {"source": "/bkpm/organisasi", "type": "unit.dibentuk", "wilayah": None}
    assert routing_key_of(national) == "organisasi.unit.dibentuk"


# The public event

def test_the_public_event_keeps_the_envelope_replaces_the_data_and_drops_the_correlation_id():
    internal = area_event()
    internal["data"] = dict(PENYALURAN)
    public = public_event(internal, {"id": "pny-1", "kode_wilayah": "31.71.01.1001"})
    kept = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype", "wilayah")
    assert set(public) == {*kept, "data"}
    assert {name: public[name] for name in kept} == {name: internal[name] for name in kept}
    assert public["data"] == {"id": "pny-1", "kode_wilayah": "31.71.01.1001"}
    assert "correlationid" not in public and internal["correlationid"] == "req-42"
    assert internal["data"]["penerima_id"] == "pnr-rahasia"  # the internal event is left as it was


def test_a_national_public_event_says_its_area_is_null():
    public = public_event(area_event("program.dibuat", wilayah=None), {})
    assert "wilayah" in public and public["wilayah"] is None


# The public projection

def test_a_field_added_to_the_internal_data_stays_internal_until_it_is_named():
    with_new_field = type("PenyaluranDenganNik", (PenyaluranData,), {"nik": fields.String()})
    projection = public_schema(with_new_field, *PENYALURAN_PUBLIK)
    assert "nik" in with_new_field().fields and "nik" not in projection().fields
    dumped = projection().dump({**PENYALURAN, "nik": "3171010101010001"})
    assert "nik" not in dumped and "penerima_id" not in dumped
    assert dumped == {name: PENYALURAN[name] for name in PENYALURAN_PUBLIK}


def test_a_projection_dumps_exactly_the_named_fields_of_a_made_up_schema():
    class Data(BaseSchema):
        id = fields.String()
        kode_wilayah = fields.String()
        rahasia = fields.String()

    projection = public_schema(Data, "id", "kode_wilayah")
    assert issubclass(projection, Data)
    assert projection().dump({"id": "a", "kode_wilayah": "31", "rahasia": "x"}) == {"id": "a", "kode_wilayah": "31"}
    assert Data().dump({"id": "a", "kode_wilayah": "31", "rahasia": "x"})["rahasia"] == "x"  # Data is untouched


def test_the_public_penyaluran_events_never_carry_the_recipient_nor_the_reason_for_cancelling():
    dicatat = bantuan_schemas.PUBLIC_DATA_SCHEMAS["penyaluran.dicatat"]
    assert "penerima_id" not in dicatat().fields
    assert dicatat().dump(PENYALURAN) == {"id": "pny-1", "program_id": "prg-1", "kode_wilayah": "31.71.01.1001",
                                          "tanggal": "2026-03-02", "jenis_bukti": "foto", "kegiatan_id": None}
    dibatalkan = bantuan_schemas.PUBLIC_DATA_SCHEMAS["penyaluran.dibatalkan"]
    dumped = dibatalkan().dump({**PENYALURAN, "alasan_batal": "penerima pindah"})
    assert "penerima_id" not in dumped and "alasan_batal" not in dumped


# No free text people typed, nothing about one person

KEGIATAN = {"id": "kgt-1", "unit_id": "unit-1", "jenis": "dialog", "judul": "Dialog Kamtibmas", "status": "dibatalkan",
            "mulai": datetime(2026, 12, 10, 1, tzinfo=timezone.utc), "program_id": None,
            "selesai": datetime(2026, 12, 10, 3, tzinfo=timezone.utc),
            "lokasi": {"kode_wilayah": "52.71.01", "alamat": "Rumah Pak Lalu, Jl. Melati 7", "lat": -8.5, "lon": 116.1}}
NOT_TEXT = (fields.Number, fields.Boolean, fields.Date, fields.DateTime)


def text_fields(schema, prefix=""):
    """The dotted path of every field of a schema instance that can hold text, nested ones included."""
    for name, field in schema.fields.items():
        yield from _texts_of(field, prefix + name)


def _texts_of(field, path):
    if isinstance(field, fields.Nested):
        yield from text_fields(field.schema, path + ".")
    elif isinstance(field, fields.List):
        yield from _texts_of(field.inner, path)
    elif not isinstance(field, NOT_TEXT):
        yield path


def made_by_the_platform(path):
    """Ids the platform makes and area codes checked against the official list: no one types them."""
    name = path.rsplit(".", 1)[-1]
    return name == "id" or name.endswith("_id") or name in ("kode_wilayah", "wilayah_sasaran")


def documented_text_fields():
    """{(service, field): (kind, why)} from the table of docs/public-events.md."""
    section = (ROOT / "docs/public-events.md").read_text().split("## Text in the public data\n", 1)[1]
    rows = re.findall(r"^\| (\w+) \| `([\w.]+)` \| (enum|public text) \| (.*) \|$", section.split("\n## ")[0], re.M)
    return {(service, field): (kind, why.strip()) for service, field, kind, why in rows}


def public_text_fields():
    return {(service, path) for service, module in SERVICE_SCHEMAS.items()
            for projection in module.PUBLIC_DATA_SCHEMAS.values() if projection is not INTERNAL
            for path in text_fields(projection()) if not made_by_the_platform(path)}


def test_the_walk_finds_text_in_nested_records_and_lists():
    class Data(BaseSchema):
        id = fields.String()
        jumlah = fields.Integer()
        tanggal = fields.Date()
        lokasi = fields.Nested(kegiatan_schemas.LokasiSchema)
        catatan = fields.List(fields.String())

    assert sorted(text_fields(Data())) == ["catatan", "id", "lokasi.alamat", "lokasi.kode_wilayah"]
    assert {path for path in text_fields(Data()) if not made_by_the_platform(path)} == {"catatan", "lokasi.alamat"}


def test_every_text_field_on_the_feed_is_an_id_a_code_or_documented_as_an_enum_or_public_text():
    documented = documented_text_fields()
    assert all(why for _, why in documented.values())  # each says why, or which values
    # Nothing undocumented is on the feed, and the table names no field the feed no longer has.
    assert public_text_fields() == set(documented)
    assert documented[("kegiatan", "judul")][0] == "public text"


def test_a_new_free_text_field_in_a_projection_would_be_caught():
    with_note = public_schema(kegiatan_schemas.KegiatanDibatalkanData, *kegiatan_schemas.KEGIATAN_PUBLIK,
                              "alasan_batal")
    undocumented = {path for path in text_fields(with_note()) if not made_by_the_platform(path)}
    assert undocumented - {field for _, field in documented_text_fields()} == {"alasan_batal", "lokasi.alamat"}


@pytest.mark.parametrize("event_type", ["kegiatan.dijadwalkan", "kegiatan.dimulai", "kegiatan.selesai",
                                        "kegiatan.dibatalkan"])
def test_a_public_activity_has_its_title_and_area_but_no_address_point_report_or_reason(event_type):
    record = {**KEGIATAN, "alasan_batal": "Pak Lalu sakit keras",
              "laporan": {"jumlah_peserta": 3, "ringkasan": "Warga A mengeluh", "temuan": []}}
    dumped = kegiatan_schemas.PUBLIC_DATA_SCHEMAS[event_type]().dump(record)
    assert set(dumped) == set(kegiatan_schemas.KEGIATAN_PUBLIK)
    assert dumped["judul"] == "Dialog Kamtibmas" and dumped["lokasi"] == {"kode_wilayah": "52.71.01"}
    assert kegiatan_schemas.EVENT_DATA_SCHEMAS[event_type]().dump(record)["lokasi"]["alamat"]  # still inside


def test_a_board_appointment_on_the_feed_names_the_position_not_the_person():
    record = {"id": "pgr-1", "unit_id": "unit-1", "jabatan": "wakil_ketua", "nama": "H. Lalu Rahman",
              "pangkat": "Tokoh masyarakat", "jabatan_polri": None, "mulai": "2026-01-02", "selesai": None}
    dumped = organisasi_schemas.PUBLIC_DATA_SCHEMAS["pengurus.diangkat"]().dump(record)
    assert dumped == {"id": "pgr-1", "unit_id": "unit-1", "jabatan": "wakil_ketua", "mulai": "2026-01-02",
                      "selesai": None}


def test_events_about_one_person_stay_inside():
    # One survey answer (its time and activity point to who gave it), each message notifikasi
    # sent (to one person, about one event, maybe an internal one such as a password reset) and
    # every account event.
    assert kegiatan_schemas.PUBLIC_DATA_SCHEMAS["survei.diisi"] is INTERNAL
    assert set(notifikasi_schemas.PUBLIC_DATA_SCHEMAS.values()) == {INTERNAL}
    assert set(akun_schemas.PUBLIC_DATA_SCHEMAS.values()) == {INTERNAL}


def test_a_nested_projection_keeps_the_field_required_or_nullable_as_it_was():
    projection = public_schema(kegiatan_schemas.KegiatanData, "id", "lokasi", lokasi=kegiatan_schemas.LokasiPublik)
    lokasi = projection().fields["lokasi"]
    assert lokasi.required and not lokasi.allow_none
    assert set(lokasi.schema.fields) == {"kode_wilayah"}
    assert set(kegiatan_schemas.KegiatanData().fields["lokasi"].schema.fields) >= {"alamat", "lat", "lon"}


def test_a_nested_projection_of_a_field_the_projection_does_not_name_is_refused():
    with pytest.raises(ValueError, match="lokasi"):
        public_schema(kegiatan_schemas.KegiatanData, "id", lokasi=kegiatan_schemas.LokasiPublik)


def test_naming_a_field_the_data_schema_does_not_have_fails_when_the_schema_is_instantiated():
    class Data(BaseSchema):
        id = fields.String()

    projection = public_schema(Data, "id", "nama_salah_ketik")  # creating the class does not check the names
    # marshmallow 4.4 raises KeyError here (3.x raised ValueError "Invalid fields for ..."); either way it fails.
    with pytest.raises((KeyError, ValueError), match="nama_salah_ketik"):
        projection()


@pytest.mark.parametrize("service", sorted(SERVICE_SCHEMAS))
def test_every_event_type_of_a_service_has_a_public_projection_of_its_own_data_schema(service):
    module = SERVICE_SCHEMAS[service]
    assert set(module.PUBLIC_DATA_SCHEMAS) == set(module.EVENT_DATA_SCHEMAS)
    for event_type, data_schema in module.EVENT_DATA_SCHEMAS.items():
        if module.PUBLIC_DATA_SCHEMAS[event_type] is INTERNAL:
            continue
        public_fields = set(module.PUBLIC_DATA_SCHEMAS[event_type]().fields)  # instantiating checks the names
        assert public_fields, event_type
        assert public_fields <= set(data_schema().fields), event_type


def test_a_service_does_not_start_with_an_event_type_lacking_a_public_projection_or_the_other_way_round():
    class Repository:
        INDEXES = {}

    class Data(BaseSchema):
        id = fields.String()

    public = public_schema(Data, "id")
    with pytest.raises(ValueError, match="b.dihapus"):
        Store(Repository, {"a.dibuat": Data, "b.dihapus": Data}, {"a.dibuat": public})
    with pytest.raises(ValueError, match="c.lain"):
        Store(Repository, {"a.dibuat": Data}, {"a.dibuat": public, "c.lain": public})
    store = Store(Repository, {"a.dibuat": Data}, {"a.dibuat": public})
    assert store.event_schemas == {"a.dibuat": (Data, public)}
    assert store.repository_class is Repository


# The event log's cursor

def test_a_cursor_round_trips_and_no_cursor_means_from_the_start():
    places = {"bantuan": 12, "kegiatan": 0, "organisasi": 3}
    cursor = encode_cursor(places)
    assert decode_cursor(cursor) == places
    assert re.fullmatch(r"[A-Za-z0-9_=-]+", cursor)  # safe in a URL as it is
    assert decode_cursor("") == {} and decode_cursor(None) == {}


@pytest.mark.parametrize("cursor", [
    "garbage",
    "!!!!",
    "YQ",  # base64 without its padding
    base64.urlsafe_b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(7).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"bantuan": "12"}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"bantuan": 1.5}).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"bantuan": None}).encode()).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_a_cursor_that_is_not_ours_is_a_validation_error(cursor):
    with pytest.raises(ValidationError, match="Cursor tidak dikenal"):
        decode_cursor(cursor)


def test_a_cursor_with_boolean_places_is_a_validation_error():
    with pytest.raises(ValidationError):
        decode_cursor(base64.urlsafe_b64encode(json.dumps({"bantuan": True}).encode()).decode())


def test_a_cursor_with_a_place_beyond_what_the_log_can_hold_is_a_validation_error():
    huge = 2 ** 63
    with pytest.raises(OverflowError):  # what the service would hit: such a place cannot even be queried
        bson.encode({"seq": {"$gt": huge}})
    with pytest.raises(ValidationError):
        decode_cursor(encode_cursor({"bantuan": huge}))


def test_a_deeply_nested_cursor_is_a_validation_error():
    cursor = base64.urlsafe_b64encode(b"[" * 1100).decode()  # about 1.5 kB: fits in a query string
    with pytest.raises(ValidationError):
        decode_cursor(cursor)


def test_the_query_refuses_an_unreadable_cursor_as_a_cursor_error():
    with pytest.raises(ValidationError) as caught:
        EventLogQuerySchema().load({"cursor": "garbage"})
    assert list(caught.value.messages) == ["cursor"]
    cursor = encode_cursor({"bantuan": 3})
    assert EventLogQuerySchema().load({"cursor": cursor}) == {"cursor": cursor, "limit": 100}


@pytest.mark.parametrize("pattern", ["penyaluran.dicatat", "penyaluran.*", "*.dibatalkan", "*.*",
                                     "penyaluran.dicatat.v2", "kuota.habis"])
def test_the_query_accepts_event_type_patterns(pattern):
    assert EventLogQuerySchema().load({"type": pattern})["type"] == pattern


@pytest.mark.parametrize("pattern", ["Penyaluran", "penyaluran", "a.b.c", "", "penyaluran.*.v2", "penyal*.dicatat",
                                     "penyaluran.dicatat\n", "#"])
def test_the_query_refuses_other_event_type_patterns(pattern):
    with pytest.raises(ValidationError) as caught:
        EventLogQuerySchema().load({"type": pattern})
    assert list(caught.value.messages) == ["type"]


def matches(pattern, event_type):
    """As the database applies the filter: a regex search over the stored type."""
    (criterion,) = type_filter(pattern).values()
    return re.search(criterion["$regex"], event_type) is not None


def test_the_type_filter_is_on_the_public_event_type_and_a_star_is_one_whole_word():
    assert list(type_filter("penyaluran.*")) == ["public.event.type"]
    assert matches("penyaluran.*", "penyaluran.dicatat") and matches("penyaluran.*", "penyaluran.dibatalkan")
    assert not matches("penyaluran.*", "penyaluranx.dicatat")
    assert not matches("penyaluran.*", "xpenyaluran.dicatat")
    assert not matches("penyaluran.*", "program.dibuat")
    assert matches("*.dibatalkan", "kegiatan.dibatalkan") and matches("*.dibatalkan", "penyaluran.dibatalkan")
    assert not matches("*.dibatalkan", "kegiatan.dibatalkan_v2")
    assert not matches("*.dibatalkan", "kegiatan.dibatalkanx")


def test_the_type_filter_takes_the_dots_of_an_exact_type_literally():
    assert matches("penyaluran.dicatat.v2", "penyaluran.dicatat.v2")
    assert not matches("penyaluran.dicatat.v2", "penyaluran.dicatat")
    assert not matches("penyaluran.dicatat.v2", "penyaluran.dicatatxv2")
    assert not matches("penyaluran.dicatat", "penyaluranxdicatat")


# Merging the services' pages

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def at(milliseconds):
    return (T0 + timedelta(milliseconds=milliseconds)).isoformat(timespec="milliseconds")


def page(service, *items, pending_since=None):
    return {"items": [{"seq": seq, "published": at(ms), "event": {"id": f"{service}-{seq}"}} for seq, ms in items],
            "pending_since": pending_since}


def test_pages_are_merged_by_publishing_time_and_cut_to_the_limit():
    assert at(1) == "2026-03-02T01:00:00.001+00:00"
    pages = {"bantuan": page("bantuan", (5, 10), (6, 30), (7, 50)),
             "kegiatan": page("kegiatan", (10, 20), (11, 40), pending_since=at(70)),
             "organisasi": page("organisasi", (3, 60), pending_since=at(-500)),
             "notifikasi": page("notifikasi")}
    places = {"bantuan": 4, "kegiatan": 9, "organisasi": 2, "notifikasi": 8}
    merged = merge_pages(pages, places, limit=4)
    assert [event["id"] for event in merged["items"]] == ["bantuan-5", "kegiatan-10", "bantuan-6", "kegiatan-11"]
    # bantuan-7 and organisasi-3 were cut: each service moves only past what was handed out.
    assert decode_cursor(merged["next_cursor"]) == {"bantuan": 6, "kegiatan": 11, "organisasi": 2, "notifikasi": 8}
    assert merged["pending_since"] == at(-500)
    assert places == {"bantuan": 4, "kegiatan": 9, "organisasi": 2, "notifikasi": 8}  # the caller's is untouched


def test_the_next_page_after_a_cut_starts_with_what_was_cut():
    first = merge_pages({"bantuan": page("bantuan", (1, 10), (2, 30)), "kegiatan": page("kegiatan", (1, 20))},
                        {}, limit=2)
    assert [event["id"] for event in first["items"]] == ["bantuan-1", "kegiatan-1"]
    places = decode_cursor(first["next_cursor"])
    assert places == {"bantuan": 1, "kegiatan": 1}
    # The services read after those places again; bantuan-2 comes now.
    second = merge_pages({"bantuan": page("bantuan", (2, 30)), "kegiatan": page("kegiatan")}, places, limit=2)
    assert [event["id"] for event in second["items"]] == ["bantuan-2"]
    assert decode_cursor(second["next_cursor"]) == {"bantuan": 2, "kegiatan": 1}


def test_a_service_never_seen_before_enters_the_cursor_when_its_events_are_handed_out():
    merged = merge_pages({"bantuan": page("bantuan", (4, 10)), "kegiatan": page("kegiatan", (9, 20))},
                         {"bantuan": 3}, limit=10)
    assert [event["id"] for event in merged["items"]] == ["bantuan-4", "kegiatan-9"]
    assert decode_cursor(merged["next_cursor"]) == {"bantuan": 4, "kegiatan": 9}


def test_empty_pages_keep_the_cursor_and_have_nothing_pending():
    places = {"bantuan": 7}
    merged = merge_pages({"bantuan": page("bantuan"), "kegiatan": page("kegiatan")}, places, limit=100)
    assert merged["items"] == [] and merged["pending_since"] is None
    assert decode_cursor(merged["next_cursor"]) == places


def test_pending_since_is_the_earliest_moment_not_the_smallest_string():
    # 08:00+07:00 is 01:00 UTC, earlier than 02:00+00:00 although it sorts later as text.
    earlier, later = "2026-03-02T08:00:00.000+07:00", "2026-03-02T02:00:00.000+00:00"
    merged = merge_pages({"bantuan": page("bantuan", pending_since=later),
                          "kegiatan": page("kegiatan", pending_since=earlier),
                          "organisasi": page("organisasi")}, {}, limit=10)
    assert merged["pending_since"] == earlier


# The subscriber's bindings and topic matching

def test_binding_keys_put_the_event_pattern_in_three_words_then_the_area_then_anything_below():
    assert binding_keys(["bantuan.*"], "31.71") == ["bantuan.*.*.31.71.#"]
    assert binding_keys(None, None) == ["*.*.*.#"]
    assert binding_keys([], "") == ["*.*.*.#"]
    assert binding_keys(["#"], "31") == ["*.*.*.31.#"]
    assert binding_keys(["bantuan.penyaluran.dicatat", "kegiatan"], "53.71") == [
        "bantuan.penyaluran.dicatat.53.71.#", "kegiatan.*.*.53.71.#"]
    assert binding_keys(["bantuan.penyaluran.*"], None) == ["bantuan.penyaluran.*.#"]


def test_binding_keys_select_the_routing_keys_of_their_area_and_events():
    keys = binding_keys(["bantuan.*"], "31.71")

    def bound(service, event_type, wilayah):
        return any(topic_matches(key, public_routing_key(service, {"type": event_type, "wilayah": wilayah}))
                   for key in keys)

    assert bound("bantuan", "penyaluran.dicatat", "31.71.01.1001")
    assert bound("bantuan", "program.dibuat", "31.71")
    assert not bound("bantuan", "penyaluran.dicatat", "31.72.01.1001")
    assert not bound("bantuan", "penyaluran.dicatat", "31")  # above the area
    assert not bound("bantuan", "program.dibuat", None)  # national
    assert not bound("kegiatan", "kegiatan.dimulai", "31.71.01")


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("*.*.*.31.71.#", "bantuan.penyaluran.dicatat.31.71", True),
    ("*.*.*.31.71.#", "bantuan.penyaluran.dicatat.31.71.01.1001", True),
    ("*.*.*.31.71.#", "bantuan.penyaluran.dicatat.31.72", False),
    ("*.*.*.31.71.#", "bantuan.penyaluran.dicatat.31.710", False),
    ("*.*.*.31.71.#", "bantuan.penyaluran.dicatat.31", False),
    ("*.*.*.31.71.#", "bantuan.penyaluran.31.71", False),
    ("bantuan.#", "bantuan", True),
    ("bantuan.#", "bantuan.program.dibuat", True),
    ("bantuan.#", "bantuanx.program.dibuat", False),
    ("bantuan.*", "bantuan", False),
    ("bantuan.*", "bantuan.program", True),
    ("bantuan.*", "bantuan.program.dibuat", False),
    ("#", "bantuan", True),
    ("#", "bantuan.penyaluran.dicatat.31.71.01.1001", True),
    ("#.1001", "a.b.1001", True),
    ("#.1001", "1001", True),
    ("#.1001", "a.b.1001.x", False),
    ("a.#.b", "a.b", True),
    ("a.#.b", "a.x.y.b", True),
    ("a.#.b", "a.x.y", False),
    ("*", "a", True),
    ("*", "a.b", False),
    ("bantuan.program.dibuat", "bantuan.program.dibuat", True),
    ("bantuan.program.dibuat", "bantuan.program.dibuatx", False),
])
def test_topic_matching_follows_amqp_star_is_one_word_hash_is_zero_or_more(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def topic_regex(pattern):
    """An independent reading of AMQP topic patterns over '.'-prefixed words."""
    parts = {"*": r"\.[^.]+", "#": r"(?:\.[^.]+)*"}
    return "".join(parts.get(word, r"\." + re.escape(word)) for word in pattern.split("."))


WORDS = st.sampled_from(["a", "b", "31", "71"])
KEYS = st.lists(WORDS, min_size=1, max_size=6).map(".".join)
PATTERNS = st.lists(st.one_of(WORDS, st.sampled_from(["*", "#"])), min_size=1, max_size=6).map(".".join)


@settings(max_examples=400, deadline=None)
@given(PATTERNS, KEYS)
def test_topic_matching_agrees_with_a_regex_reading_of_the_pattern(pattern, key):
    assert topic_matches(pattern, key) == (re.fullmatch(topic_regex(pattern), "." + key) is not None)


# The subscriber hands each event on once

def test_the_subscriber_hands_each_event_to_its_handler_once_per_id():
    handled = []
    subscriber = Subscriber("amqp://guest:guest@127.0.0.1:5672/", "bappeda-kupang.semua", ["*.*.*.#"],
                            handled.append)
    assert subscriber.parameters.host == "127.0.0.1" and subscriber.parameters.port == 5672
    first, second = {"id": "e-1", "type": "program.dibuat"}, {"id": "e-2", "type": "program.dibuat"}
    subscriber.catch_up([first, second])
    subscriber._handle_once(dict(first))  # the same event again from the queue
    subscriber._handle_once(second)
    assert handled == [first, second]
    assert set(subscriber.seen.ids) == {"e-1", "e-2"}


def test_an_event_whose_handling_failed_is_handled_again_next_time():
    calls = []

    def handle(event):
        calls.append(event["id"])
        if len(calls) == 1:
            raise RuntimeError("webhook down")

    subscriber = Subscriber("amqp://guest:guest@127.0.0.1:5672/", "q.semua", [], handle)
    with pytest.raises(RuntimeError):
        subscriber._handle_once({"id": "e-1"})
    assert set(subscriber.seen.ids) == set()
    subscriber._handle_once({"id": "e-1"})
    subscriber._handle_once({"id": "e-1"})
    assert calls == ["e-1", "e-1"]


class FakeChannel:
    def __init__(self):
        self.acked, self.rejected = [], []

    def basic_ack(self, delivery_tag):
        self.acked.append(delivery_tag)

    def basic_reject(self, delivery_tag, requeue):
        self.rejected.append((delivery_tag, requeue))


def test_a_message_is_acknowledged_after_handling_and_one_that_is_not_json_is_dropped():
    handled = []
    subscriber = Subscriber("amqp://guest:guest@127.0.0.1:5672/", "q.semua", [], handled.append)
    channel = FakeChannel()
    subscriber._on_message(channel, SimpleNamespace(delivery_tag=1), None, json.dumps({"id": "e-1"}).encode())
    subscriber._on_message(channel, SimpleNamespace(delivery_tag=2), None, json.dumps({"id": "e-1"}).encode())
    subscriber._on_message(channel, SimpleNamespace(delivery_tag=3), None, b"\x00 bukan json")
    assert handled == [{"id": "e-1"}]
    assert channel.acked == [1, 2]  # a repeat is acknowledged too, or it would come back
    assert channel.rejected == [(3, False)]


# An outside system's RabbitMQ user

def allows(pattern, name):
    return re.fullmatch(pattern, name) is not None


def test_an_outside_system_may_configure_and_write_only_its_own_queues():
    permitted = outside_systems.permissions("bappeda-kupang")
    assert set(permitted) == {"configure", "write", "read"}
    for kind in ("configure", "write"):
        assert allows(permitted[kind], "bappeda-kupang.antrian")
        assert allows(permitted[kind], "bappeda-kupang.semua.53")
        for refused in ("bappeda-kupangx.antrian", "lain.antrian", "bappeda-kupang", "bappeda-kupang.",
                        "bkpm.publik", PUBLIC_EXCHANGE, "amq.default", "", "bantuan.events", "xbappeda-kupang.a"):
            assert not allows(permitted[kind], refused), (kind, refused)


def test_an_outside_system_may_read_the_public_feed_and_its_own_queues_only():
    read = outside_systems.permissions("bappeda-kupang")["read"]
    assert allows(read, PUBLIC_EXCHANGE) and PUBLIC_EXCHANGE == "bkpm.publik"
    assert allows(read, "bappeda-kupang.antrian")
    for refused in ("bantuan.events", "bkpm.publikx", "bkpmxpublik", "xbkpm.publik", "bappeda-kupang",
                    "lain.antrian", "amq.default"):
        assert not allows(read, refused), refused


def test_the_system_name_is_taken_literally_in_its_permissions():
    own = outside_systems.permissions("dinas-sosial")["configure"]
    assert allows(own, "dinas-sosial.q") and not allows(own, "dinasXsosial.q")


def test_the_password_hash_is_rabbitmq_sha256_of_salt_and_password():
    salt = b"\x01\x02\x03\x04"
    stored = base64.b64decode(outside_systems.password_hash("rahasia-kupang", salt=salt))
    assert stored == salt + hashlib.sha256(salt + b"rahasia-kupang").digest()
    assert len(stored) == 4 + 32
    assert outside_systems.password_hash("rahasia-kupang", salt=salt) == \
        outside_systems.password_hash("rahasia-kupang", salt=salt)


def test_the_password_hash_is_salted_afresh_each_time():
    first, second = outside_systems.password_hash("sama"), outside_systems.password_hash("sama")
    assert first != second
    for stored in map(base64.b64decode, (first, second)):
        assert stored[4:] == hashlib.sha256(stored[:4] + b"sama").digest()


@pytest.mark.parametrize("name", ["A", "x", "ab", "has space", "-dash", "1abc", "Bappeda", "bappeda_kupang",
                                  "bappeda.kupang", "abc\n", "a" * 42, ""])
def test_definitions_refuse_names_that_are_not_system_names(name):
    with pytest.raises(ValueError):
        outside_systems.definitions(name, "rahasia", "bkpm")


def test_definitions_give_the_user_and_its_permissions_on_the_vhost():
    produced = outside_systems.definitions("bappeda-kupang", "rahasia-kupang", "bkpm-prod")
    (user,) = produced["users"]
    assert user["name"] == "bappeda-kupang" and user["tags"] == []
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    stored = base64.b64decode(user["password_hash"])
    assert stored[4:] == hashlib.sha256(stored[:4] + b"rahasia-kupang").digest()
    assert produced["permissions"] == [{"user": "bappeda-kupang", "vhost": "bkpm-prod",
                                        **outside_systems.permissions("bappeda-kupang")}]
    assert "rahasia-kupang" not in json.dumps(produced)
    for edge in ("abc", "a" * 41, "a1-"):
        assert outside_systems.definitions(edge, "p", "/")["users"][0]["name"] == edge


@pytest.mark.parametrize("name", ["organisasi", "kegiatan", "bantuan", "notifikasi", "bkpm", "rpc", "amq", "evt"])
def test_an_outside_system_may_not_take_a_name_of_the_platforms(name):
    with pytest.raises(ValueError, match="platform"):
        outside_systems.definitions(name, "pw", "bkpm")


def test_an_outside_system_may_not_be_the_platforms_own_user():
    with pytest.raises(ValueError, match="platform's own user"):
        outside_systems.platform("bkpm", "bappeda-kupang", "pw", [("bappeda-kupang", "pw2")])


def test_the_subscribers_memory_of_ids_is_bounded_and_keeps_the_newest():
    from services.subscriber import RecentIds
    recent = RecentIds(size=3)
    for event_id in ("a", "b", "c", "d"):
        recent.add(event_id)
    assert "a" not in recent and all(event_id in recent for event_id in "bcd") and len(recent) == 3


# Internal events (akun's): on the service's own exchange only, never public

class InternalData(BaseSchema):
    id = fields.String()
    username = fields.String()


def test_an_internal_event_type_has_no_public_form_in_the_outbox():
    from services.common.events import INTERNAL
    from services.common.outbox import Transaction, event_schemas
    schemas = event_schemas({"akun.dibuat": InternalData}, {"akun.dibuat": INTERNAL})
    tx = Transaction("akun", None, schemas)
    event = tx.emit("akun.dibuat", "akun/a-1", {"id": "a-1", "username": "budi", "email": "budi@contoh.id"}, "31.71")
    (entry,) = tx.entries
    assert entry["public"] is None
    assert (entry["exchange"], entry["routing_key"]) == ("akun.events", "akun.dibuat")
    assert entry["event"] == event and event["data"] == {"id": "a-1", "username": "budi"}


def test_every_akun_event_is_internal():
    from services.akun.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
    assert set(PUBLIC_DATA_SCHEMAS) == set(EVENT_DATA_SCHEMAS) == {"akun.dibuat", "akun.diubah", "akun.dinonaktifkan",
                                                                   "akun.reset_diminta"}
    assert set(PUBLIC_DATA_SCHEMAS.values()) == {None}


class FakeOutbox:
    """An outbox collection answering the queries read_log makes (field paths, $gt, $gte,
    $ne, $regex), sorted by seq."""

    def __init__(self, entries):
        self.entries = entries

    @staticmethod
    def value(entry, path):
        for name in path.split("."):
            entry = entry.get(name) if isinstance(entry, dict) else None
        return entry

    def matches(self, entry, criteria):
        tests = {"$gt": lambda v, x: v is not None and v > x, "$gte": lambda v, x: v is not None and v >= x,
                 "$ne": lambda v, x: v != x, "$regex": lambda v, x: v is not None and re.search(x, v)}
        for path, wanted in criteria.items():
            value = self.value(entry, path)
            conditions = wanted.items() if isinstance(wanted, dict) else [(None, wanted)]
            if not all(tests[op](value, x) if op else value == x for op, x in conditions):
                return False
        return True

    def find(self, criteria, projection=None):
        found = [e for e in self.entries if self.matches(e, criteria)]
        return SimpleNamespace(sort=lambda *args: SimpleNamespace(limit=lambda n: found[:n]))

    def find_one(self, criteria, projection=None, sort=None):
        return next((e for e in sorted(self.entries, key=lambda e: e["created"]) if self.matches(e, criteria)), None)


def test_the_event_log_skips_internal_events_and_does_not_wait_for_them():
    from services.common.eventlog import read_log
    published = datetime(2026, 3, 2, tzinfo=timezone.utc)
    public = public_event(area_event(), {"id": "pny-1"})
    entries = [
        {"seq": 1, "published": published, "created": published, "public": {"event": public}},
        {"seq": 2, "published": published, "created": published, "public": None},
        {"seq": None, "published": None, "created": published, "public": None},
    ]
    page = read_log({"outbox": FakeOutbox(entries)}, 0, {"limit": 10}, None)
    assert page == {"items": [{"seq": 1, "published": published.isoformat(timespec="milliseconds"), "event": public}],
                    "pending_since": None}
