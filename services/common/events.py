"""The event envelope: CloudEvents 1.0, JSON structured mode, built and checked with marshmallow.

Besides the required attributes every event carries two extension attributes:
`wilayah`, the area code the event concerns (absent for national events), so subscribers can
route by region; and `correlationid`, the id of the request that caused it, so logs can be
followed from the gateway through RPC and events to every handler.

Framework-free core (marshmallow): every part of the platform may import it.
"""
import uuid
from datetime import datetime, timezone

from marshmallow import INCLUDE, fields, validate

from services.common.schema import BaseSchema, instance, one_of, regexp

SPEC_VERSION = "1.0"
EVENT_TYPE_PATTERN = r"^[a-z_]+\.[a-z_]+(\.v[0-9]+)?$"


class CloudEventSchema(BaseSchema):
    class Meta:
        # CloudEvents allows extension attributes beyond the ones we set.
        unknown = INCLUDE

    specversion = fields.String(required=True, validate=one_of([SPEC_VERSION]))
    id = fields.String(required=True, validate=validate.Length(min=1))
    source = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(required=True, validate=regexp(EVENT_TYPE_PATTERN))
    time = fields.String(required=True, validate=lambda value: _is_rfc3339(value))
    subject = fields.String()
    datacontenttype = fields.String(load_default="application/json")
    data = fields.Dict(required=True)
    wilayah = fields.String(allow_none=True)
    correlationid = fields.String(allow_none=True)


def _is_rfc3339(value):
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def source_of(service):
    return f"/bkpm/{service}"


def exchange_of(service):
    """Each service publishes on its own topic exchange, named as Nameko names event exchanges."""
    return f"{service}.events"


def new_event(service, event_type, subject, data, wilayah=None, correlation_id=None):
    event = {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid4()),
        "source": source_of(service),
        "type": event_type,
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
        "wilayah": wilayah,
        "correlationid": correlation_id,
    }
    errors = instance(CloudEventSchema).validate(event)
    if errors:
        raise ValueError(f"invalid event {event_type}: {errors}")
    return event


def parse_event(body):
    """Load an incoming envelope; raises marshmallow.ValidationError when it is not a CloudEvent."""
    return instance(CloudEventSchema).load(body)


# The public feed for other government systems: one topic exchange for every service, routed
# by service, event and area, carrying a deliberate projection of each event's data.

PUBLIC_EXCHANGE = "bkpm.publik"
# The public projection of an internal event type (a service's PUBLIC_DATA_SCHEMAS maps it to
# this): published on the service's own exchange only, never on the public feed nor in the
# public event log (akun's events are about people).
INTERNAL = None


def public_schema(data_schema, *names, **nested):
    """The public projection of an event's data: only the named fields of its data schema, so
    a field added to the internal event stays internal until it is named here too. `nested`
    gives a named nested field the public projection of what it holds (made with this function
    too): `public_schema(KegiatanData, ..., "lokasi", lokasi=LokasiPublik)` shows a place by
    its area code without the address typed with it."""
    unnamed = set(nested) - set(names)
    if unnamed:
        raise ValueError(f"nested projections of fields the projection does not name: {sorted(unnamed)}")
    meta = type("Meta", (data_schema.Meta,), {"fields": names})
    projected = {name: _nested_as(data_schema._declared_fields[name], projection)
                 for name, projection in nested.items()}
    return type(f"Publik{data_schema.__name__}", (data_schema,), {"Meta": meta, **projected})


def _nested_as(field, projection):
    """The nested `field` holding `projection` instead, as required and nullable as it was."""
    return fields.Nested(projection, required=field.required, allow_none=field.allow_none, metadata=field.metadata)


def public_routing_key(service, event):
    """`<service>.<entity>.<verb>.<area code parts>`, e.g.
    `bantuan.penyaluran.dicatat.31.71.01.1001`; a national event ends at the verb. A versioned
    type (`penyaluran.dicatat.v2`) keeps three words before the area: `...dicatat_v2...`."""
    entity, verb, *version = event["type"].split(".")
    area = event["wilayah"].split(".") if event.get("wilayah") else []
    return ".".join([service, entity, "_".join([verb, *version]), *area])


def public_event(event, public_data):
    """The CloudEvent outside systems receive: the same id, source, type, time, subject and
    area as the internal one, the public projection as data, and no correlation id."""
    return {name: event[name] for name in ("specversion", "id", "source", "type", "time", "subject",
                                           "datacontenttype", "wilayah")} | {"data": public_data}
