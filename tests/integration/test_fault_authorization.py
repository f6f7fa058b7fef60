"""Fault suite: the authorisation matrix. Every write route of /openapi.json, for every role, on
a target inside the caller's area (Kabupaten Kapuas, 62.02) and outside it (Barito Selatan,
62.03), gives exactly the expected status. Each role acts in a world of its own (a kecamatan
unit with its board, members, activities, an aspiration, programs, recipients, a distribution
and a webhook), so every allowed call finds its target as the rules want it. A write route
added without an entry here fails the coverage test."""
import csv
import uuid

import pytest
import requests

from services.common.access import ROLES
from tests.nik import recipient
from tests.support import SHARED_WILAYAH, form_units

IN, OUT = "62.02", "62.03"  # the callers are all scoped to Kapuas
RECORDERS, MANAGERS = {"admin", "pengurus", "petugas"}, {"admin", "pengurus"}
MULAI, SELESAI = "2026-12-15T09:00:00+07:00", "2026-12-15T11:00:00+07:00"
# A photo to attach (a PNG of one green pixel): a body of bytes is sent as the upload form's `berkas`.
FOTO = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
        b"\x00\x00\x0cIDATx\x9cc`h`\x00\x00\x01\x04\x00\x81p\xf6\xc7\xa5\x00\x00\x00\x00IEND\xaeB`\x82")


def kecamatan_and_villages(kabupaten):
    rows = list(csv.reader(open(SHARED_WILAYAH, encoding="utf-8")))
    kecamatan = [kode for kode, _ in rows if kode.startswith(kabupaten + ".") and kode.count(".") == 2]
    return [(kode, next(k for k, _ in rows if k.startswith(kode + ".") and k.count(".") == 3)) for kode in kecamatan]


def created(response):
    assert response.status_code in (200, 201), response.text
    return response.json()


def build_world(api, unit_kode, spare_kode, village, n):
    """Everything one role's calls act on, made by a national admin."""
    unit = created(api.post("/units", json={"tingkat": "kecamatan", "kode_wilayah": unit_kode}))
    at = f"/units/{unit['id']}"
    world = {"unit": unit, "spare_kode": spare_kode, "village": village, "n": n,
             "pengurus": created(api.post(f"{at}/pengurus", json={"jabatan": "wakil_ketua", "nama": "Pak Uji",
                                                                  "mulai": "2026-01-02"})),
             "anggota": created(api.post(f"{at}/anggota", json={"nama": "Bu Uji", "kategori": "masyarakat"}))}

    def kegiatan():
        return created(api.post("/kegiatan", json={
            "unit_id": unit["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": "Penyuluhan", "mulai": MULAI,
            "selesai": SELESAI, "lokasi": {"kode_wilayah": unit_kode, "alamat": "Balai Desa"}}))
    for name in ("k_mulai", "k_selesai", "k_batal", "k_peserta"):
        world[name] = kegiatan()
    created(api.post(f"/kegiatan/{world['k_selesai']['id']}/mulai"))
    ticket = created(api.post("/aspirasi", role=None, json={"kode_wilayah": village, "kategori": "keluhan",
                                                             "isi": "Jalan rusak."}))["nomor_tiket"]
    listed = api.get("/aspirasi", params={"kode_prefix": unit_kode, "per_page": 200}).json()["items"]
    world["aspirasi"] = next(a for a in listed if a["nomor_tiket"] == ticket)

    def program(active):
        made = created(api.post("/bantuan/program", json={
            "nama": f"Program {uuid.uuid4().hex[:6]}", "jenis": "sembako", "unit_id": unit["id"],
            "mulai": "2026-01-01", "selesai": "2026-12-31", "kuota": 10, "wilayah_sasaran": [unit_kode]}))
        if active:
            created(api.post(f"/bantuan/program/{made['id']}/aktifkan"))
        return made
    world["p_draf"], world["p_aktif"], world["p_salur"] = program(False), program(True), program(True)
    world["penerima"] = created(api.post("/bantuan/penerima", json=recipient(n, village=village)))
    world["penerima_hapus"] = created(api.post("/bantuan/penerima", json=recipient(n + 4, village=village)))
    other = created(api.post("/bantuan/penerima", json=recipient(n + 1, village=village)))
    world["penyaluran"] = created(api.post("/bantuan/penyaluran", json={
        "program_id": world["p_salur"]["id"], "penerima_id": other["id"], "tanggal": "2026-03-01",
        "jenis_bukti": "foto", "bukti": "IMG"}))
    for name, path in (("lampiran_k", f"/kegiatan/{world['k_peserta']['id']}"),
                       ("lampiran_p", f"/bantuan/penyaluran/{world['penyaluran']['id']}")):
        world[name] = created(api.post(f"{path}/lampiran", files={"berkas": ("foto.png", FOTO)}))
    world["webhook"] = created(api.post("/notifikasi/webhook", json={
        "url": "https://sistem-lain.contoh.go.id/bkpm", "rahasia": "rahasia-bersama-uji-123", "wilayah": unit_kode}))
    world["akun"] = created(api.post("/akun", json=account_of(f"uji-{n}", unit_kode)))
    world["klien"] = created(api.post("/klien", json={"nama": f"Sistem {n}", "wilayah": unit_kode}))
    return world


def account_of(username, kode):
    return {"username": username, "nama": "Petugas Uji", "email": "uji@contoh.go.id", "role": "petugas",
            "wilayah": kode, "password": "kuda-lumping-di-pasar"}


def csv_of(person):
    columns = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat")
    return ",".join(columns) + "\n" + ",".join(person[c] for c in columns) + "\n"


# (method, route) -> (who may, in which area, the call, its success status). `area` is "scoped"
# (a refusal outside the caller's area), "hidden" (outside it, a citizen's record is not found),
# "own" (the caller's own things: no area) or "public".
MATRIX = {
    ("POST", "/api/v1/units"): (MANAGERS, "scoped", lambda w: ("/units", {
        "tingkat": "kecamatan", "kode_wilayah": w["spare_kode"]}), 201),
    ("PATCH", "/api/v1/units/{unit_id}"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}", {"nama": "BKPM Uji"}), 200),
    ("POST", "/api/v1/units/{unit_id}/pengurus"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/pengurus", {"jabatan": "ketua", "nama": "AKP Uji", "nrp": "80010203",
                                               "pangkat": "AKP", "jabatan_polri": "Kapolsek", "mulai": "2026-02-01"}),
        201),
    # Corrected before they are ended below: an ended appointment or membership is not corrected.
    ("PATCH", "/api/v1/units/{unit_id}/pengurus/{pengurus_id}"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/pengurus/{w['pengurus']['id']}", {"email": "uji@contoh.go.id"}), 200),
    ("PATCH", "/api/v1/units/{unit_id}/anggota/{anggota_id}"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/anggota/{w['anggota']['id']}", {"telepon": "081234567890"}), 200),
    ("POST", "/api/v1/units/{unit_id}/pengurus/{pengurus_id}/berhenti"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/pengurus/{w['pengurus']['id']}/berhenti", {"alasan": "Pindah tugas"}), 200),
    ("POST", "/api/v1/units/{unit_id}/anggota"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/anggota", {"nama": "Pak Anggota", "kategori": "tokoh_adat"}), 201),
    ("DELETE", "/api/v1/units/{unit_id}/anggota/{anggota_id}"): (MANAGERS, "scoped", lambda w: (
        f"/units/{w['unit']['id']}/anggota/{w['anggota']['id']}", {"alasan": "Pindah"}), 200),
    ("POST", "/api/v1/kegiatan"): (RECORDERS, "scoped", lambda w: ("/kegiatan", {
        "unit_id": w["unit"]["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": "Lagi", "mulai": MULAI,
        "selesai": SELESAI, "lokasi": {"kode_wilayah": w["unit"]["kode_wilayah"], "alamat": "Aula"}}), 201),
    # A planned activity (the one that also gets participants) is rescheduled.
    ("PATCH", "/api/v1/kegiatan/{kegiatan_id}"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_peserta']['id']}", {"mulai": "2026-12-15T10:00:00+07:00"}), 200),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/mulai"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_mulai']['id']}/mulai", None), 200),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/selesai"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_selesai']['id']}/selesai", {"laporan": {"jumlah_peserta": 20, "ringkasan": "Lancar."}}),
        200),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/batal"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_batal']['id']}/batal", {"alasan": "Hujan deras"}), 200),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/peserta"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_peserta']['id']}/peserta", {"nama": "Pak Peserta", "unsur": "masyarakat"}), 201),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/lampiran"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_peserta']['id']}/lampiran", FOTO), 201),
    ("DELETE", "/api/v1/kegiatan/{kegiatan_id}/lampiran/{lampiran_id}"): (RECORDERS, "scoped", lambda w: (
        f"/kegiatan/{w['k_peserta']['id']}/lampiran/{w['lampiran_k']['id']}", None), 204),
    ("POST", "/api/v1/aspirasi/{aspirasi_id}/tindak-lanjut"): (RECORDERS, "scoped", lambda w: (
        f"/aspirasi/{w['aspirasi']['id']}/tindak-lanjut", {"status": "diverifikasi"}), 200),
    ("POST", "/api/v1/bantuan/program"): (MANAGERS, "scoped", lambda w: ("/bantuan/program", {
        "nama": f"Baru {uuid.uuid4().hex[:6]}", "jenis": "sembako", "unit_id": w["unit"]["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 5, "wilayah_sasaran": [w["unit"]["kode_wilayah"]]}), 201),
    ("POST", "/api/v1/bantuan/program/{program_id}/aktifkan"): (MANAGERS, "scoped", lambda w: (
        f"/bantuan/program/{w['p_draf']['id']}/aktifkan", None), 200),
    ("POST", "/api/v1/bantuan/program/{program_id}/tutup"): (MANAGERS, "scoped", lambda w: (
        f"/bantuan/program/{w['p_aktif']['id']}/tutup", None), 200),
    # The program still open throughout (a closed one is not corrected).
    ("PATCH", "/api/v1/bantuan/program/{program_id}"): (MANAGERS, "scoped", lambda w: (
        f"/bantuan/program/{w['p_salur']['id']}", {"kuota": 11, "syarat": "Warga terdampak"}), 200),
    ("PATCH", "/api/v1/bantuan/penerima/{penerima_id}"): (RECORDERS, "hidden", lambda w: (
        f"/bantuan/penerima/{w['penerima']['id']}", {"alamat": "Jl. Koreksi 1"}), 200),
    ("POST", "/api/v1/bantuan/penerima"): (RECORDERS, "scoped", lambda w: (
        "/bantuan/penerima", recipient(w["n"] + 2, village=w["village"])), 201),
    # A file's rows outside the caller's area are refused one by one, in the job's report: a 202.
    ("POST", "/api/v1/bantuan/penerima/impor"): (RECORDERS, "own", lambda w: (
        "/bantuan/penerima/impor", csv_of(recipient(w["n"] + 3, village=w["village"]))), 202),
    # A search finds only what is in the caller's area: outside it, an empty page (200).
    ("POST", "/api/v1/bantuan/penerima/cari"): (RECORDERS, "own", lambda w: (
        "/bantuan/penerima/cari", {"nik": w["penerima"]["nik"]}), 200),
    ("POST", "/api/v1/bantuan/penerima/{penerima_id}/hapus"): ({"admin"}, "hidden", lambda w: (
        f"/bantuan/penerima/{w['penerima_hapus']['id']}/hapus", {"alasan": "Permintaan penerima"}), 200),
    ("POST", "/api/v1/bantuan/penyaluran"): (RECORDERS, "hidden", lambda w: ("/bantuan/penyaluran", {
        "program_id": w["p_salur"]["id"], "penerima_id": w["penerima"]["id"], "tanggal": "2026-03-02",
        "jenis_bukti": "foto", "bukti": "IMG-2"}), 201),
    ("POST", "/api/v1/bantuan/penyaluran/{penyaluran_id}/batal"): (RECORDERS, "hidden", lambda w: (
        f"/bantuan/penyaluran/{w['penyaluran']['id']}/batal", {"alasan": "Salah catat"}), 200),
    ("POST", "/api/v1/bantuan/penyaluran/{penyaluran_id}/lampiran"): (RECORDERS, "hidden", lambda w: (
        f"/bantuan/penyaluran/{w['penyaluran']['id']}/lampiran", FOTO), 201),
    ("DELETE", "/api/v1/bantuan/penyaluran/{penyaluran_id}/lampiran/{lampiran_id}"): (RECORDERS, "hidden", lambda w: (
        f"/bantuan/penyaluran/{w['penyaluran']['id']}/lampiran/{w['lampiran_p']['id']}", None), 204),
    ("POST", "/api/v1/notifikasi/webhook"): ({"admin"}, "scoped", lambda w: ("/notifikasi/webhook", {
        "url": "https://lain.contoh.go.id/x", "rahasia": "rahasia-bersama-uji-456",
        "wilayah": w["unit"]["kode_wilayah"]}), 201),
    ("DELETE", "/api/v1/notifikasi/webhook/{webhook_id}"): ({"admin"}, "scoped", lambda w: (
        f"/notifikasi/webhook/{w['webhook']['id']}", None), 204),
    ("PUT", "/api/v1/notifikasi/preferensi"): (set(ROLES), "own", lambda w: (
        "/notifikasi/preferensi", {"kanal": {"sms": False}}), 200),
    # Someone else's (or no) message is not found, for everyone.
    ("POST", "/api/v1/notifikasi/inbox/{pesan_id}/dibaca"): (set(), "own", lambda w: (
        f"/notifikasi/inbox/{uuid.uuid4()}/dibaca", None), 404),
    ("POST", "/api/v1/akun"): ({"admin"}, "scoped", lambda w: (
        "/akun", account_of(f"baru-{w['n']}", w["unit"]["kode_wilayah"])), 201),
    ("PATCH", "/api/v1/akun/{akun_id}"): ({"admin"}, "scoped", lambda w: (
        f"/akun/{w['akun']['id']}", {"nama": "Petugas Baru"}), 200),
    ("POST", "/api/v1/akun/{akun_id}/reset"): ({"admin"}, "scoped", lambda w: (
        f"/akun/{w['akun']['id']}/reset", None), 202),
    ("POST", "/api/v1/klien"): ({"admin"}, "scoped", lambda w: (
        "/klien", {"nama": "Sistem Lain", "wilayah": w["unit"]["kode_wilayah"]}), 201),
    ("PATCH", "/api/v1/klien/{klien_id}"): ({"admin"}, "scoped", lambda w: (
        f"/klien/{w['klien']['client_id']}", {"nama": "Sistem Baru"}), 200),
    ("POST", "/api/v1/klien/{klien_id}/rahasia"): ({"admin"}, "scoped", lambda w: (
        f"/klien/{w['klien']['client_id']}/rahasia", None), 200),
    # The callers here hold tokens of no account (`bkpm token`): their own account is not found.
    ("POST", "/api/v1/akun/saya/password"): (set(), "own", lambda w: (
        "/akun/saya/password", {"password_lama": "kuda-lumping-di-pasar", "password_baru": "sapi-perah-di-padang"}),
        404),
    ("POST", "/api/v1/akun/saya/otp"): (set(), "own", lambda w: ("/akun/saya/otp", None), 404),
    ("POST", "/api/v1/akun/saya/otp/aktifkan"): (set(), "own", lambda w: (
        "/akun/saya/otp/aktifkan", {"kode_otp": "123456"}), 404),
    # Logging out a login that is not the caller's (or none) ends nothing, for everyone.
    ("POST", "/api/v1/auth/logout"): (set(ROLES), "own", lambda w: ("/auth/logout", {"refresh_token": "bukan"}), 204),
    ("POST", "/api/v1/auth/login"): (None, "public", None, None),
    ("POST", "/api/v1/auth/refresh"): (None, "public", None, None),
    ("POST", "/api/v1/auth/token"): (None, "public", None, None),
    ("POST", "/api/v1/auth/atur-sandi"): (None, "public", None, None),
    ("POST", "/api/v1/aspirasi"): (None, "public", None, None),
    ("POST", "/api/v1/kegiatan/{kegiatan_id}/survei"): (None, "public", None, None),
    ("POST", "/api/v1/notifikasi/berhenti/{token}"): (None, "public", None, None),
}


def expected(route, role, area):
    allowed, scope, _, success = MATRIX[route]
    if not allowed:  # the same answer for everyone: someone else's, or no, record
        return success
    if role not in allowed:
        return 403
    if area == OUT:  # a citizen's record outside the caller's area is not found, as one that does not exist
        return {"scoped": 403, "hidden": 404}.get(scope, success)
    return success


@pytest.fixture(scope="module")
def worlds(api, national_unit):
    form_units(api, "62", IN, OUT)
    worlds, n = {}, 62000
    for area in (IN, OUT):
        places = kecamatan_and_villages(area)
        for index, role in enumerate(ROLES):
            (unit_kode, village), (spare_kode, _) = places[2 * index], places[2 * index + 1]
            worlds[role, area] = build_world(api, unit_kode, spare_kode, village, n)
            n += 10
    return worlds


def write_routes(api):
    document = requests.get(f"{api.base}/openapi.json", timeout=10).json()
    return {(method.upper(), path) for path, operations in document["paths"].items()
            for method in operations if method in ("post", "put", "patch", "delete")}


def test_every_write_route_has_an_entry(api):
    assert write_routes(api) == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("area", (IN, OUT))
def test_each_write_route_answers_each_role_in_and_out_of_its_area_as_expected(api, worlds, role, area):
    world, outcomes = worlds[role, area], {}
    for route, (_, scope, call, _) in MATRIX.items():
        if scope == "public":
            continue
        path, body = call(world)
        method = route[0].lower()
        kwargs = {"data": body, "headers": {"Content-Type": "text/csv"}} if isinstance(body, str) else {"json": body}
        if isinstance(body, bytes):
            kwargs = {"files": {"berkas": ("foto.png", body)}}
        if method == "patch":  # a correction names the version it corrects (428 without): any will do here
            kwargs["headers"] = {"If-Match": "*"}
        response = api.request(method.upper(), path, role=role, wilayah=IN, sub=f"uji-{role}", **kwargs)
        if response.status_code != expected(route, role, area):
            outcomes[f"{route[0]} {route[1]}"] = (response.status_code, expected(route, role, area),
                                                  response.text[:200])
    assert not outcomes, outcomes


def test_public_routes_need_no_token(api, worlds):
    response = api.post("/aspirasi", role=None, json={"kode_wilayah": worlds["admin", IN]["village"],
                                                      "kategori": "masukan", "isi": "Terima kasih."})
    assert response.status_code == 201, response.text
    survey = api.post(f"/kegiatan/{worlds['admin', IN]['k_batal']['id']}/survei", role=None,
                      json={"kode": "XXXXXXXX", "kepercayaan": 5, "kepuasan": 5})
    assert survey.status_code not in (401, 403), survey.text
