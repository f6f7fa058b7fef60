"""Steps that many use cases share: fetch a record or answer 404, see that the caller may see
it (or, for citizens' records, answer 404 for one outside the caller's area too), and list a
page of records in the caller's area.

Framework-free core: imported by services/<name>/usecases.py."""
from services.common.errors import NotFound
from services.common.schema import page_result


def found(record, label, record_id):
    """`record`, or 404 naming what was not found ('Unit u-1 tidak ditemukan.')."""
    if record is None:
        raise NotFound(f"{label} {record_id} tidak ditemukan.")
    return record


def visible(actor, record, label, record_id, area="kode_wilayah"):
    """`record`, if there is one and the caller covers its area (the field named `area`, a
    dotted path for a nested one); 404 or 403 otherwise."""
    found(record, label, record_id)
    actor.require_covers(area_of(record, area))
    return record


def found_in_area(actor, record, label, record_id, area="kode_wilayah"):
    """`record`, if there is one and the caller covers its area (as `visible`); otherwise 404,
    the same answer as for no record at all. For citizens' records: an id tried from outside
    their area tells neither that the person is registered nor where."""
    if record is None or not actor.covers(area_of(record, area)):
        raise NotFound(f"{label} {record_id} tidak ditemukan.")
    return record


def area_of(record, area):
    """The area code in `record`'s field `area` (a dotted path for a nested one)."""
    kode = record
    for name in area.split("."):
        kode = kode[name]
    return kode


def page_in_area(actor, query, find, view, filters=(), area_param="kode_prefix"):
    """One page of a list in the caller's area, narrowed to the area the query asks for
    (`area_param`) and filtered by the query's fields named in `filters`.

    `find(area, filters, page, per_page)` is the repository's, answering (records, total);
    `view(records)` makes them what the caller may see."""
    area = actor.visible_area(query.get(area_param))
    wanted = {name: query[name] for name in filters if name in query}
    records, total = find(area, wanted, query["page"], query["per_page"])
    return page_result(view(records), total, query)
