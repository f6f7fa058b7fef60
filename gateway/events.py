"""The public event log over HTTP: what other systems missed, to catch up before they listen
to the live feed (`bkpm.publik`)."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call
from services.common.config import SERVICES
from services.common.eventlog import EventLogPageSchema, EventLogQuerySchema, decode_cursor, merge_pages

blp = Blueprint("events", __name__, url_prefix="/api/v1/events",
                description="Log event publik semua layanan, untuk menyusul sebelum berlangganan bkpm.publik.")


@blp.route("")
class EventLog(MethodView):
    @blp.arguments(EventLogQuerySchema, location="query")
    @blp.documents(200, EventLogPageSchema, 400, 403)
    def get(self, query):
        """Event publik di wilayah Anda, urut waktu terbit; lanjutkan dengan `cursor=next_cursor`."""
        places = decode_cursor(query.pop("cursor", None))
        pages = {service: call(service, "list_event", query, places.get(service, 0)) for service in SERVICES}
        return merge_pages(pages, places, query["limit"])
