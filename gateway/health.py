"""Liveness and readiness, for `make run`, container healthchecks and Kubernetes probes.

/ready asks every service at once and answers within READY_TIMEOUT whatever they do; it says
only which service is not ready, never what failed inside it (a remote error's text may name
hosts, users or data), and one client address may ask it at most READY_RATE_LIMIT."""
import logging
from concurrent.futures import ThreadPoolExecutor, wait

from flask import current_app, g
from flask.views import MethodView
from marshmallow import fields

from gateway.blueprint import Blueprint, limiter
from gateway.problems import ProblemSchema
from gateway.rpc import ServiceUnavailable
from services.common.config import SERVICES
from services.common.schema import BaseSchema

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds, for all the services together
# Enough for probes and for `make run` polling every 0.2 s (a 429 only makes it poll again);
# too few for a loop of /ready to make every service answer pings without end.
READY_RATE_LIMIT = "5 per second"
# What a check says of a service: it answered; it answered that something it needs (its
# database) did not; or it did not answer in time (stopped, hung, or the broker unreachable).
READY, NOT_READY, NO_ANSWER = "ok", "tidak_siap", "tidak_menjawab"

# Threads that ask the services, shared by the worker's requests so that each keeps its broker
# connection (gateway/rpc.py keeps one per thread); two per service, so that pings still stuck
# on a hung service until their deadline leave room for the next check.
_pingers = ThreadPoolExecutor(max_workers=2 * len(SERVICES), thread_name_prefix="ready")

blp = Blueprint("health", __name__, public=True,
                description="Kesehatan gateway dan layanan di belakangnya.")


class HealthSchema(BaseSchema):
    status = fields.String(required=True)


class ReadySchema(HealthSchema):
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": f"Per layanan: '{READY}', '{NOT_READY}' (menjawab, tetapi belum dapat melayani, misalnya "
                       "basis datanya tidak menjawab) "
                       f"atau '{NO_ANSWER}' (tidak menjawab dalam {READY_TIMEOUT:g} detik)."})


def ping(rpc, service, correlation_id):
    """What `service` says to a ping, in one word of READY, NOT_READY and NO_ANSWER."""
    try:
        rpc.call(service, "ping", timeout=READY_TIMEOUT, correlation_id=correlation_id)
        return READY
    except ServiceUnavailable as exc:
        log.debug("%s is not ready: %s", service, exc.reason)
        return NO_ANSWER
    except Exception as exc:  # its domain error or remote failure: the detail stays in this log
        log.debug("%s is not ready: %r", service, exc)
        return NOT_READY


def readiness(rpc, correlation_id):
    """Each service's answer to a ping, all asked at once; NO_ANSWER for those that did not
    answer within READY_TIMEOUT, whose pings expire on the broker by then."""
    asked = {service: _pingers.submit(ping, rpc, service, correlation_id) for service in SERVICES}
    wait(asked.values(), timeout=READY_TIMEOUT)
    checks = {}
    for service, answer in asked.items():
        answered = answer.done()
        answer.cancel()  # still queued behind stuck pings: never sent
        checks[service] = answer.result() if answered else NO_ANSWER
    return checks


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
    @limiter.limit(READY_RATE_LIMIT)
    @blp.alt_response(200, schema=ReadySchema, success=True)
    @blp.alt_response(503, schema=ReadySchema)
    @blp.alt_response(429, schema=ProblemSchema, content_type="application/problem+json")
    def get(self):
        """Siap melayani: broker, setiap layanan dan basis datanya menjawab."""
        checks = readiness(current_app.extensions["rpc"], g.get("correlation_id"))
        ready = all(result == READY for result in checks.values())
        return {"status": "siap" if ready else "tidak_siap", "checks": checks}, 200 if ready else 503
