"""The clock of each province (services/common/wilayah.py), which the web front-end shows times in."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from services.common.wilayah import ZONES, zona_waktu

# The 38 provinces of the 2025 list, by their zone (Permendagri: WIB Sumatra, Java, West and
# Central Kalimantan; WITA Bali, Nusa Tenggara, the rest of Kalimantan, Sulawesi; WIT Maluku, Papua).
WIB = ("11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36", "61", "62")
WITA = ("51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76")
WIT = ("81", "82", "91", "92", "93", "94", "95", "96")


def test_every_province_has_its_zone_and_the_areas_below_it_share_it():
    assert len(WIB + WITA + WIT) == len(set(WIB + WITA + WIT)) == 38
    for provinces, zone in ((WIB, "WIB"), (WITA, "WITA"), (WIT, "WIT")):
        for province in provinces:
            assert zona_waktu(province) == zone, province
            assert zona_waktu(f"{province}.01.02.2001") == zone, province


def test_national_is_wib_and_each_zone_names_its_clock():
    assert zona_waktu(None) == zona_waktu("") == "WIB"
    noon_utc = datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)
    hours = {zone: noon_utc.astimezone(ZoneInfo(name)).hour for zone, name in ZONES.items()}
    assert hours == {"WIB": 12, "WITA": 13, "WIT": 14}
