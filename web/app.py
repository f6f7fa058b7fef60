"""The web front-end: the citizens' portal, server-rendered (Flask and Jinja2, htmx where a part
of a page changes), a backend-for-frontend that reaches the platform only through the gateway's
public HTTP API (web/gateway.py).

What every answer carries: a strict Content-Security-Policy (nothing inline, nothing from another
host), the other security headers, a CSRF token on every form (Flask-WTF), session cookies that
are HttpOnly, SameSite=Lax and, unless WEB_COOKIE_SECURE=false, Secure. The log says the method,
the route and the status of each request: never a visitor's address, a path's ticket number or
survey code, nor anything a form carried."""
import logging
import mimetypes
import os
import time

from flask import Flask, g, request, send_from_directory
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import safe_join

from gateway.proxies import TrustedProxies
from services.common.config import settings
from services.common.keys import kept_secret
from services.common.logs import CORRELATION_HEADER, bind_correlation_id
from web import display, konsol, pages
from web.build import COMPRESSIBLE, DIST, GZIP, WEB, Assets
from web.gateway import Gateway
from web.session import open_sessions
from web.wilayah import AreaReference

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'",
    "connect-src 'self'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'"))
# Nothing the pages need: a page that asked for one of these would be someone else's script.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
IMMUTABLE = "public, max-age=31536000, immutable"
QUIET_PATHS = ("/health",)
# A form may stay open a long while (an aspiration written with care): its token lasts a working day.
CSRF_SECONDS = 8 * 3600


def is_file(directory, name):
    """Whether `name`, a path from a URL, is a file inside `directory` (never outside it)."""
    path = safe_join(str(directory), name)
    return path is not None and os.path.isfile(path)


def use_templates(app, assets):
    """The pages' templates as every app that renders them sees them (bench/flask_bare.py too)."""
    app.jinja_env.globals.update(asset=assets.file, icon=assets.icon, display=display)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True


def session_key(config):
    """WEB_SECRET_KEY, or else the key kept in BKPM_DATA_DIR (services/common/keys.py): the same
    for every worker and replica of a deployment, or one's cookies are void at another."""
    return kept_secret(config.web_secret_key, config.web_key_file, "WEB_SECRET_KEY")


def create_app(config=None):
    config = config or settings()
    app = Flask("bkpm-web", static_folder=None, root_path=str(WEB))
    cookie = "__Host-bkpm" if config.web_cookie_secure else "bkpm"  # __Host-: only ever sent over HTTPS
    app.config.update(
        SECRET_KEY=session_key(config),
        SESSION_COOKIE_NAME=cookie,
        SESSION_COOKIE_SECURE=config.web_cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=CSRF_SECONDS,
        # The token and SameSite carry the check; Flask-WTF's Referer check would refuse a
        # browser that sends none.
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    CSRFProtect(app)
    assets = Assets()
    gateway = Gateway(config.web_gateway_url)
    app.extensions["gateway"] = gateway
    app.extensions["wilayah"] = AreaReference(gateway)
    use_templates(app, assets)
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.web_trusted_proxies)

    app.register_blueprint(pages.blp)
    konsol.register(app, open_sessions(config, app.config["SECRET_KEY"]))
    pages.register_errors(app)

    @app.get("/static/<path:filename>")
    def static_file(filename):
        # The gzip copy the build wrote beside a text asset (web/build.py), to a browser that takes it.
        compressible = filename.endswith(COMPRESSIBLE)
        gzipped = compressible and request.accept_encodings["gzip"] > 0 and is_file(DIST, filename + GZIP)
        response = send_from_directory(DIST, filename + GZIP if gzipped else filename, max_age=31536000,
                                       mimetype=mimetypes.guess_type(filename)[0])
        response.headers["Cache-Control"] = IMMUTABLE
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        if compressible:
            response.vary.add("Accept-Encoding")
        return response

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.before_request
    def begin():
        g.started = time.perf_counter()
        g.correlation_id = bind_correlation_id(request.headers.get(CORRELATION_HEADER, ""))

    @app.after_request
    def secure(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Referrer-Policy", "same-origin")  # the reset link's page says no-referrer
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers[CORRELATION_HEADER] = g.get("correlation_id", "")
        if config.web_cookie_secure:
            headers["Strict-Transport-Security"] = HSTS
        if "Cache-Control" not in headers:
            # Pages carry a form's token or what a visitor typed: never kept by a cache.
            headers["Cache-Control"] = "no-store"
        if request.path not in QUIET_PATHS:
            seconds = time.perf_counter() - g.get("started", time.perf_counter())
            route = request.url_rule.rule if request.url_rule else "(tidak ada)"
            log.info("%s %s %s", request.method, route, response.status_code,
                     extra={"status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
        return response

    return app
