"""Idempotency keys without a broker or a database: the gateway's half in-process (the header's
check, the fingerprint, the key scoped to the caller, sent with the request's first call only,
ignored where answers hold credentials; `Location` on every 201), the entrypoint keeping the key
from the calls a service makes onwards, and the unit of work's claim and replay over a small
in-memory stand-in for MongoDB."""
import copy
import hashlib
import inspect
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from nameko.containers import WorkerContext
from nameko.messaging import HeaderEncoder
from pymongo.errors import DuplicateKeyError

from gateway import blueprint
from gateway.blueprint import CREDENTIAL_ROUTES, call_anonymous
from services.common.errors import Conflict, InvalidInput, Unprocessable
from services.common.idempotency import (ANONYMOUS, FINGERPRINT_HEADER, KEY_HEADER, Claim, fingerprint, key_problem,
                                         pending, replay, scoped_key)
from services.common.messaging import Rpc
from services.common.mongo import utcnow
from services.common.outbox import IDEMPOTENSI, UnitOfWork
from services.organisasi.service import OrganisasiService
from tests.unit.test_gateway_http_validation import bearer, gateway, invalid_input

KEY = "3f0b6c1e-6a51-4e8e-9d7c-0c2f7f1d2a10"
UNIT = {"id": "u-1", "tingkat": "provinsi", "kode_wilayah": "31", "nama": "BKPM DKI Jakarta", "induk_id": None}


class RecordingRpc:
    """The gateway's RPC client, answering `answer` and noting each call's idempotency."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def call(self, service, method, *args, correlation_id=None, timeout=None, idempotency=None):
        self.calls.append({"method": method, "args": args, "idempotency": idempotency})
        return self.answer


@pytest.fixture
def client(monkeypatch):
    return gateway(monkeypatch)


def answering(client, answer):
    rpc = client.application.extensions["rpc"] = RecordingRpc(answer)
    return rpc


def keyed(key=KEY, **headers):
    return {"Idempotency-Key": key, **headers}


# The header


@pytest.mark.parametrize("key", [KEY, "a", "x" * 255, "order-42:attempt/1", "!~"])
def test_a_key_is_1_to_255_visible_ascii_characters(key):
    assert key_problem(key) is None


@pytest.mark.parametrize("key", ["", "x" * 256, "ada spasi", "kunci-\u00e9", "tab\tdi-tengah", "baris\n"])
def test_anything_else_is_not_a_key(key):
    assert "Idempotency-Key" in key_problem(key)


def test_a_bad_key_is_400_under_the_headers_name_before_any_call(client):
    rpc = answering(client, UNIT)
    response = client.post("/api/v1/units", json={"tingkat": "provinsi", "kode_wilayah": "31"},
                           headers={**bearer(), **keyed("ada spasi")})
    assert invalid_input(response) == {"Idempotency-Key": [key_problem("ada spasi")]}
    assert rpc.calls == []


def test_authentication_comes_before_the_key(client):
    response = client.post("/api/v1/units", json={}, headers=keyed("ada spasi"))
    assert response.status_code == 401


# What the service is sent


def sent_with(client, path, body=None, headers=None, answer=UNIT, **kwargs):
    """The idempotency the gateway sent with a POST to `path` (None: none)."""
    rpc = answering(client, answer)
    response = client.post(path, json=body, headers=headers, **kwargs)
    assert response.status_code < 300, response.get_data(as_text=True)
    [sent] = rpc.calls
    return sent["idempotency"]


def test_the_same_json_written_otherwise_has_the_same_fingerprint(client):
    headers = {**bearer(sub="budi"), **keyed()}
    compact = sent_with(client, "/api/v1/units", data='{"tingkat":"provinsi","kode_wilayah":"31"}',
                        content_type="application/json", headers=headers)
    spaced = sent_with(client, "/api/v1/units", data='{ "kode_wilayah" : "31",\n  "tingkat": "provinsi" }',
                       content_type="application/json", headers=headers)
    other = sent_with(client, "/api/v1/units", body={"tingkat": "provinsi", "kode_wilayah": "32"}, headers=headers)
    assert compact == spaced
    assert other[0] == compact[0] and other[1] != compact[1]  # the same key, another request: 422 at the service
    assert compact[0] == scoped_key("budi", KEY) != KEY  # the text the client chose is kept nowhere


def test_a_key_is_the_callers_own(client):
    body = {"tingkat": "provinsi", "kode_wilayah": "31"}
    budi = sent_with(client, "/api/v1/units", body=body, headers={**bearer(sub="budi"), **keyed()})
    sri = sent_with(client, "/api/v1/units", body=body, headers={**bearer(sub="sri"), **keyed()})
    assert budi[0] != sri[0] and budi[1] != sri[1]


def test_an_anonymous_caller_is_one_caller(client):
    body = {"kode_wilayah": "31.71.01.1001", "kategori": "keluhan", "isi": "Lampu jalan mati."}
    anonymous = sent_with(client, "/api/v1/aspirasi", body=body, headers=keyed(),
                          answer={"nomor_tiket": "ASP-2026-ABCD"})
    assert anonymous[0] == scoped_key(None, KEY) == scoped_key(ANONYMOUS, KEY)


def test_the_path_is_part_of_the_request(client):
    body = {"nama": "Pak Slamet", "kategori": "tokoh_agama"}
    one = sent_with(client, "/api/v1/units/u-1/anggota", body=body, headers={**bearer(), **keyed()})
    two = sent_with(client, "/api/v1/units/u-2/anggota", body=body, headers={**bearer(), **keyed()})
    assert one[1] != two[1]


def test_without_a_key_nothing_is_sent(client):
    assert sent_with(client, "/api/v1/units", body={"tingkat": "provinsi", "kode_wilayah": "31"},
                     headers=bearer()) is None


@pytest.mark.parametrize("path, body", [
    ("/api/v1/auth/login", {"username": "budi.santoso", "password": "kata-sandi-yang-panjang"}),
    ("/api/v1/klien", {"nama": "SIPP Polda Jateng"}),
    ("/api/v1/akun", {"username": "budi.santoso", "nama": "Budi", "email": "budi@contoh.go.id", "role": "petugas",
                      "password": "kata-sandi-yang-panjang"}),
])
def test_routes_issuing_or_taking_credentials_ignore_the_key(client, path, body):
    assert path.startswith(CREDENTIAL_ROUTES)
    answer = {"id": "x", "access_token": "t"}
    assert sent_with(client, path, body=body, headers={**bearer(), **keyed("bukan kunci")}, answer=answer) is None


def test_the_key_goes_with_the_first_call_of_a_request_only(client):
    rpc = answering(client, {})
    app = client.application
    with app.test_request_context("/api/v1/units", method="POST", json={}, headers={**bearer(), **keyed()}):
        app.preprocess_request()  # the blueprint's checks: the key is read here
        call_anonymous("organisasi", "satu", keyed=False)
        call_anonymous("organisasi", "dua")
        call_anonymous("organisasi", "tiga")
    assert [call["idempotency"] is not None for call in rpc.calls] == [False, True, False]


MULTIPART = ("--{b}\r\nContent-Disposition: form-data; name=\"keterangan\"\r\n\r\nFoto penyaluran\r\n"
             "--{b}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"foto.png\"\r\n"
             "Content-Type: image/png\r\n\r\n{content}\r\n--{b}--\r\n")


def form_fingerprint(app, boundary, content):
    body = MULTIPART.format(b=boundary, content=content).encode()
    with app.test_request_context("/api/v1/units", method="POST", data=body, headers=keyed(),
                                  content_type=f"multipart/form-data; boundary={boundary}"):
        assert blueprint._canonical_body() == blueprint._canonical_body()  # the files are left readable
        return blueprint._canonical_body()


def test_a_form_is_its_fields_and_files_whatever_the_boundary(client):
    app = client.application
    first = form_fingerprint(app, "----batas-pertama", "PNGDATA")
    assert form_fingerprint(app, "----batas-yang-lain-sama-sekali", "PNGDATA") == first
    assert form_fingerprint(app, "----batas-pertama", "PNGLAIN") != first


def test_a_streamed_body_is_digested_as_the_route_reads_it(client):
    app = client.application
    csv = b"nik,no_kk,nama\n" + b"3174012345678901,3174019876543210,Sri\n" * 1000
    with app.test_request_context("/api/v1/bantuan/penerima/impor", method="POST", data=csv,
                                  content_type="text/csv", headers={**bearer(), **keyed()}):
        app.preprocess_request()
        assert blueprint._canonical_body() == hashlib.sha256().digest()  # nothing read yet
        while request_stream_read(1024):
            pass
        assert blueprint._canonical_body() == hashlib.sha256(csv).digest()


def request_stream_read(size):
    from flask import request
    return request.stream.read(size)


# Location


def test_a_201_says_where_to_read_what_was_created(client):
    answering(client, UNIT)
    response = client.post("/api/v1/units", json={"tingkat": "provinsi", "kode_wilayah": "31"}, headers=bearer())
    assert response.status_code == 201 and response.headers["Location"] == "/api/v1/units/u-1"
    answering(client, {"id": "p/1", "unit_id": "u 1", "jabatan": "ketua"})
    response = client.post("/api/v1/units/u%201/pengurus", json={"jabatan": "ketua", "nama": "Irjen Pol. Karyoto",
                                                                  "mulai": "2025-01-06"}, headers=bearer())
    assert response.status_code == 201 and response.headers["Location"] == "/api/v1/units/u%201/pengurus/p%2F1"
    answering(client, {"nomor_tiket": "ASP-2026-ABCD", "status": "diterima"})
    response = client.post("/api/v1/aspirasi", json={"kode_wilayah": "31.71.01.1001", "kategori": "keluhan",
                                                     "isi": "Lampu jalan mati."})
    assert response.status_code == 201 and response.headers["Location"] == "/api/v1/aspirasi/lacak/ASP-2026-ABCD"


def test_the_openapi_document_has_location_on_every_201_and_the_key_on_every_post(client):
    spec = client.get("/openapi.json").get_json()
    created = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own, not an operation
                continue
            if "201" in operation.get("responses", {}):
                created += 1
                assert "Location" in operation["responses"]["201"]["headers"], (method, path)
            if method != "post":
                continue
            [key] = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
            assert key["in"] == "header" and not key["required"]
            if path.startswith(CREDENTIAL_ROUTES):
                assert "diabaikan" in key["description"], path
            else:
                assert key["schema"]["pattern"] == "^[!-~]{1,255}$", path
                assert {"400", "409", "422"} <= set(operation["responses"]), path
                assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert created >= 12


# The service's half: the entrypoint


def test_the_entrypoint_keeps_the_key_from_the_calls_the_service_makes_onwards():
    message = SimpleNamespace(headers={"nameko.correlation_id": "c-1", "nameko.deadline": 1, KEY_HEADER: "k",
                                       FINGERPRINT_HEADER: "f"})
    data = Rpc().unpack_message_headers(message)
    assert data == {"correlation_id": "c-1", "deadline": 1}
    assert (data.idempotency.key, data.idempotency.fingerprint) == ("k", "f")
    container = SimpleNamespace(config={}, service_name="kegiatan")
    worker = WorkerContext(container, None, SimpleNamespace(method_name="buat_kegiatan"), data=data)
    onwards = HeaderEncoder().get_message_headers(worker)  # what a call to bantuan would carry
    assert "nameko.correlation_id" in onwards
    assert not [name for name in onwards if "idempotency" in name]


def test_a_call_without_a_key_has_none():
    data = Rpc().unpack_message_headers(SimpleNamespace(headers={"nameko.correlation_id": "c-1"}))
    assert data.idempotency is None


def test_an_entrypoint_still_checks_its_arguments_against_the_method():
    with pytest.raises(TypeError):
        inspect.getcallargs(OrganisasiService.bentuk_unit, None, "token")
    inspect.getcallargs(OrganisasiService.bentuk_unit, None, "token", {})


# The service's half: claim and replay


class Collection:
    def __init__(self):
        self.documents = {}

    def find_one(self, criteria):
        return copy.deepcopy(self.documents.get(criteria["_id"]))

    def insert_one(self, document, session=None):
        if document["_id"] in self.documents:
            raise DuplicateKeyError("E11000 duplicate key")
        self.documents[document["_id"]] = copy.deepcopy(document)

    def insert_many(self, documents, session=None):
        for document in documents:
            self.insert_one(document, session)

    def update_one(self, criteria, update):
        if criteria["_id"] in self.documents:
            self.documents[criteria["_id"]].update(copy.deepcopy(update["$set"]))

    def delete_one(self, criteria):
        if all(self.documents.get(criteria["_id"], {}).get(k) == v for k, v in criteria.items()):
            self.documents.pop(criteria["_id"], None)


class Database(dict):
    def __missing__(self, name):
        self[name] = Collection()
        return self[name]


class Client:
    """Transactions that leave the database as it was when their callback raises."""

    def __init__(self, db):
        self.db = db

    def start_session(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def with_transaction(self, callback):
        before = copy.deepcopy({name: collection.documents for name, collection in self.db.items()})
        try:
            return callback(self)
        except BaseException:
            for name, collection in self.db.items():
                collection.documents = before.get(name, {})
            raise


@pytest.fixture
def db():
    return Database()


def unit_of_work(db, key="k", fingerprint="f", deadline=None):
    return UnitOfWork(Client(db), db, "kegiatan", {}, on_commit=lambda: None,
                      deadline=deadline or time.time() + 5, idempotency=Claim(key, fingerprint))


def create(uow, db, record_id="keg-1", commits=1):
    """A use case that writes `commits` times and answers the record."""
    def run():
        for n in range(commits):
            uow.commit(lambda tx, n=n: db["kegiatan"].insert_one({"_id": f"{record_id}-{n}"}, session=tx.session))
        return {"id": record_id, "dibuat": "2026-12-01T09:00:00+07:00"}
    return run


def never():
    raise AssertionError("a repeat ran again")


def test_the_first_call_claims_its_key_with_its_change_and_a_repeat_gets_its_answer(db):
    first = unit_of_work(db)
    assert first.once(create(first, db)) == {"id": "keg-1", "dibuat": "2026-12-01T09:00:00+07:00"}
    claim = db[IDEMPOTENSI].documents["k"]
    assert claim["sidik"] == "f" and "hasil" in claim["jawaban"]
    assert unit_of_work(db).once(never) == {"id": "keg-1", "dibuat": "2026-12-01T09:00:00+07:00"}
    assert list(db["kegiatan"].documents) == ["keg-1-0"]


def test_a_call_that_commits_twice_claims_once(db):
    uow = unit_of_work(db)
    assert uow.once(create(uow, db, commits=2))["id"] == "keg-1"
    assert len(db["kegiatan"].documents) == 2


def test_the_same_key_for_another_request_is_422(db):
    first = unit_of_work(db)
    first.once(create(first, db))
    with pytest.raises(Unprocessable) as refused:
        unit_of_work(db, fingerprint="lain").once(never)
    assert refused.value.status == 422 and refused.value.payload["code"] == "kunci_idempotensi_dipakai"


def test_a_call_refused_before_any_change_keeps_nothing_so_a_corrected_retry_runs(db):
    def refused():
        raise InvalidInput({"lokasi": ["Di luar wilayah unit."]})
    with pytest.raises(InvalidInput):
        unit_of_work(db).once(refused)
    assert db[IDEMPOTENSI].documents == {}
    retry = unit_of_work(db, fingerprint="dibetulkan")
    assert retry.once(create(retry, db))["id"] == "keg-1"


def test_a_refusal_after_the_change_is_the_answer_repeated(db):
    uow = unit_of_work(db)

    def changed_then_refused():
        create(uow, db)()
        raise Conflict("Kuota habis.", code="kuota_habis", sisa=0)
    with pytest.raises(Conflict):
        uow.once(changed_then_refused)
    with pytest.raises(Conflict) as repeated:
        unit_of_work(db).once(never)
    assert repeated.value.payload == {"code": "kuota_habis", "detail": "Kuota habis.", "sisa": 0}


def test_a_duplicate_that_lost_the_race_answers_as_the_winner(db):
    loser = unit_of_work(db)

    def raced():
        # The first call commits its change and claim between this one's look and its commit.
        winner = unit_of_work(db)
        winner.once(create(winner, db, record_id="keg-menang"))
        return create(loser, db, record_id="keg-kalah")()
    assert loser.once(raced)["id"] == "keg-menang"
    assert list(db["kegiatan"].documents) == ["keg-menang-0"]  # the loser's change was rolled back


def test_a_repeat_while_the_first_runs_is_told_to_retry(db):
    db[IDEMPOTENSI].insert_one({"_id": "k", "sidik": "f", "dibuat": utcnow(), "batas": time.time() + 60})
    started = time.monotonic()
    with pytest.raises(Conflict) as busy:
        unit_of_work(db, deadline=time.time() + 0.3).once(never)
    assert busy.value.payload["code"] == "permintaan_sedang_diproses" and int(busy.value.payload["retry_after"]) >= 1
    assert time.monotonic() - started < 1  # waited, but not past its own deadline


def test_a_repeat_waits_for_the_first_answer_when_it_comes_in_time(db, monkeypatch):
    db[IDEMPOTENSI].insert_one({"_id": "k", "sidik": "f", "dibuat": utcnow(), "batas": time.time() + 60})
    real_sleep = time.sleep

    def answer_arrives(seconds):
        db[IDEMPOTENSI].update_one({"_id": "k"}, {"$set": {"jawaban": {"hasil": '{"id": "keg-1"}'}}})
        real_sleep(seconds)
    monkeypatch.setattr(time, "sleep", answer_arrives)
    assert unit_of_work(db).once(never) == {"id": "keg-1"}


def test_a_first_call_that_changed_data_but_lost_its_answer_says_so(db):
    db[IDEMPOTENSI].insert_one({"_id": "k", "sidik": "f", "dibuat": utcnow(), "batas": time.time() - 1})
    with pytest.raises(Conflict) as lost:
        unit_of_work(db).once(never)
    assert lost.value.payload["code"] == "kunci_idempotensi_tanpa_jawaban"


def test_a_key_older_than_a_day_is_forgotten(db):
    db[IDEMPOTENSI].insert_one({"_id": "k", "sidik": "lama", "dibuat": utcnow() - timedelta(hours=24, seconds=1),
                                "batas": 0, "jawaban": {"hasil": '{"id": "keg-lama"}'}})
    uow = unit_of_work(db)
    assert uow.once(create(uow, db))["id"] == "keg-1"


def test_pending_and_replay_of_a_claim_gone_meanwhile():
    assert not pending(None, "f", time.time())
    with pytest.raises(Conflict) as busy:
        replay(None, "f", time.time())
    assert busy.value.payload["code"] == "permintaan_sedang_diproses"


def test_fingerprint_sorts_query_parameters():
    assert fingerprint("POST", "/p", [("b", "2"), ("a", "1")], "s", b"{}") == \
        fingerprint("POST", "/p", [("a", "1"), ("b", "2")], "s", b"{}")
    assert fingerprint("POST", "/p", [], "s", b"{}") != fingerprint("POST", "/p", [], None, b"{}")
