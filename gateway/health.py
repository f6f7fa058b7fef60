"""Liveness and readiness, for `make run`, container healthchecks and Kubernetes probes."""
from flask import current_app
from flask.views import MethodView
from marshmallow import fields

from gateway.blueprint import Blueprint
from gateway.rpc import RemoteFailure, ServiceUnavailable
from services.common.config import SERVICES
from services.common.errors import Unavailable
from services.common.schema import BaseSchema

READY_TIMEOUT = 2.0

blp = Blueprint("health", __name__, public=True,
                description="Kesehatan gateway dan layanan di belakangnya.")


class HealthSchema(BaseSchema):
    status = fields.String(required=True)


class ReadySchema(HealthSchema):
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "Per layanan: 'ok' atau alasan tidak siap (layanan menjawab berarti broker "
                       "dan basis datanya juga menjawab)."})


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.alt_response(200, schema=HealthSchema, success=True)
    def get(self):
        """Proses gateway hidup."""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.alt_response(200, schema=ReadySchema, success=True)
    @blp.alt_response(503, schema=ReadySchema)
    def get(self):
        """Siap melayani: broker, setiap layanan dan basis datanya menjawab."""
        rpc = current_app.extensions["rpc"]
        checks = {}
        for service in SERVICES:
            try:
                rpc.call(service, "ping", timeout=READY_TIMEOUT)
                checks[service] = "ok"
            except Unavailable as exc:  # the service answered that its database did not
                checks[service] = exc.payload["detail"]
            except (ServiceUnavailable, RemoteFailure) as exc:
                checks[service] = str(exc)
        ready = all(result == "ok" for result in checks.values())
        return {"status": "siap" if ready else "tidak_siap", "checks": checks}, 200 if ready else 503
