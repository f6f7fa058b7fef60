"""Masking personal data (UU PDP 27/2022) for people and places that need not see it whole.

Framework-free core: imported by domain rules, use cases and the public projections."""
from services.common.phone import local_form


def mask_middle(value, keep_head, keep_tail):
    if not value:
        return value
    keep_head, keep_tail = min(keep_head, len(value) // 3), min(keep_tail, len(value) // 4)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[len(value) - keep_tail:]


def mask_phone(phone):
    """'081234567890' -> '0812******90': enough to recognise, not enough to call."""
    return mask_middle(phone, 4, 2)


def mask_phone_number(number):
    """A stored number masked as people read it: '+6281234567890' -> '0812******90'; what is no
    number (an older value, an inbox's account) masked as it is."""
    shown = local_form(number)
    if shown != number:
        shown = "".join(c for c in shown if c.isdigit() or c == "+")
    return mask_phone(shown)


def mask_email(email):
    """'budi.santoso@contoh.id' -> 'b***@contoh.id'."""
    if not email or "@" not in email:
        return email
    name, domain = email.split("@", 1)
    return f"{name[:1]}***@{domain}"


def mask_contact(person):
    """A person's record with `telepon` and `email` masked; the original is left as it was."""
    return {**person, "telepon": mask_phone_number(person.get("telepon")), "email": mask_email(person.get("email"))}


def mask_address(address):
    """An email address or a phone number, whichever it is, masked."""
    return mask_email(address) if address and "@" in address else mask_phone_number(address)
