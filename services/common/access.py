"""Who is calling and where they may act: the same rules in every service.

A token's `wilayah` scopes its holder to an area and everything below it: a user scoped to
31.71 reaches 31.71 and 31.71.01, never 31.72 and never the province 31. National staff have
no `wilayah` and reach everything, the national unit included.

Framework-free core: imported by domain rules, use cases and the gateway."""
from dataclasses import dataclass

from services.common.errors import Forbidden

ROLES = ("admin", "pengurus", "petugas", "pemantau")
# Patterns are written in the dialect OpenAPI names (ECMA-262: `^...$`, [0-9] rather than \d,
# which in Python also takes non-ASCII digits) and are always checked with re.fullmatch, so
# Python's `$`, which lets a trailing newline through, never does.
KODE_WILAYAH_PATTERN = r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$"


def area_and_ancestors(kode):
    """'31.71.01.1001' -> ['31.71.01.1001', '31.71.01', '31.71', '31']: most specific first."""
    parts = kode.split(".") if kode else []
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def within(kode, area):
    """Is `kode` the area `area` or inside it? Everything is within national (None)."""
    if area is None:
        return True
    return bool(kode) and (kode == area or kode.startswith(area + "."))


@dataclass(frozen=True)
class Actor:
    """Who is calling, from the verified token: `wilayah` None means national staff."""
    sub: str
    roles: tuple = ()
    wilayah: str | None = None

    @classmethod
    def from_dict(cls, data):
        return cls(sub=data["sub"], roles=tuple(data.get("roles") or ()),
                   wilayah=data.get("wilayah") or None)

    def to_dict(self):
        return {"sub": self.sub, "roles": list(self.roles), "wilayah": self.wilayah}

    def has_role(self, roles):
        return any(role in roles for role in self.roles)

    def covers(self, kode):
        return within(kode, self.wilayah)

    def visible_area(self, requested):
        """The area a list may span: the requested one, narrowed to the caller's own."""
        if requested is None or within(self.wilayah, requested):
            return self.wilayah
        self.require_covers(requested)
        return requested

    def require_covers(self, kode):
        if not self.covers(kode):
            where = f"wilayah {kode}" if kode else "tingkat nasional"
            raise Forbidden(f"Anda hanya berwenang atas wilayah {self.wilayah}, bukan {where}.")

    def require_role(self, roles, kode, refusal):
        """Holds one of `roles` and covers `kode`; `refusal` says what the caller may not do."""
        if not self.has_role(roles):
            raise Forbidden(refusal)
        self.require_covers(kode)
