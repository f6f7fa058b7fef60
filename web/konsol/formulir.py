"""What the console's forms share: a page of the console, the areas typed or shown by name, what
was typed, the Idempotency-Key a creating form carries, times typed on an area's clock, and the
API's refusals shown on the fields they are about."""
import re
import uuid
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from markupsafe import Markup

from services.common.wilayah import ZONES, zona_waktu

# The hidden field a form's Idempotency-Key travels in, and the keys the gateway takes.
IDEMPOTENCY_FIELD = "kunci_permintaan"
IDEMPOTENCY_KEY = re.compile(r"[0-9a-f-]{36}")


def idempotency_key():
    """The header carrying the form's Idempotency-Key (`idempotency_field()`), {} without one."""
    key = request.form.get(IDEMPOTENCY_FIELD, "")
    return {"Idempotency-Key": key} if IDEMPOTENCY_KEY.fullmatch(key) else {}


def idempotency_field():
    return Markup('<input type="hidden" name="{}" value="{}">').format(IDEMPOTENCY_FIELD, uuid.uuid4())


def local_to_iso(value, kode_wilayah):
    """A `datetime-local` field's '2026-12-05T09:00', read on the clock of the area the thing
    happens in, as the API's ISO 8601 with its offset; None when it is no such time."""
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=ZoneInfo(ZONES[zona_waktu(kode_wilayah)])).isoformat()


def page(template, status=200, **context):
    """The console's page `konsol/<template>.html`, with its status."""
    return render_template(f"konsol/{template}.html", **context), status


# The areas (the reference the web app keeps: web/wilayah.py)

def wilayah():
    return current_app.extensions["wilayah"]


def area_name(kode):
    """'Kota Surakarta' for 33.72; 'Nasional' for none (national staff, the national unit)."""
    if not kode:
        return "Nasional"
    area = wilayah().get(kode)
    return area["nama"] if area else kode


def area_code(text):
    """(the code of an area typed as its code or its name, None), or (None, why there is none)."""
    found = wilayah().resolve(text)
    if found.candidates:
        named = "; ".join(f"{area['label']} ({area['kode']})" for area in found.candidates[:5])
        return None, f"Ada beberapa wilayah bernama itu: {named}. Ketik kodenya."
    return found.kode, found.error


# Forms: what was typed, and a refusal shown on the fields it is about

# The parts of a record whose fields a form shows as its own: an activity's place, a finish's report.
PARTS = ("lokasi", "laporan")


def page_number():
    """The page of a list the address asks for (`page`): 1 by default."""
    return max(1, request.args.get("page", 1, type=int))


def typed(names):
    """The form's fields `names`, as typed (trimmed)."""
    return {name: request.form.get(name, "").strip() for name in names}


def refused_unless(problem, *statuses):
    """Re-raise a refusal the person cannot fix on the form: the console's error page says it
    (`refused`). One of `statuses` keeps them on the form, with what they typed."""
    if problem.status not in statuses:
        raise problem


def leaves(errors, path=()):
    """(path, texts) of each error of the API's nested `errors`."""
    for key, value in errors.items():
        if isinstance(value, dict):
            yield from leaves(value, (*path, str(key)))
        else:
            yield (*path, str(key)), value if isinstance(value, list) else [str(value)]


def form_errors(problem, field="_"):
    """A refusal's errors by the form's fields: a nested one on the field it is about, past a
    record's part (`lokasi.kode_wilayah` on kode_wilayah), an item of a list with its line
    (`rute.1.kode_wilayah` on rute: "Baris 2: ..."). The refusal's own words go on `field` when
    it names none; "_" is no field: `unshown` says it above the form."""
    shown = defaultdict(list)
    for path, texts in leaves(problem.errors):
        path = path[1:] if path[0] in PARTS and len(path) > 1 else path
        line = f"Baris {int(path[1]) + 1}: " if len(path) > 1 and path[1].isdigit() else ""
        shown[path[0]] += [line + text for text in texts]
    return dict(shown) or {field: [problem.detail]}


def unshown(errors, fields):
    """What was refused that none of the form's `fields` shows: said above the form."""
    return " ".join(text for name, texts in errors.items() if name not in fields for text in texts) or None
