"""What every blueprint of the gateway shares: argument parsing that answers 400 in Bahasa
Indonesia, and the call to a service on behalf of the current request."""
import ipaddress

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser, abort

from gateway.auth import current_actor, current_token
from gateway.problems import ProblemSchema

# Methods that change nothing (Flask answers HEAD with the GET view).
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def client_network():
    """Who a rate limit counts: the client's address (behind trusted proxies, the one they
    report: gateway/proxies.py), an IPv6 client by its /64 (which one subscriber usually holds
    whole, so rotating addresses in it gains nothing)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else address


# While the shared storage cannot be reached, each worker counts in its own memory (and logs so)
# rather than failing the routes it limits; it goes back to the storage once that answers.
limiter = Limiter(client_network, in_memory_fallback_enabled=True)


def init_limiter(app, config):
    """Rate limits for `app`, counted where RATE_LIMIT_STORAGE_URI says: shared by every gateway
    process (valkey://, redis://, mongodb://), or per worker (memory://)."""
    app.config.update(RATELIMIT_STORAGE_URI=config.rate_limit_storage_uri,
                      # One exception type (limits' StorageError) whatever the storage.
                      RATELIMIT_STORAGE_OPTIONS={"wrap_exceptions": True})
    limiter.init_app(app)


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    # webargs ignores unknown query parameters by default; the schemas refuse them, so a typo
    # in a filter is an error instead of an unfiltered list.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def _raw_load_json(self, req):
        if req.get_data(cache=True) and not req.is_json:
            abort(415)
        return super()._raw_load_json(req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, exc=error, messages={"json": ["Isi permintaan bukan JSON yang valid."]})


class Blueprint(SmorestBlueprint):
    """Routes that need a valid token before anything else, unless made with `public=True`."""
    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, public=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not public:
            self.before_request(_authenticate)

    def public(self, view):
        """A route anyone may call, without a token (so it never answers 401)."""
        view = self.doc(security=[])(view)
        view._apidoc.get("response", {}).get("responses", {}).pop(401, None)
        view.public = True
        return view

    def documents(self, status, schema, *errors):
        """Document the success response (the service already shaped it with `schema`) and the
        problem responses a route can give; 401 and 503 can come from any route."""
        def decorator(view):
            for code in sorted({401, 503, *errors}):
                view = self.alt_response(code, schema=ProblemSchema, content_type="application/problem+json")(view)
            return self.alt_response(status, schema=schema, success=True)(view)
        return decorator


def _authenticate():
    view = current_app.view_functions.get(request.endpoint)
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    if not getattr(handler, "public", False):
        current_actor()  # raises Unauthorized (401) before the body is even read


def call(service, method, *args, timeout=None):
    """Call `service.method(token, *args)` for the current request's caller: the service checks
    the token itself."""
    return call_anonymous(service, method, current_token(), *args, timeout=timeout)


def read(service, method, *args):
    """Call the read-only `service.method(token, *args)`, answered from the worker's memory while
    nothing has changed in the service since (services/common/cache.py); kept per caller."""
    actor, token = current_actor(), current_token()
    return current_app.extensions["read_cache"].read(
        service, method, [actor, *args], lambda: call_anonymous(service, method, token, *args))


def call_anonymous(service, method, *args, timeout=None):
    """Call `service.method(*args)` for a public route."""
    try:
        return current_app.extensions["rpc"].call(service, method, *args, correlation_id=g.get("correlation_id"),
                                                  timeout=timeout)
    finally:
        if request.method not in SAFE_METHODS:  # this worker's callers read their own writes at once
            current_app.extensions["read_cache"].forget(service)
