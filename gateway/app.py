"""The HTTP gateway: translates HTTP to RPC, nothing more. One blueprint per service; the
OpenAPI document is generated from the services' marshmallow schemas."""
import logging
import re
import time

import swagger_ui_bundle
from flask import Flask, g, request, send_from_directory
from flask_cors import CORS
from flask_smorest import Api

from gateway import (akses, akun, altcha, bantuan, corrections, events, health, jwks, kegiatan, notifikasi,
                     organisasi, problems, publik, wilayah)
from gateway import jobs, lampiran
from gateway.blueprint import init_limiter
from gateway.metrics import count_request
from gateway.proxies import TrustedProxies
from gateway.rpc import RpcClient
from services.common.cache import ChangeListener, ReadCache
from services.common.config import settings
from services.common.identity import Identities
from services.common.listener import revocation_listener
from services.common.logs import CORRELATION_HEADER, bind_correlation_id
from services.common.metrics import GATEWAY_CACHE

log = logging.getLogger(__name__)

QUIET_PATHS = ("/health", "/ready")
# Parts of a path that are credentials (an opt-out link's token): the log shows the route instead.
SECRET_PATH_PARTS = ("token",)
# Services whose reads the gateway may answer from memory: every answer of theirs changes only
# with a change they publish an event for (organisasi: units, boards and members).
READ_CACHED_SERVICES = ("organisasi",)
# What a front-end on another origin may read of an answer beyond the CORS-safelisted headers.
CORS_EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Content-Disposition", CORRELATION_HEADER)
# How long a browser may reuse a preflight's answer.
CORS_PREFLIGHT_SECONDS = 600


def logged_path():
    if any(part in (request.view_args or {}) for part in SECRET_PATH_PARTS):
        return request.url_rule.rule
    return request.path


def allow_origins(app, origins):
    """Let browsers on `origins` (CORS_ORIGINS) call the API with credentials; preflights are
    answered here, before any token is asked for. An origin not listed gets no CORS headers."""
    if not origins:
        return
    # Exact patterns: flask-cors would read an origin with brackets (an IPv6 host) as a regex.
    CORS(app, origins=[re.compile(re.escape(origin) + r"\Z", re.IGNORECASE) for origin in origins],
         supports_credentials=True, expose_headers=list(CORS_EXPOSED_HEADERS), max_age=CORS_PREFLIGHT_SECONDS)

    @app.before_request
    def answer_preflight():
        """A preflight carries no token: answered before a blueprint asks for one (an app's
        before_request runs first); flask-cors adds its headers to the answer."""
        if (request.method == "OPTIONS" and request.url_rule is not None
                and "Access-Control-Request-Method" in request.headers):
            return app.make_default_options_response()

    @app.after_request
    def vary_by_origin(response):
        """Every answer depends on the origin (flask-cors says so only to listed ones): a shared
        cache must not hand an answer without CORS headers to a listed front-end."""
        response.vary.add("Origin")
        return response


def create_app(config=None):
    config = config or settings()
    app = Flask("bkpm-gateway")
    app.config.update(
        API_TITLE="BKPM API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        API_SPEC_OPTIONS={
            "info": {"description": "API Balai Kemitraan Polri dan Masyarakat. Semua pesan "
                                    "kesalahan berformat RFC 9457 (application/problem+json)."},
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}],
        },
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["identities"] = Identities(config.verification_keys(), provider=config.identity_provider())
    app.extensions["revocation_listener"] = revocation_listener(config.amqp_uri, app.extensions["identities"])
    app.extensions["rpc"] = RpcClient(config.amqp_uri, config.rpc_timeout)
    app.extensions["read_cache"] = ReadCache(READ_CACHED_SERVICES, config.gateway_cache_seconds,
                                               GATEWAY_CACHE)
    # Started by gunicorn in each worker (gateway/gunicorn_conf.py); until it hears the events,
    # the cache is not used.
    app.extensions["change_listener"] = ChangeListener(config.amqp_uri, app.extensions["read_cache"])
    app.extensions["altcha"] = altcha.ProofOfWork(altcha.hmac_key(config))

    api = Api(app)
    api.ERROR_SCHEMA = problems.ProblemSchema
    for blueprint in (organisasi.blp, kegiatan.kegiatan_blp, kegiatan.aspirasi_blp, kegiatan.rekap_blp,
                      bantuan.blp, notifikasi.blp, events.blp, akses.blp, health.blp, jwks.blp, akun.akun_blp,
                      akun.auth_blp, akun.klien_blp, altcha.blp, wilayah.blp,
                      publik.blp, lampiran.blp, jobs.blp):
        api.register_blueprint(blueprint)
    init_limiter(app, config)
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.trusted_proxies)
    problems.register(app)
    corrections.register(app)

    @app.get("/docs/static/<path:filename>")
    def swagger_ui_static(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    @app.before_request
    def take_correlation_id():
        g.started = time.perf_counter()
        g.correlation_id = bind_correlation_id(request.headers.get(CORRELATION_HEADER, ""))

    @app.after_request
    def log_request(response):
        response.headers[CORRELATION_HEADER] = g.get("correlation_id", "")
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        if request.path not in QUIET_PATHS:
            log.info("%s %s %s", request.method, logged_path(), response.status_code, extra={
                "status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
            count_request(request.method, request.url_rule, response.status_code, seconds)
        return response

    allow_origins(app, config.cors_origins)  # after take_correlation_id: a preflight is logged with its id
    return app
