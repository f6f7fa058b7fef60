"""Photos and documents of activities and of aid distributions, end to end through the gateway:
a phone photo's EXIF (its GPS position) gone from what is stored and handed back, the type taken
from the content, 10 MiB and 20 per record, who may read, add and remove where, and the events
that tell of it without the file."""
import concurrent.futures
import hashlib
import io
import uuid
from datetime import timedelta
from types import SimpleNamespace

import gridfs
import pytest
from PIL import ExifTags, Image

from services.common import attachments
from services.common.files import ATTACHMENT_INDEXES, Attachments
from services.common.mongo import connect, ensure_indexes, utcnow
from tests.nik import recipient
from tests.support import assert_problem, events_fixture, form_units

PROVINSI, KOTA, ELSEWHERE = "72", "72.71", "72.01"  # Sulawesi Tengah, Kota Palu, Kabupaten Banggai
VILLAGE = "72.71.01.1004"
RECORDER = {"role": "petugas", "wilayah": KOTA}
READER = {"role": "pemantau", "wilayah": KOTA}
OUTSIDER = {"role": "pemantau", "wilayah": ELSEWHERE}
MIB = 1024 * 1024
GPS = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (3.0, 58.0, 20.0),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (122.0, 30.0, 45.0)}

kegiatan_events = events_fixture("kegiatan.events")
bantuan_events = events_fixture("bantuan.events")


def phone_photo(orientation=6):
    """A photo as a phone saves it: lying down (40 x 20, red left, blue right) with the EXIF
    orientation that shows it upright, the camera's make and the GPS position of the house."""
    image = Image.new("RGB", (40, 20), (20, 20, 200))
    image.paste((200, 20, 20), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telepon Pintar"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(out, "PNG")
    return out.getvalue()


def upload(api, path, content, name="foto.jpg", who=RECORDER, **kwargs):
    return api.post(f"{path}/lampiran", files={"berkas": (name, content, "application/octet-stream")}, **who,
                    **kwargs)


def added(response):
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def units(api, national_unit):
    return form_units(api, PROVINSI, KOTA, ELSEWHERE)


@pytest.fixture
def activity(api, units):
    return schedule(api, units)


def schedule(api, units):
    """A new activity in Kota Palu, at a village of it: `/kegiatan/{id}`."""
    response = api.post("/kegiatan", json={
        "unit_id": units[KOTA]["id"], "jenis": "dialog", "judul": "Dialog Kamtibmas",
        "mulai": "2026-12-10T09:00:00+08:00", "selesai": "2026-12-10T11:00:00+08:00",
        "lokasi": {"kode_wilayah": VILLAGE, "alamat": "Balai Kelurahan"}})
    assert response.status_code == 201, response.text
    return f"/kegiatan/{response.json()['id']}"


@pytest.fixture(scope="module")
def distribution(api, units):
    """A distribution of aid to a household in Kota Palu: `/bantuan/penyaluran/{id}`."""
    program = api.post("/bantuan/program", json={
        "nama": "Sembako Palu", "jenis": "sembako", "unit_id": units[KOTA]["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 10, "wilayah_sasaran": [KOTA]}).json()
    assert api.post(f"/bantuan/program/{program['id']}/aktifkan").status_code == 200
    penerima = api.post("/bantuan/penerima", json=recipient(74000, village=VILLAGE)).json()
    response = api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                     "tanggal": "2026-06-01", "jenis_bukti": "foto", "bukti": "IMG"})
    assert response.status_code == 201, response.text
    return f"/bantuan/penyaluran/{response.json()['id']}"


def test_a_photos_exif_is_gone_from_what_is_stored_and_handed_back(api, env, activity, kegiatan_events):
    sent = phone_photo()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the house's position
    response = upload(api, activity, sent, name="IMG_20261210_0930.jpg")
    lampiran = added(response)
    assert response.headers["Location"].endswith(f"/api/v1{activity}/lampiran/{lampiran['id']}")
    assert (lampiran["tipe"], lampiran["nama_berkas"]) == ("image/jpeg", "IMG_20261210_0930.jpg")

    # As stored, in the kegiatan service's own GridFS.
    client = connect(env["MONGO_URI"])
    try:
        stored = gridfs.GridFSBucket(client[f"{env['BKPM_DB_PREFIX']}_kegiatan"], "lampiran").open_download_stream(
            lampiran["id"]).read()
    finally:
        client.close()
    # As handed back, to a reader of the area.
    download = api.get(f"{activity}/lampiran/{lampiran['id']}", **READER)
    assert download.status_code == 200, download.text
    assert download.content == stored
    assert hashlib.sha256(stored).hexdigest() == lampiran["sha256"] and len(stored) == lampiran["ukuran"]
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "exif" not in image.info
    assert b"Exif" not in stored and b"Telepon Pintar" not in stored
    # Turned upright before the orientation went with the rest: the red half is on top.
    assert image.size == (20, 40)
    top, bottom = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 35))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]

    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["Content-Disposition"] == 'attachment; filename=IMG_20261210_0930.jpg'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in download.headers["Cache-Control"]

    event = kegiatan_events.wait_for(
        lambda e: e["type"] == "lampiran.ditambahkan" and e["data"]["id"] == lampiran["id"])
    assert event[0]["data"] == {"id": lampiran["id"], "kegiatan_id": activity.rsplit("/", 1)[1], "tipe": "image/jpeg",
                                "ukuran": lampiran["ukuran"], "sha256": lampiran["sha256"]}
    assert event[0]["subject"] == f"{activity[1:]}/lampiran/{lampiran['id']}" and event[0]["wilayah"] == VILLAGE


def test_the_type_is_taken_from_the_content_not_the_name(api, activity):
    as_png = added(upload(api, activity, png(), name="scan.pdf"))
    assert (as_png["tipe"], as_png["nama_berkas"]) == ("image/png", "scan.png")
    download = api.get(f"{activity}/lampiran/{as_png['id']}", **READER)
    assert download.headers["Content-Type"] == "image/png" and download.content.startswith(b"\x89PNG")
    problem = assert_problem(upload(api, activity, b"Ini hanya teks, bukan foto.\n", name="foto.jpg"), 400,
                             "input_tidak_valid")
    assert problem["errors"] == {"berkas": ["Berkas harus berupa foto JPEG atau PNG, atau dokumen PDF."]}
    assert_problem(api.post(f"{activity}/lampiran", data={"berkas": "bukan berkas"}, **RECORDER), 400)


def test_ten_mib_is_taken_and_one_byte_more_is_413(api, distribution):
    document = b"%PDF-1.7\n" + bytes(10 * MIB - 9)
    lampiran = added(upload(api, distribution, document, name="Berita Acara.pdf", timeout=120))
    assert (lampiran["tipe"], lampiran["ukuran"]) == ("application/pdf", 10 * MIB)  # a PDF is kept as it came
    download = api.get(f"{distribution}/lampiran/{lampiran['id']}", **READER, timeout=120)
    assert download.status_code == 200 and download.content == document
    assert download.headers["Content-Disposition"] == 'attachment; filename="Berita Acara.pdf"'

    problem = assert_problem(upload(api, distribution, document + b"\n", name="lebih.pdf", timeout=120), 413,
                             "terlalu_besar")
    assert problem["detail"] == "Berkas paling besar 10 MiB."
    assert_problem(upload(api, distribution, bytes(12 * MIB), name="jauh.pdf", timeout=120), 413, "terlalu_besar")


def test_twenty_per_record_also_when_uploads_race_for_the_last_places(api, activity):
    for n in range(18):
        added(upload(api, activity, png(), name=f"foto-{n}.png"))
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda n: upload(api, activity, png(), name=f"balapan-{n}.png"), range(3)))
    assert sorted(answer.status_code for answer in answers) == [201, 201, 409]
    listed = api.get(f"{activity}/lampiran", params={"per_page": 50}, **READER).json()
    assert listed["total"] == 20 and len(listed["items"]) == 20
    problem = assert_problem(upload(api, activity, png()), 409, "lampiran_penuh")
    assert "20" in problem["detail"]
    assert api.delete(f"{activity}/lampiran/{listed['items'][0]['id']}", **RECORDER).status_code == 204
    added(upload(api, activity, png(), name="pengganti.png"))  # the place it left is free again


@pytest.mark.parametrize("record,events,outside", [("activity", "kegiatan_events", 403),
                                                    ("distribution", "bantuan_events", 404)])
def test_readers_of_the_area_read_recorders_add_and_remove(api, request, record, events, outside):
    path, events = request.getfixturevalue(record), request.getfixturevalue(events)
    lampiran = added(upload(api, path, png()))
    one = f"{path}/lampiran/{lampiran['id']}"
    # A pemantau of the area reads, but neither adds nor removes.
    assert api.get(f"{path}/lampiran", **READER).status_code == 200
    assert api.get(one, **READER).status_code == 200
    assert_problem(upload(api, path, png(), who=READER), 403, "akses_ditolak")
    assert_problem(api.delete(one, **READER), 403, "akses_ditolak")
    # Outside the area, as for the record itself: an activity 403, a citizen's distribution 404.
    for response in (api.get(f"{path}/lampiran", **OUTSIDER), api.get(one, **OUTSIDER),
                     upload(api, path, png(), who={"role": "petugas", "wilayah": ELSEWHERE}),
                     api.delete(one, role="petugas", wilayah=ELSEWHERE)):
        assert_problem(response, outside)

    assert api.delete(one, **RECORDER).status_code == 204
    assert_problem(api.get(one, **READER), 404, "tidak_ditemukan")
    assert_problem(api.delete(one, **RECORDER), 404, "tidak_ditemukan")
    assert lampiran["id"] not in {item["id"] for item in api.get(f"{path}/lampiran", **READER).json()["items"]}
    assert events.wait_for(lambda e: e["type"] == "lampiran.dihapus" and e["data"]["id"] == lampiran["id"])


def test_outside_the_area_an_activity_answers_as_its_own_get_does(api, activity):
    assert api.get(activity, **OUTSIDER).status_code == 403
    assert_problem(api.get(f"{activity}/lampiran", **OUTSIDER), 403, "akses_ditolak")


def test_an_attachment_is_reached_only_through_its_own_record(api, units, activity):
    other = schedule(api, units)
    lampiran = added(upload(api, activity, png()))
    assert_problem(api.get(f"{other}/lampiran/{lampiran['id']}", **READER), 404, "tidak_ditemukan")
    assert_problem(api.delete(f"{other}/lampiran/{lampiran['id']}", **RECORDER), 404, "tidak_ditemukan")
    assert api.get(f"{other}/lampiran", **READER).json()["total"] == 0
    assert api.get(f"{activity}/lampiran/{lampiran['id']}", **READER).status_code == 200


def test_an_upload_repeated_with_its_idempotency_key_is_kept_once(api, env, units):
    path = schedule(api, units)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = added(upload(api, path, png(), name="sekali.png", headers=key))
    again = upload(api, path, png(), name="sekali.png", headers=key)
    assert again.status_code == 201 and again.json() == first
    assert api.get(f"{path}/lampiran", **READER).json()["total"] == 1
    client = connect(env["MONGO_URI"])
    try:  # the repeat's own copy of the file was not left behind
        stored = client[f"{env['BKPM_DB_PREFIX']}_kegiatan"]["lampiran.files"]
        assert stored.count_documents({"metadata.induk_id": path.rsplit("/", 1)[1]}) == 1
    finally:
        client.close()


def test_a_distributions_attachments_are_in_its_audit_trail(api, distribution):
    lampiran = added(upload(api, distribution, phone_photo(), name="Serah terima Pak Budi.jpg"))
    trail = api.get(f"/bantuan/audit/{distribution.rsplit('/', 1)[1]}").json()
    entry = next(e for e in trail if e["aksi"] == "lampiran_ditambahkan" and e["baru"]["lampiran_id"] == lampiran["id"])
    assert entry["baru"] == {"lampiran_id": lampiran["id"], "tipe": "image/jpeg", "ukuran": lampiran["ukuran"],
                             "sha256": lampiran["sha256"]}
    assert entry["oleh"] == "penguji"


def test_the_store_counts_per_record_and_sweeps_what_no_record_holds(mongo_uri):
    """services/common/files.py on the database itself: a file stored but never attached (a crash
    between the two steps) and one removed whose deletion failed are swept; the kept one stays."""
    client = connect(mongo_uri)
    db = client[f"bkpm_lampiran_{uuid.uuid4().hex[:8]}"]
    try:
        ensure_indexes(db, ATTACHMENT_INDEXES)
        db["rekaman"].insert_one({"_id": "r-1"})
        files, tx = Attachments(db, "rekaman"), SimpleNamespace(session=None)
        berkas = attachments.prepare(png(), "a.png")
        kept, removed, left = (files.put("r-1", berkas, "uji") for _ in range(3))
        assert files.attach(tx, kept, "r-1", 2)["status"] == "tersimpan"
        assert files.attach(tx, removed, "r-1", 2) is not None
        assert files.attach(tx, left, "r-1", 2) is None  # the record holds its limit
        assert files.detach(tx, removed, "r-1")["id"] == removed
        assert files.detach(tx, removed, "r-1") is None and files.detach(tx, kept, "r-2") is None
        assert db["rekaman"].find_one({"_id": "r-1"})[attachments.COUNT] == 1

        assert files.sweep(utcnow() - timedelta(hours=1)) == 1  # the removed one; `left` may still be attached
        assert files.sweep(utcnow() + timedelta(seconds=1)) == 1
        assert db["lampiran.files"].distinct("_id") == [kept] and db["lampiran.chunks"].distinct("files_id") == [kept]
        assert files.content(kept) == berkas["isi"] and files.content(left) is None
        assert files.page("r-1", 1, 20) == ([files.find("r-1", kept)], 1)
    finally:
        client.drop_database(db.name)
        client.close()
