"""The access log of personal data over HTTP (services/common/access_log.py): who read a whole
NIK, No. KK or a person's contacts, when, through which route, for the admins of the area the
data are in. Read only: there is no route that changes it."""
from flask.views import MethodView
from marshmallow import fields, validates

from gateway.blueprint import Blueprint, call
from services.common.access_log import SERVICES_WITH_LOG, AksesPageSchema, AksesQuerySchema
from services.common.eventlog import CURSOR_DOC, decode_cursor, merge_pages

blp = Blueprint("akses", __name__, url_prefix="/api/v1/akses",
                description="Catatan setiap pembacaan NIK, No. KK atau kontak seseorang secara utuh (UU PDP).")


class AksesHalamanQuerySchema(AksesQuerySchema):
    cursor = fields.String(metadata=CURSOR_DOC)

    @validates("cursor")
    def readable(self, value, **kwargs):
        decode_cursor(value)


@blp.route("")
class AccessLog(MethodView):
    @blp.arguments(AksesHalamanQuerySchema, location="query")
    @blp.documents(200, AksesPageSchema, 400, 403)
    def get(self, query):
        """Pembacaan data pribadi di wilayah Anda, urut waktu; hanya untuk admin. Lanjutkan dengan
        `cursor=next_cursor`."""
        places = decode_cursor(query.pop("cursor", None))
        pages = {service: call(service, "list_akses", query, places.get(service, 0)) for service in SERVICES_WITH_LOG}
        merged = merge_pages(pages, places, query["limit"])
        return {"items": merged["items"], "next_cursor": merged["next_cursor"]}
