"""Phone numbers (issue 18): however typed, stored and handed to SMS/WhatsApp providers in E.164,
shown in the local form; what is no valid number is refused in Bahasa Indonesia."""
import hashlib
import hmac
import json
import re
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from services.common import phone
from services.common.privacy import mask_phone_number
from services.common.schema import BaseSchema, phone_field, phone_view_field
from services.notifikasi import channels
from services.notifikasi.domain import ADDRESS_HASH_KEY, Message, PermanentFailure, address_key, normalised_address

INVALID = ("Nomor telepon tidak valid. Tulis nomor Indonesia (contoh 081234567890) atau nomor luar negeri diawali + "
           "dan kode negara (contoh +6591234567).")
NOT_MOBILE = "Harus nomor seluler (untuk SMS/WhatsApp), bukan nomor telepon rumah atau kantor."


class Kontak(BaseSchema):
    telepon = phone_field()
    kantor = phone_field(mobile=False)


class KontakView(BaseSchema):
    telepon = phone_view_field()


def loaded(value, field="telepon"):
    return Kontak().load({field: value})[field]


def refused(value, field="telepon"):
    with pytest.raises(ValidationError) as caught:
        Kontak().load({field: value})
    return caught.value.messages[field]


@pytest.mark.parametrize("typed", [
    "081234567890", "6281234567890", "+6281234567890", "0812-3456-7890", "0812 3456 7890", "0812.3456.7890",
    "(0812) 3456-7890", "+62 812-3456-7890", "(+62) 812 3456 7890", "62 812 3456 7890", "+62 (0) 812 3456 7890",
    " 0812 3456 7890 ",
])
def test_an_indonesian_mobile_is_taken_in_any_form_it_is_typed_and_kept_in_e164(typed):
    assert loaded(typed) == "+6281234567890"
    assert re.fullmatch(phone.WRITTEN, typed)  # the published pattern does not refuse what is taken


@pytest.mark.parametrize("typed, e164", [
    ("62812345678", "+62812345678"),  # phonenumbers alone would read 0628-1234-5678, a fixed line
    ("0899 1234 5678", "+6289912345678"),
    ("08123456789", "+628123456789"),
])
def test_digits_starting_with_62_are_the_country_code(typed, e164):
    assert loaded(typed) == e164


@pytest.mark.parametrize("typed, e164", [
    ("+65 9123 4567", "+6591234567"),
    ("+44 7911 123456", "+447911123456"),
    ("+1 (202) 555-0143", "+12025550143"),  # the USA's plan cannot tell a mobile from a fixed line
])
def test_a_number_abroad_is_taken_with_plus_and_country_code(typed, e164):
    assert loaded(typed) == e164


@pytest.mark.parametrize("typed", [
    "12345", "0812", "08123", "0812345678901234", "+62 812", "+1 555 0100", "", "   ", "+",
    "0812 3456 7890 ext 12", "0800-BKPM", "081234567890\n", "0812/3456/7890", "0812-3456-7890, 0813-1111-2222",
    "\uff10\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",  # full-width digits
    "٠٨١٢٣٤٥٦٧٨٩٠", "0812 3456 7890" + " " * 40,
])
def test_what_is_no_valid_number_is_refused_in_bahasa_indonesia(typed):
    assert refused(typed) == [INVALID]
    assert refused(typed, "kantor") == [INVALID]


def test_a_number_that_is_not_text_is_refused():
    assert refused(81234567890) == ["Harus berupa teks."]


@pytest.mark.parametrize("typed, e164", [("021-5550123", "+62215550123"), ("(0274) 512345", "+62274512345"),
                                         ("+44 20 7946 0958", "+442079460958")])
def test_a_fixed_line_is_refused_where_sms_and_whatsapp_need_a_mobile(typed, e164):
    assert refused(typed) == [NOT_MOBILE]
    assert loaded(typed, "kantor") == e164


def test_none_is_refused_unless_allowed():
    assert Kontak().load({}) == {}
    assert "telepon" in pytest.raises(ValidationError, Kontak().load, {"telepon": None}).value.messages


@pytest.mark.parametrize("stored, shown", [
    ("+6281234567890", "0812-3456-7890"),
    ("+62215550123", "(021) 5550123"),
    ("+6591234567", "+65 9123 4567"),
    ("+12025550143", "+1 202-555-0143"),
    ("081234567890", "0812-3456-7890"),  # stored before numbers were E.164
    ("6281234567890", "0812-3456-7890"),
])
def test_a_stored_number_is_shown_in_the_local_form(stored, shown):
    assert KontakView().dump({"telepon": stored}) == {"telepon": shown}
    assert loaded(shown, "kantor") == phone.to_e164(stored, mobile=False)  # sent back as shown, it is the same number
    assert phone.local_form(shown) == shown  # the gateway dumps what a service dumped once more


@pytest.mark.parametrize("stored", ["+628********90", "0812******90", "0812-3456", "nomor lama", "", None])
def test_what_is_no_valid_number_is_shown_as_stored(stored):
    """A masked number, or one stored before numbers were checked, is not made up into another."""
    assert KontakView().dump({"telepon": stored}) == {"telepon": stored}


def test_the_api_document_gives_the_written_forms_and_an_example_that_is_taken():
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin
    spec = APISpec("uji", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Kontak", schema=Kontak)
    spec.components.schema("KontakView", schema=KontakView)
    schemas = spec.to_dict()["components"]["schemas"]
    telepon = schemas["Kontak"]["properties"]["telepon"]
    assert telepon["pattern"] == phone.WRITTEN and "E.164" in telepon["description"]
    assert loaded(telepon["example"]) == "+6281234567890"
    assert "pattern" not in schemas["KontakView"]["properties"]["telepon"]  # a masked value is shown too
    assert schemas["KontakView"]["properties"]["telepon"]["nullable"] is True


# notifikasi: numbers stored in older forms reach providers in E.164 and are one address

@pytest.fixture
def provider(monkeypatch):
    posted = []
    monkeypatch.setattr(channels, "post", lambda url, body, headers, timeout, whom: posted.append(json.loads(body)))
    return posted


CONFIG = SimpleNamespace(sms_provider_url="http://penyedia/sms", sms_provider_token=None, send_timeout=5,
                         whatsapp_provider_url="http://penyedia/wa", whatsapp_provider_token=None)
MESSAGE = Message(subject="bkpm_uji", text="Halo\nDunia\n")


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
@pytest.mark.parametrize("stored", ["081234567890", "6281234567890", "+6281234567890", "0812-3456-7890"])
def test_providers_are_handed_e164_whatever_form_the_number_was_stored_in(provider, channel, stored):
    channels.send(CONFIG, {"kanal": channel, "tujuan": stored, "id": "k-1"}, MESSAGE, None)
    assert [body["ke"] for body in provider] == ["+6281234567890"]


@pytest.mark.parametrize("stored", ["021-5550123", "0812", "nomor lama"])
def test_a_stored_number_no_mobile_can_have_fails_for_good_without_naming_it(provider, stored):
    with pytest.raises(PermanentFailure) as failed:
        channels.send(CONFIG, {"kanal": "sms", "tujuan": stored, "id": "k-1"}, MESSAGE, None)
    assert provider == [] and not re.search(r"[0-9]{3}", str(failed.value))


def test_an_address_is_one_number_however_it_is_written_and_keeps_the_key_it_had():
    line = ["081234567890", "+6281234567890", "6281234567890", "0812-3456-7890", "(+62) 812 3456 7890",
            "812 3456 7890"]
    assert {normalised_address(number) for number in line} == {"6281234567890"}
    # The digits the hashes were made of before numbers were E.164: opt-outs made then still hold.
    assert address_key("+6281234567890") == hmac.new(ADDRESS_HASH_KEY, b"6281234567890", hashlib.sha256).hexdigest()
    assert normalised_address("+65 9123 4567") == "6591234567"
    assert normalised_address("0812 345") == "62812345"  # no valid number: the old rule


@pytest.mark.parametrize("stored, masked", [
    ("+6281234567890", "0812******90"),  # as people read it, not as it is kept
    ("081234567890", "0812******90"),
    ("+6591234567", "+65******67"),
    ("akun-12345", "aku*****45"),  # an inbox's address: no number, masked as it is
    (None, None),
])
def test_a_masked_number_is_shown_in_the_local_form(stored, masked):
    assert mask_phone_number(stored) == masked
