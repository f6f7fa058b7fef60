"""notifikasi forgets what is older than NOTIFIKASI_RETENTION_DAYS as it starts (and every hour
after): settled deliveries, whose rows hold people's addresses, and inbox messages, read or
not. A delivery still waiting stays whatever its age, and so does everything younger."""
import subprocess
import sys
from datetime import timedelta

import pytest

from services.common.mongo import connect, utcnow
from tests.support import ROOT, start_service, wait_until


@pytest.fixture
def notifikasi_db(isolated):
    env, _ = isolated
    client = connect(env["MONGO_URI"])
    yield client[f"{env['BKPM_DB_PREFIX']}_notifikasi"]
    client.close()


def delivery(key, status, age_days):
    made = utcnow() - timedelta(days=age_days)
    return {"_id": key, "status": status, "kanal": "sms", "tujuan": "081311112222", "percobaan": 1,
            "galat_terakhir": None, "berikutnya": made if status == "antri" else None, "dibuat": made,
            "diperbarui": made, "event_id": f"event-{key}"}


def inbox_message(key, read, age_days):
    made = utcnow() - timedelta(days=age_days)
    return {"_id": key, "akun": "warga-1", "subjek": "Kegiatan baru", "isi": "...", "dibaca": made if read else None,
            "dibuat": made}


def test_what_is_older_than_the_retention_is_forgotten_and_nothing_else(isolated, notifikasi_db, logs):
    env, _ = isolated
    notifikasi_db.pengiriman.insert_many([
        delivery("sent-long-ago", "terkirim", 40), delivery("failed-long-ago", "gagal", 40),
        delivery("skipped-long-ago", "dilewati", 40), delivery("waiting-long-ago", "antri", 40),
        delivery("sent-lately", "terkirim", 20)])
    notifikasi_db.kotak_masuk.insert_many([
        inbox_message("read-long-ago", True, 40), inbox_message("unread-long-ago", False, 40),
        inbox_message("unread-lately", False, 20)])
    notifikasi = start_service("notifikasi", {**env, "NOTIFIKASI_RETENTION_DAYS": "30"}, logs)
    try:
        wait_until(lambda: notifikasi_db.kotak_masuk.count_documents({}) == 1, "the old inbox messages forgotten")
        wait_until(lambda: notifikasi_db.pengiriman.count_documents({}) == 2, "the old deliveries forgotten")
        assert {d["_id"] for d in notifikasi_db.pengiriman.find()} == {"waiting-long-ago", "sent-lately"}
        assert {m["_id"] for m in notifikasi_db.kotak_masuk.find()} == {"unread-lately"}
    finally:
        notifikasi.stop()
    assert "forgot 3 deliveries and 2 inbox messages" in notifikasi.log()


def test_a_retention_shorter_than_handled_events_are_remembered_stops_the_service(isolated):
    env, _ = isolated
    result = subprocess.run([sys.executable, "-m", "services.notifikasi"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**env, "NOTIFIKASI_RETENTION_DAYS": "7"})
    assert result.returncode != 0
    assert "NOTIFIKASI_RETENTION_DAYS is 7; it must be at least 30" in result.stderr
