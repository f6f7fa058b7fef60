"""The official area reference (Kemendagri codes) as the rules see it: a code the platform
records work in must be listed, and still current (codes are retired by decree).

Framework-free core: imported by domain rules and use cases. `wilayah` is what organisasi's
reference knows of a code ({"kode", "nama", "aktif"}), or None when it does not list it."""
from services.common.errors import InvalidInput


def area_problem(wilayah, kode):
    """What is wrong with recording work in `kode`, in a person's words; None if nothing."""
    if wilayah is None:
        return f"Kode wilayah {kode} tidak ada dalam referensi wilayah Kemendagri."
    if not wilayah["aktif"]:
        return f"Kode wilayah {kode} ({wilayah['nama']}) sudah tidak berlaku dalam daftar resmi terbaru."
    return None


def require_current_area(wilayah, kode, field_path):
    """The area must be listed and current; the error goes on the field at `field_path`
    (('lokasi', 'kode_wilayah') for a nested one)."""
    problem = area_problem(wilayah, kode)
    if problem:
        errors = [problem]
        for name in reversed(field_path):
            errors = {name: errors}
        raise InvalidInput(errors)
