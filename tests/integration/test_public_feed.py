"""The public feed (`bkpm.publik`) as another government system sees it: a subscriber bound to
one city's pattern gets that city's events from every service and nothing of the neighbouring
regency; no public message of the whole run carries a NIK, a No. KK, a phone number, an email
address, a person's name, a reporter's identity, a confidential aspiration's text, or other
free text people typed (an address, a reason for cancelling, a survey comment); and no event
about one person (a survey answer, a message notifikasi sent) is on it at all."""
import json
import re
import time
import uuid
from urllib.parse import quote

import pika
import pytest

from services.common.events import PUBLIC_EXCHANGE
from services.common.outbox import CLOUDEVENTS_CONTENT_TYPE
from tests.nik import recipient
from services.broker_definitions import definitions
from tests.support import BROKER, EventCollector, assert_problem, form_units, rabbitmqctl

CITY, NEIGHBOUR = "52.71", "52.01"
PHONE_PATTERN = re.compile(rb"(?<![0-9a-f-])(\+62|62|0)8[0-9]{7,12}(?![0-9a-f])")
SIXTEEN_DIGITS = re.compile(rb"(?<![0-9])[0-9]{16}(?![0-9])")
EMAIL_PATTERN = re.compile(rb"[^\s\"@]+@[^\s\"@]+\.[a-z]{2,}")
PELAPOR = {"nama": "Lalu Rahman Rahasia", "telepon": "081377778888", "email": "lalu.rahman@contoh.id"}
SECRET_TEXT = "Ada pungutan liar oleh oknum di pasar Cakranegara"
# Typed on the API for the city's activities: none of it is public.
PRIVATE_ADDRESS = "Rumah Bapak Lalu Sanusi, Jl. Melati Gg. 7 No. 12"
CANCEL_REASON = "Bapak Lalu Sanusi dirawat di RSUD Mataram"
SURVEY_COMMENT = "Petugas ramah, saya Baiq Nurul dari RT 03"
ALL_SOURCES = {"/bkpm/organisasi", "/bkpm/kegiatan", "/bkpm/bantuan"}


@pytest.fixture(scope="module")
def city_subscriber(env, gateway):
    """An outside system of Kota Mataram: every event of every service, in that city only."""
    subscriber = EventCollector(env["AMQP_URI"], PUBLIC_EXCHANGE, binding="*.*.*.52.71.#")
    yield subscriber
    subscriber.close()


@pytest.fixture(scope="module")
def internal_events(env, gateway):
    """What kegiatan and notifikasi publish on their own exchanges, for the platform's services:
    proof that the events kept off the feed did happen."""
    collectors = {service: EventCollector(env["AMQP_URI"], f"{service}.events")
                  for service in ("kegiatan", "notifikasi")}
    yield collectors
    for collector in collectors.values():
        collector.close()


@pytest.fixture(scope="module")
def personal_data(api, national_unit, city_subscriber, internal_events):
    """A day in both places, through every service, leaving personal data everywhere it may go."""
    units = form_units(api, "52", CITY, NEIGHBOUR)
    created = {"phones": [PELAPOR["telepon"]], "emails": [PELAPOR["email"]], "niks": [], "kks": [],
               "names": [PELAPOR["nama"], "Baiq Nurul"],
               "texts": [SECRET_TEXT, PRIVATE_ADDRESS, CANCEL_REASON, SURVEY_COMMENT]}
    for n, kode in enumerate((CITY, NEIGHBOUR)):
        unit = units[kode]
        phone, email = f"0812555500{n}1", f"sekretaris{n}@polda-ntb.contoh.id"
        appointed = api.post(f"/units/{unit['id']}/pengurus", json={
            "jabatan": "sekretaris", "nama": f"AKBP Sekretaris {n}", "nrp": f"8001020{n}", "pangkat": "AKBP",
            "jabatan_polri": "Kasat Binmas", "mulai": "2026-01-02", "telepon": phone, "email": email})
        assert appointed.status_code == 201, appointed.text
        member = api.post(f"/units/{unit['id']}/anggota", json={
            "nama": f"Baiq Anggota {n}", "kategori": "tokoh_adat", "telepon": f"0813666600{n}2",
            "email": f"anggota{n}@contoh.id"})
        assert member.status_code == 201, member.text
        created["phones"] += [phone, f"0813666600{n}2"]
        created["emails"] += [email, f"anggota{n}@contoh.id"]
        created["names"].append(f"Baiq Anggota {n}")

        kegiatan = api.post("/kegiatan", json={
            "unit_id": unit["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": f"Penyuluhan {kode}",
            "mulai": "2026-12-10T09:00:00+08:00", "selesai": "2026-12-10T11:00:00+08:00",
            "lokasi": {"kode_wilayah": f"{kode}.01", "alamat": "Balai Desa"}})
        assert kegiatan.status_code == 201, kegiatan.text
        village = "52.71.01.1004" if kode == CITY else "52.01.02.2001"
        aspirasi = api.post("/aspirasi", role=None, json={
            "kode_wilayah": village, "kategori": "keluhan", "isi": SECRET_TEXT, "rahasia": True, "pelapor": PELAPOR})
        assert aspirasi.status_code == 201, aspirasi.text

        program = api.post("/bantuan/program", json={
            "nama": f"Sembako {kode}", "jenis": "sembako", "unit_id": unit["id"], "mulai": "2026-01-01",
            "selesai": "2026-12-31", "kuota": 1, "wilayah_sasaran": [kode]}).json()
        api.post(f"/bantuan/program/{program['id']}/aktifkan")
        person = recipient(52000 + n, village=village, telepon=f"0819777700{n}3")
        penerima = api.post("/bantuan/penerima", json=person)
        assert penerima.status_code == 201, penerima.text
        given = api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima.json()["id"],
                                                     "tanggal": "2026-03-01", "jenis_bukti": "foto", "bukti": "IMG"})
        assert given.status_code == 201, given.text
        created["niks"].append(person["nik"])
        created["kks"].append(person["no_kk"])
        created["phones"].append(person["telepon"])
        created["names"].append(person["nama"])
        created["names"].append(f"AKBP Sekretaris {n}")
    created["kegiatan"] = typed_on_the_citys_activities(api, units[CITY])
    return created


def typed_on_the_citys_activities(api, unit):
    """A dialog at someone's home, finished and rated by one participant with a comment; then a
    second one there, cancelled with a reason naming the host. Both ids."""
    def schedule(judul):
        response = api.post("/kegiatan", json={
            "unit_id": unit["id"], "jenis": "dialog", "judul": judul, "mulai": "2026-12-11T19:00:00+08:00",
            "selesai": "2026-12-11T21:00:00+08:00",
            "lokasi": {"kode_wilayah": f"{CITY}.01", "alamat": PRIVATE_ADDRESS, "lat": -8.5833, "lon": 116.1167}})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    rated = schedule("Dialog Kamtibmas RT 03")
    assert api.post(f"/kegiatan/{rated}/mulai").status_code == 200
    finished = api.post(f"/kegiatan/{rated}/selesai", json={"laporan": {"jumlah_peserta": 9, "ringkasan": "Dialog."}})
    assert finished.status_code == 200, finished.text
    kode = api.get(f"/kegiatan/{rated}/survei").json()["kode"][0]
    answered = api.post(f"/kegiatan/{rated}/survei", role=None,
                        json={"kode": kode, "kepercayaan": 2, "kepuasan": 5, "komentar": SURVEY_COMMENT})
    assert answered.status_code == 201, answered.text
    cancelled = schedule("Dialog Kamtibmas RT 04")  # after the answer: on the feed after it too
    response = api.post(f"/kegiatan/{cancelled}/batal", json={"alasan": CANCEL_REASON})
    assert response.status_code == 200, response.text
    return {"dinilai": rated, "dibatalkan": cancelled}


def wait_for_sources(subscriber, sources, timeout=30):
    deadline = time.monotonic() + timeout
    while {m["body"]["source"] for m in subscriber.messages} < sources:
        assert time.monotonic() < deadline, {m["body"]["source"] for m in subscriber.messages}
        time.sleep(0.2)


def test_a_city_subscriber_gets_the_citys_events_from_every_service_and_nothing_next_door(
        personal_data, city_subscriber, public_feed):
    wait_for_sources(city_subscriber, ALL_SOURCES)
    received = city_subscriber.messages
    assert {m["body"]["type"] for m in received} >= {
        "unit.dibentuk", "pengurus.diangkat", "anggota.bergabung", "kegiatan.dijadwalkan", "aspirasi.diterima",
        "program.dibuat", "penyaluran.dicatat", "kuota.habis"}
    for message in received:
        event, properties = message["body"], message["properties"]
        assert event["wilayah"] == CITY or event["wilayah"].startswith(CITY + "."), event
        service = event["source"].rsplit("/", 1)[1]
        assert message["routing_key"] == ".".join([service, *event["type"].split("."), *event["wilayah"].split(".")])
        assert properties.message_id == event["id"] and properties.delivery_mode == 2
        assert properties.content_type == CLOUDEVENTS_CONTENT_TYPE and properties.timestamp
        assert event["specversion"] == "1.0" and "correlationid" not in event
    # The neighbour's events exist on the feed; they just never reached this subscriber.
    neighbours = [m for m in public_feed.messages if (m["body"].get("wilayah") or "").startswith(NEIGHBOUR)]
    assert {m["body"]["type"] for m in neighbours} >= {"unit.dibentuk", "kegiatan.dijadwalkan", "penyaluran.dicatat"}
    ids = {m["body"]["id"] for m in received}
    assert not ids & {m["body"]["id"] for m in neighbours}


def test_no_public_message_of_the_whole_run_carries_personal_data(personal_data, city_subscriber, public_feed):
    wait_for_sources(city_subscriber, ALL_SOURCES)
    messages = list(public_feed.messages)
    # This module's own events at least, of ten kinds; in a whole run, every module's before it.
    assert len({m["body"]["type"] for m in messages}) >= 10
    for message in messages:
        raw = message["raw"]
        # Every list of what people typed; "kegiatan" holds the activities' ids, not personal data.
        for value in [v for name, kind in personal_data.items() if name != "kegiatan" for v in kind]:
            assert value.encode() not in raw, (value, message["body"]["type"])
        assert not SIXTEEN_DIGITS.search(raw), message["body"]  # NIK, No. KK
        assert not PHONE_PATTERN.search(raw), message["body"]
        assert not EMAIL_PATTERN.search(raw), message["body"]
        assert "pelapor" not in message["body"]["data"] and "isi" not in message["body"]["data"]


def test_what_people_typed_and_events_about_one_person_never_reach_the_feed(personal_data, internal_events,
                                                                            public_feed):
    rated, called_off = personal_data["kegiatan"]["dinilai"], personal_data["kegiatan"]["dibatalkan"]
    internal = internal_events["kegiatan"]
    # They happened, with what was typed, for the services inside...
    [answer] = internal.wait_for(lambda e: e["type"] == "survei.diisi" and e["data"]["kegiatan_id"] == rated)
    [cancelled] = internal.wait_for(lambda e: e["type"] == "kegiatan.dibatalkan" and e["data"]["id"] == called_off)
    assert cancelled["data"]["alasan_batal"] == CANCEL_REASON
    assert cancelled["data"]["lokasi"]["alamat"] == PRIVATE_ADDRESS
    # ...and the feed, in the same order, carries the cancellation without the reason, the
    # activity's place by its area only, and no survey answer before it (nor anywhere).
    [public] = public_feed.wait_for(lambda e: e["type"] == "kegiatan.dibatalkan" and e["id"] == cancelled["id"])
    assert public["data"]["judul"] == "Dialog Kamtibmas RT 04"
    assert public["data"]["lokasi"] == {"kode_wilayah": f"{CITY}.01"}
    assert "alasan_batal" not in public["data"]
    assert answer["id"] not in {m["body"]["id"] for m in public_feed.messages}
    assert not public_feed.events("survei.diisi")
    for message in public_feed.messages:
        for typed in (PRIVATE_ADDRESS, CANCEL_REASON, SURVEY_COMMENT):
            assert typed.encode() not in message["raw"], (typed, message["body"]["type"])
        assert b"-8.5833" not in message["raw"] and b"116.1167" not in message["raw"], message["body"]["type"]


def test_notifikasi_tells_nobody_outside_whom_it_wrote_to(personal_data, internal_events, public_feed):
    # The city's messages are settled (the reporter's email fails: no SMTP server in this module).
    [delivery] = internal_events["notifikasi"].wait_for(
        lambda e: (e["wilayah"] or "").startswith(CITY), timeout=60, what="a delivery in the city")[:1]
    time.sleep(1)  # the relay sends an event's public copy right after its own
    assert delivery["id"] not in {m["body"]["id"] for m in public_feed.messages}
    assert not [m for m in public_feed.messages if m["body"]["source"] == "/bkpm/notifikasi"]


def settled(subscriber, quiet_seconds=3, timeout=60):
    """Once the subscriber has heard nothing new for `quiet_seconds`, so that the services have
    published what this module did."""
    deadline = time.monotonic() + timeout
    heard, since = len(subscriber.messages), time.monotonic()
    while time.monotonic() - since < quiet_seconds:
        assert time.monotonic() < deadline, "the feed never went quiet"
        time.sleep(0.2)
        if len(subscriber.messages) != heard:
            heard, since = len(subscriber.messages), time.monotonic()


def test_the_event_log_pages_through_the_citys_history_as_the_feed_carried_it(api, personal_data, city_subscriber):
    wait_for_sources(city_subscriber, ALL_SOURCES)
    settled(city_subscriber)  # so the log read below holds what the subscriber has, no more
    pages, params = [], {"limit": 4}
    while True:
        response = api.get("/events", role="pemantau", wilayah=CITY, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["items"]:
            break
        pages.append(page["items"])
        params["cursor"] = page["next_cursor"]
    logged = [event for page in pages for event in page]
    assert all(len(page) <= 4 for page in pages) and len(pages) > 2
    assert len({e["id"] for e in logged}) == len(logged)  # no page repeats another
    assert [e["id"] for e in logged] == [e["id"] for e in logged if e["wilayah"].startswith(CITY)]
    assert {e["id"] for e in logged} == {m["body"]["id"] for m in city_subscriber.messages}
    assert logged == [next(m["body"] for m in city_subscriber.messages if m["body"]["id"] == e["id"]) for e in logged]

    aid = api.get("/events", role="pemantau", wilayah=CITY, params={"type": "penyaluran.*"}).json()["items"]
    assert {e["type"] for e in aid} == {"penyaluran.dicatat"}
    national = api.get("/events", params={"type": "unit.dibentuk", "limit": 1000}).json()["items"]
    assert any(e["wilayah"] is None for e in national)  # a national caller sees national events
    assert_problem(api.get("/events", role="pemantau", wilayah=CITY, params={"wilayah": NEIGHBOUR}), 403)
    assert_problem(api.get("/events", params={"cursor": "bukan-cursor"}), 400)
    assert_problem(api.get("/events", params={"type": "Penyaluran"}), 400)


def test_an_outside_system_reads_the_feed_with_its_own_user_and_can_do_nothing_else(api, vhost, personal_data):
    system, password = f"bappeda-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    # Read from stdin: given a path, the broker itself would read the file, as its own user.
    rabbitmqctl("import_definitions", stdin=json.dumps(definitions(system, password, vhost.name)).encode())
    url = f"amqp://{system}:{password}@{BROKER}/{quote(vhost.name, safe='')}"

    def channel():
        return pika.BlockingConnection(pika.URLParameters(url)).channel()

    def refused(action):
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refusal:
            action(channel())
        assert refusal.value.reply_code == 403

    deadline = time.monotonic() + 10
    while True:  # the import runs in the background
        try:
            own = channel()
            break
        except pika.exceptions.ProbableAuthenticationError:
            assert time.monotonic() < deadline, "the outside system's user was not created"
            time.sleep(0.2)
    try:
        own.queue_declare(f"{system}.mataram", durable=True)
        own.queue_bind(f"{system}.mataram", PUBLIC_EXCHANGE, routing_key="*.*.*.52.71.#")
        unit = api.get("/units", params={"kode_prefix": CITY, "tingkat": "kabupaten_kota"}).json()["items"][0]
        joined = api.post(f"/units/{unit['id']}/anggota", json={"nama": "Lalu Baru", "kategori": "masyarakat"})
        assert joined.status_code == 201, joined.text
        # Other events of the city may come first (from an earlier test).
        deadline, got = time.monotonic() + 15, []
        while time.monotonic() < deadline and not any(e["data"].get("id") == joined.json()["id"] for e in got):
            method, _, body = own.basic_get(f"{system}.mataram", auto_ack=True)
            got.append(json.loads(body)) if method else time.sleep(0.2)
        assert [e["type"] for e in got if e["data"].get("id") == joined.json()["id"]] == ["anggota.bergabung"]

        refused(lambda ch: ch.queue_declare("orang-lain.antrian"))  # not its own name
        refused(lambda ch: ch.queue_bind(f"{system}.mataram", "bantuan.events", routing_key="#"))  # internal
        for exchange, key in ((PUBLIC_EXCHANGE, "bantuan.penyaluran.dicatat.52.71"), ("", f"{system}.mataram")):
            def publish(ch, exchange=exchange, key=key):
                ch.confirm_delivery()
                ch.basic_publish(exchange, key, b"{}")
            refused(publish)  # no publishing: not to the feed, not to its own queue
    finally:
        rabbitmqctl("delete_user", system)
