"""Phone numbers (issue 18): read with `phonenumbers`, Indonesia the region of a number written
without a country code; stored and handed to SMS/WhatsApp providers in E.164 (`+6281234567890`);
shown in the local form (`0812-3456-7890`).

Framework-free core: used by the schemas' phone fields (services/common/schema.py) and by
notifikasi, which sends to and hashes numbers stored before they were E.164 too."""
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

REGION = "ID"
INDONESIA = 62
# How a number may be written: digits after an optional '+', with spaces, dashes, dots and
# parentheses ('(+62) 812-3456-7890'). No letters: phonenumbers would read a word as keypad
# digits ('0800-BKPM') and 'ext. 12' as an extension, which E.164 has no room for. Also the
# pattern the API document gives (ECMA-262): it refuses nothing `parse` takes.
WRITTEN = r"^[ (]{0,4}\+?[0-9 ().-]{1,30}$"
_WRITTEN = re.compile(WRITTEN)
# Numbers that can receive an SMS or a WhatsApp message. Some countries' plans (the USA's,
# Canada's) do not tell a mobile from a fixed line: those are given the benefit of the doubt.
MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

INVALID = ("Nomor telepon tidak valid. Tulis nomor Indonesia (contoh 081234567890) atau nomor luar negeri "
           "diawali + dan kode negara (contoh +6591234567).")
NOT_MOBILE = "Harus nomor seluler (untuk SMS/WhatsApp), bukan nomor telepon rumah atau kantor."


class InvalidPhone(ValueError):
    """A number that cannot be taken; the text says why, for the one who wrote it."""


def parse(text):
    """The valid number that `text` writes, or None. Digits starting with 62 and no '+' are
    read with Indonesia's country code first: phonenumbers alone takes '62812345678' for the
    national number 0628-1234-5678."""
    if not isinstance(text, str) or _WRITTEN.fullmatch(text) is None:
        return None
    digits = re.sub(r"[^0-9]", "", text)
    readings = [f"+{digits}", text] if digits.startswith("62") and "+" not in text else [text]
    for reading in readings:
        try:
            number = phonenumbers.parse(reading, REGION)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def e164(number):
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def to_e164(text, mobile=True):
    """`text` in E.164; InvalidPhone when it is not a valid number, or (`mobile`) not one that
    can receive SMS or WhatsApp."""
    number = parse(text)
    if number is None:
        raise InvalidPhone(INVALID)
    if mobile and phonenumbers.number_type(number) not in MOBILE:
        raise InvalidPhone(NOT_MOBILE)
    return e164(number)


def local_form(value):
    """A stored number as people read it: an Indonesian one as dialled at home ('0812-3456-7890',
    '(021) 5550123'), another in the international format ('+65 9123 4567'). A value that is
    no valid number (stored before numbers were checked this way, or masked: '0812******90')
    is shown as it is."""
    number = parse(value)
    if number is None:
        return value
    form = PhoneNumberFormat.NATIONAL if number.country_code == INDONESIA else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, form)
