"""Attachments (services/common/attachments.py): a file is taken for what its content is, held
to 10 MiB and 20 per record, and a photo keeps nothing the camera wrote into it (the GPS
position above all), turned upright first; then the use cases of kegiatan and bantuan over
in-memory stores: who may add, read and remove where, the events (never the content or the
name), the audit trail, a failed attach leaving no file behind, the sweep."""
import base64
import hashlib
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageCms, ExifTags, PngImagePlugin

from services.bantuan import usecases as bantuan
from services.bantuan.domain import PENYALURAN
from services.common import attachments
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from services.common.schema import load
from services.kegiatan import usecases as kegiatan
from tests.unit.fake_bantuan import FakeBantuanRepository
from tests.unit.fake_kegiatan import FakeKegiatanRepository
from tests.unit.fakes import actor

PLACE = "35.78.01.1001"
PETUGAS = actor("petugas", "35.78")
PEMANTAU = actor("pemantau", "35.78")
SIDOARJO = actor("petugas", "35.15")
PAGE = {"page": 1, "per_page": 20}
GPS = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (7.0, 17.0, 30.0),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (112.0, 44.0, 10.0)}
LEFT, RIGHT = (200, 20, 20), (20, 20, 200)


def photo(fmt="JPEG", size=(40, 20), orientation=None, gps=True, **options):
    """A landscape picture, red on the left and blue on the right, as a phone saves it: EXIF
    with the GPS position (and an orientation, if given) in its metadata."""
    image = Image.new("RGB", size, RIGHT)
    image.paste(LEFT, (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telepon Pintar"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, fmt, exif=exif, **options)
    return out.getvalue()


def opened(content):
    return Image.open(io.BytesIO(content))


def refused(error_class, func, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        func(*args, **kwargs)
    return caught.value.payload


# What a file is, by its content

def test_a_png_named_pdf_is_kept_as_a_png_and_named_so():
    kept = attachments.prepare(photo("PNG"), "foto.pdf")
    assert kept["tipe"] == "image/png" and kept["nama_berkas"] == "foto.png"
    assert opened(kept["isi"]).format == "PNG"


@pytest.mark.parametrize("content", [b"ini teks biasa, bukan foto", b"", b"GIF89a" + bytes(40),
                                     b"\x89PNG\r\n\x1a\n" + bytes(30)])
def test_anything_but_jpeg_png_or_pdf_is_refused_whatever_its_name(content):
    assert refused(InvalidInput, attachments.prepare, content, "foto.jpg")["errors"] == {
        "berkas": [attachments.NOT_TAKEN]}


def test_another_image_format_is_refused_too():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    refused(InvalidInput, attachments.prepare, out.getvalue(), "foto.png")


def test_a_pdf_is_kept_as_it_came():
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    kept = attachments.prepare(pdf, "Berita Acara.PDF")
    assert (kept["isi"], kept["tipe"], kept["nama_berkas"]) == (pdf, "application/pdf", "Berita Acara.pdf")
    assert kept["sha256"] == hashlib.sha256(pdf).hexdigest() and kept["ukuran"] == len(pdf)


def test_a_truncated_photo_is_refused():
    whole = photo(size=(400, 300), gps=False)
    assert refused(InvalidInput, attachments.prepare, whole[:len(whole) // 2], "x.jpg")["errors"] == {
        "berkas": ["Gambar rusak atau tidak lengkap."]}


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")  # 60 million pixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    assert refused(InvalidInput, attachments.prepare, out.getvalue(), "x.png")["errors"] == {
        "berkas": [attachments.TOO_MANY_PIXELS]}


def test_a_file_over_10_mib_is_413():
    assert refused(TooLarge, attachments.prepare, b"%PDF-" + bytes(attachments.MAX_BYTES), "x.pdf")["code"] == (
        "terlalu_besar")
    assert attachments.prepare(b"%PDF-" + bytes(attachments.MAX_BYTES - 5), "x.pdf")["ukuran"] == (
        attachments.MAX_BYTES)


def test_base64_over_the_limit_is_413_before_decoding_and_broken_base64_400():
    encoded = base64.b64encode(bytes(attachments.MAX_BYTES)).decode()
    assert len(attachments.decoded(encoded)) == attachments.MAX_BYTES
    refused(TooLarge, attachments.decoded, encoded + "AAAA")
    assert "berkas" in refused(InvalidInput, attachments.decoded, "bukan base64!")["errors"]


# A photo keeps nothing the camera wrote

def test_a_photos_exif_and_gps_position_are_gone():
    sent = photo(comment=b"rumah Pak Budi")
    assert opened(sent).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry them
    kept = opened(attachments.prepare(sent, "IMG_0001.JPG")["isi"])
    assert kept.format == "JPEG" and not kept.getexif() and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "comment", "xmp"} & set(kept.info)
    assert b"Exif" not in attachments.prepare(sent, "x.jpg")["isi"]


def test_a_portrait_photo_stays_upright():
    # Saved lying down (40 x 20) with orientation 6: shown turned 90 degrees clockwise, so the
    # left half (red) ends up on top.
    kept = opened(attachments.prepare(photo(orientation=6), "x.jpg")["isi"]).convert("RGB")
    assert kept.size == (20, 40)
    top, bottom = kept.getpixel((10, 5)), kept.getpixel((10, 35))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_a_pngs_exif_xmp_and_text_chunks_are_gone_its_transparency_kept():
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "Jl. Melati 7")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    sent = photo("PNG", pnginfo=text)
    assert {"exif", "Comment"} <= set(opened(sent).info)
    kept = opened(attachments.prepare(sent, "x.png")["isi"])
    assert not kept.getexif() and not {"exif", "Comment", "XML:com.adobe.xmp", "xmp"} & set(kept.info)
    drawing = Image.new("P", (4, 4), 0)
    drawing.putpalette([255, 255, 255, 200, 20, 20])
    drawing.paste(1, (0, 0, 2, 4))
    palette = io.BytesIO()
    drawing.save(palette, "PNG", transparency=0)  # the white background is transparent
    kept = opened(attachments.prepare(palette.getvalue(), "x.png")["isi"]).convert("RGBA")
    assert kept.getpixel((3, 1))[3] == 0 and kept.getpixel((0, 1)) == (200, 20, 20, 255)


def test_the_colour_profile_stays():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    kept = opened(attachments.prepare(photo(icc_profile=profile), "x.jpg")["isi"])
    assert kept.info["icc_profile"] == profile


def test_size_and_hash_are_those_of_what_is_kept():
    kept = attachments.prepare(photo(), "x.jpg")
    assert kept["ukuran"] == len(kept["isi"]) and kept["sha256"] == hashlib.sha256(kept["isi"]).hexdigest()


@pytest.mark.parametrize("name,expected", [
    ("C:\\Users\\budi\\Foto KTP 3273.jpeg", "Foto KTP 3273.jpg"),
    ("../../etc/passwd", "passwd.jpg"),
    ('a"b;\r\nX-Header: 1.jpg', "a_b_X-Header_ 1.jpg"),
    ("\u202egpj.exe", "gpj.jpg"),
    (".jpg", "lampiran.jpg"),
    (None, "lampiran.jpg"),
    ("Serah Terima (Desa Sukamaju).jpg", "Serah Terima (Desa Sukamaju).jpg"),
    ("x" * 300 + ".jpg", "x" * attachments.NAME_LENGTH + ".jpg"),
])
def test_a_name_is_cleaned_and_takes_the_extension_of_what_the_file_is(name, expected):
    assert attachments.safe_name(name, "image/jpeg") == expected


# kegiatan: readers of the activity's area read, those who record its unit's activities write

@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def activity(store):
    return store.insert_kegiatan(None, {"unit_id": "unit-35.78", "unit_kode": "35.78", "jenis": "dialog",
                                        "judul": "Dialog", "lokasi": {"kode_wilayah": PLACE, "alamat": "Balai RW"},
                                        "mulai": datetime(2026, 12, 5, tzinfo=timezone.utc),
                                        "selesai": datetime(2026, 12, 5, 3, tzinfo=timezone.utc)})


def upload(content, name="foto.jpg"):
    return load(attachments.LampiranBaruSchema, {"berkas": base64.b64encode(content).decode(), "nama_berkas": name})


def test_an_activitys_photo_is_added_listed_downloaded_and_removed(store, activity):
    added = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo(), "Rumah Pak Budi.jpg"), store)
    assert added["tipe"] == "image/jpeg" and added["nama_berkas"] == "Rumah Pak Budi.jpg"
    assert kegiatan.list_lampiran(PEMANTAU, activity["id"], PAGE, store)["items"] == [added]
    got = kegiatan.get_lampiran(PEMANTAU, activity["id"], added["id"], store)
    content = base64.b64decode(got["isi"])
    assert hashlib.sha256(content).hexdigest() == added["sha256"] and len(content) == added["ukuran"]
    assert not opened(content).getexif()
    kegiatan.hapus_lampiran(PETUGAS, activity["id"], added["id"], store)
    assert kegiatan.list_lampiran(PEMANTAU, activity["id"], PAGE, store)["total"] == 0
    refused(NotFound, kegiatan.get_lampiran, PEMANTAU, activity["id"], added["id"], store)
    refused(NotFound, kegiatan.hapus_lampiran, PETUGAS, activity["id"], added["id"], store)
    assert store.lampiran.content(added["id"]) is None  # the content went with it
    assert store.kegiatan(activity["id"])[attachments.COUNT] == 0


def test_the_events_say_what_was_attached_never_its_content_or_name(store, activity):
    added = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo(), "KTP 3578010101900001.jpg"), store)
    kegiatan.hapus_lampiran(PETUGAS, activity["id"], added["id"], store)
    added_event, removed_event = store.uow.events
    assert (added_event["type"], removed_event["type"]) == ("lampiran.ditambahkan", "lampiran.dihapus")
    assert added_event["subject"] == f"kegiatan/{activity['id']}/lampiran/{added['id']}"
    assert added_event["wilayah"] == PLACE
    assert added_event["data"] == {"id": added["id"], "kegiatan_id": activity["id"], "tipe": "image/jpeg",
                                   "ukuran": added["ukuran"], "sha256": added["sha256"]}
    assert added_event["public"] == {"id": added["id"], "kegiatan_id": activity["id"], "tipe": "image/jpeg",
                                     "ukuran": added["ukuran"]}
    assert "3578010101900001" not in str(store.uow.events)


def test_a_pemantau_reads_but_neither_adds_nor_removes(store, activity):
    added = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo()), store)
    refused(Forbidden, kegiatan.tambah_lampiran, PEMANTAU, activity["id"], upload(photo()), store)
    refused(Forbidden, kegiatan.hapus_lampiran, PEMANTAU, activity["id"], added["id"], store)
    assert kegiatan.list_lampiran(PEMANTAU, activity["id"], PAGE, store)["total"] == 1


def test_outside_the_area_an_activitys_attachments_are_refused_as_the_activity_is(store, activity):
    added = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo()), store)
    for call in (lambda: kegiatan.list_lampiran(SIDOARJO, activity["id"], PAGE, store),
                 lambda: kegiatan.get_lampiran(SIDOARJO, activity["id"], added["id"], store),
                 lambda: kegiatan.tambah_lampiran(SIDOARJO, activity["id"], upload(photo()), store),
                 lambda: kegiatan.hapus_lampiran(SIDOARJO, activity["id"], added["id"], store)):
        refused(Forbidden, call)
    refused(NotFound, kegiatan.list_lampiran, PETUGAS, "tidak-ada", PAGE, store)


def test_an_attachment_of_another_record_is_not_found_through_this_one(store, activity):
    other = store.insert_kegiatan(None, {**{k: v for k, v in activity.items() if k != "id"}})
    added = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo()), store)
    refused(NotFound, kegiatan.get_lampiran, PETUGAS, other["id"], added["id"], store)
    refused(NotFound, kegiatan.hapus_lampiran, PETUGAS, other["id"], added["id"], store)


def test_the_21st_is_refused_and_leaves_no_file(store, activity):
    for _ in range(attachments.MAX_PER_RECORD):
        kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo(gps=False)), store)
    stored = len(store.tables["lampiran"])
    assert refused(Conflict, kegiatan.tambah_lampiran, PETUGAS, activity["id"], upload(photo()), store)["code"] == (
        "lampiran_penuh")
    assert len(store.tables["lampiran"]) == stored


def test_a_file_whose_attach_fails_is_thrown_away(store, activity):
    # The use case reads 19; someone else's upload takes the 20th place before its transaction.
    read_before = {**activity, attachments.COUNT: attachments.MAX_PER_RECORD - 1}
    store.put("kegiatan", {**activity, attachments.COUNT: attachments.MAX_PER_RECORD})
    store.kegiatan = lambda kegiatan_id: read_before
    refused(Conflict, kegiatan.tambah_lampiran, PETUGAS, activity["id"], upload(photo()), store)
    assert store.tables["lampiran"] == {} and store.uow.events == []


def test_a_broken_file_is_refused_before_anything_is_stored(store, activity):
    refused(InvalidInput, kegiatan.tambah_lampiran, PETUGAS, activity["id"], upload(b"bukan foto"), store)
    assert store.tables["lampiran"] == {} and store.uow.events == []


def test_the_work_on_the_image_runs_where_the_service_says():
    ran = []

    def offload(function, *args):
        ran.append(function)
        return function(*args)

    store = FakeKegiatanRepository()
    record = store.insert_kegiatan(None, {"unit_kode": "35.78", "lokasi": {"kode_wilayah": PLACE}})
    kegiatan.tambah_lampiran(PETUGAS, record["id"], upload(photo()), store, offload=offload)
    assert ran == [attachments.prepare]


def test_the_sweep_deletes_files_never_attached_and_those_removed(store, activity):
    kept = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo()), store)
    removed = kegiatan.tambah_lampiran(PETUGAS, activity["id"], upload(photo()), store)
    store.tables["lampiran"][removed["id"]]["status"] = "dihapus"  # its deletion after the commit failed
    left = store.lampiran.put(activity["id"], attachments.prepare(photo(), "x.jpg"), "petugas")  # a crash
    just_now = store.lampiran.put(activity["id"], attachments.prepare(photo(), "x.jpg"), "petugas")
    store.tables["lampiran"][just_now]["diunggah"] = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert attachments.sweep(store, datetime(2026, 6, 1, tzinfo=timezone.utc) + timedelta(minutes=30)) == 2
    assert set(store.tables["lampiran"]) == {kept["id"], just_now}
    assert left not in store.tables["lampiran"]


# bantuan: the distribution's area, its recorders, its audit trail

@pytest.fixture
def aid():
    return FakeBantuanRepository()


@pytest.fixture
def distribution(aid):
    return aid.put(PENYALURAN, {"id": "penyaluran-1", "program_id": "p", "penerima_id": "r", "no_kk": "3578",
                                "kode_wilayah": PLACE, "status": "aktif"})


def test_a_distributions_photo_is_audited_by_what_it_is_not_its_name(aid, distribution):
    added = bantuan.tambah_lampiran(PETUGAS, distribution["id"], upload(photo(), "KTP Budi.jpg"), aid)
    assert bantuan.list_lampiran(PEMANTAU, distribution["id"], PAGE, aid)["items"] == [added]
    assert bantuan.get_lampiran(PEMANTAU, distribution["id"], added["id"], aid)["sha256"] == added["sha256"]
    bantuan.hapus_lampiran(PETUGAS, distribution["id"], added["id"], aid)
    what = {"lampiran_id": added["id"], "tipe": "image/jpeg", "ukuran": added["ukuran"], "sha256": added["sha256"]}
    trail = [(entry["aksi"], entry["lama"], entry["baru"]) for entry in aid.audit_trail(distribution["id"])]
    assert trail == [("lampiran_ditambahkan", None, what), ("lampiran_dihapus", what, None)]
    assert [event["type"] for event in aid.uow.events] == ["lampiran.ditambahkan", "lampiran.dihapus"]
    assert aid.uow.events[0]["data"]["penyaluran_id"] == distribution["id"]
    assert "Budi" not in str(aid.uow.events)


def test_outside_the_area_a_distributions_attachments_are_not_found(aid, distribution):
    added = bantuan.tambah_lampiran(PETUGAS, distribution["id"], upload(photo()), aid)
    for call in (lambda: bantuan.list_lampiran(SIDOARJO, distribution["id"], PAGE, aid),
                 lambda: bantuan.get_lampiran(SIDOARJO, distribution["id"], added["id"], aid),
                 lambda: bantuan.tambah_lampiran(SIDOARJO, distribution["id"], upload(photo()), aid),
                 lambda: bantuan.hapus_lampiran(SIDOARJO, distribution["id"], added["id"], aid)):
        refused(NotFound, call)


def test_a_pemantau_may_not_add_to_a_distribution(aid, distribution):
    refused(Forbidden, bantuan.tambah_lampiran, PEMANTAU, distribution["id"], upload(photo()), aid)
    refused(Forbidden, bantuan.hapus_lampiran, PEMANTAU, distribution["id"], "lampiran-1", aid)
