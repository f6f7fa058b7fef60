"""What every blueprint of the gateway shares: argument parsing that answers 400 in Bahasa
Indonesia, the call to a service on behalf of the current request, `Location` on every 201, and
the `Idempotency-Key` of every POST (services/common/idempotency.py)."""
import hashlib
import ipaddress
import json
from http import HTTPStatus
from urllib.parse import quote

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser, abort
from werkzeug.routing import UUIDConverter

from gateway.auth import current_actor, current_token
from gateway.exports import exportable
from gateway.problems import ProblemSchema
from services.common.idempotency import HEADER as IDEMPOTENCY_HEADER
from services.common.idempotency import KEY_PATTERN, canonical, fingerprint, key_problem, scoped_key
from services.common.schema import ChangesSchema

# Methods that change nothing (Flask answers HEAD with the GET view).
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# POSTs whose answers hold a credential (tokens, a client's secret, a one-time-code secret) or whose
# bodies do (a password): a kept answer, or a fingerprint as fast to test guesses against as a
# SHA-256, must not be at rest, so these routes accept an Idempotency-Key and ignore it.
CREDENTIAL_ROUTES = ("/api/v1/auth/", "/api/v1/klien", "/api/v1/akun")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
LOCATION_DOC = {"Location": {"description": "Alamat untuk membaca apa yang baru dibuat.", "schema": {"type": "string"}}}
IDEMPOTENCY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    "description": "Kunci unik dari klien (misalnya UUID) agar permintaan ini dijalankan sekali saja: kunci yang sama "
                   "dengan permintaan yang sama dalam 24 jam mendapat jawaban pertama tanpa mengubah apa pun lagi; "
                   "kunci yang sama dengan isi lain mendapat 422; selama permintaan pertama masih diproses, 409 dengan "
                   "Retry-After. Kunci berlaku per pemanggil. Rute yang menerbitkan atau menerima kredensial "
                   "(/api/v1/auth/*, /api/v1/akun*, /api/v1/klien*) menerima header ini tetapi mengabaikannya.",
}
IGNORED_IDEMPOTENCY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_HEADER, "required": False, "schema": {"type": "string"},
    "description": "Diterima tetapi diabaikan: permintaan atau jawaban rute ini memuat kredensial (kata sandi, token "
                   "atau rahasia), yang tidak pernah disimpan untuk diulang.",
}


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


class IdConverter(UUIDConverter):
    """`<id:name>`: a record's id in a path (services.common.mongo.new_id: a UUID), kept as
    text. Where a route's last part is a word of its own beside an id (/akun/saya beside
    /akun/<id>), the word is then no id, so the methods a 405 lists in `Allow` are the word's
    route's alone. Documented as `format: uuid` (flask-smorest maps the UUID converter)."""

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


class SchemaKeywords(BasePlugin):
    """What a schema says beyond its fields, added to its component in the API document:
    `minProperties: 1` for every correction (a ChangesSchema: a PATCH changes something), and
    the keywords a schema class states in its own `JSON_SCHEMA` (rules across its fields:
    `oneOf`, `not`, `x-aturan`). Its own only: a response schema built on a creation schema
    does not take the creation's rules."""

    def schema_helper(self, name, definition, **kwargs):
        if kwargs.get("schema") is None:
            return None
        schema = resolve_schema_cls(kwargs["schema"])
        keywords = dict(vars(schema).get("JSON_SCHEMA", {}))
        if issubclass(schema, ChangesSchema):
            keywords["minProperties"] = 1
        return keywords


class Blueprint(SmorestBlueprint):
    """Routes that need a valid token before anything else, unless made with `public=True`."""
    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, public=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))
        if not public:
            self.before_request(_authenticate)
        self.before_request(_read_idempotency_key)
        self._prepare_doc_cbks.append(self._prepare_idempotency_doc)

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        if not any(isinstance(plugin, SchemaKeywords) for plugin in spec.plugins):
            # The document's schemas are made as the first blueprint's views are documented.
            plugin = SchemaKeywords()
            plugin.init_spec(spec)
            spec.plugins.append(plugin)
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)

    def add_url_rule(self, rule, *args, **kwargs):
        super().add_url_rule(rule, *args, **kwargs)
        post = self._docs[self._endpoints[-1]].get("post")
        if post is not None:  # for its documentation: which Idempotency-Key it reads
            post["keeps_answers"] = keeps_answers(f"{self.url_prefix or ''}{rule}")

    @staticmethod
    def _prepare_idempotency_doc(doc, doc_info, *, method, **kwargs):
        """Every POST documents its Idempotency-Key and, where it is read, the answers it can give."""
        if method != "post":
            return doc
        keeps = doc_info.get("keeps_answers", True)
        # Parameters a route documents itself (`doc(parameters=...)`) replace the generated ones.
        parameters = doc_info.get("manual_doc", {}).get("parameters")
        if parameters is None:
            parameters = doc.setdefault("parameters", [])
        parameters.append(dict(IDEMPOTENCY_PARAMETER if keeps else IGNORED_IDEMPOTENCY_PARAMETER))
        if keeps:
            for status in (400, 409, 422):
                doc.setdefault("responses", {}).setdefault(status, {
                    "description": HTTPStatus(status).phrase,
                    "content": {"application/problem+json": {"schema": ProblemSchema}}})
        return doc

    def public(self, view):
        """A route anyone may call, without a token (so it never answers 401)."""
        view = self.doc(security=[])(view)
        view._apidoc.get("response", {}).get("responses", {}).pop(401, None)
        view.public = True
        return view

    def documents(self, status, schema, *errors):
        """Document the success response (the service already shaped it with `schema`) and the
        problem responses a route can give; 401 and 503 can come from any route. A list or a
        summary answers CSV and XLSX too (gateway/exports.py)."""
        def decorator(view):
            view = exportable(self, view, schema)
            for code in sorted({401, 503, *errors}):
                view = self.alt_response(code, schema=ProblemSchema, content_type="application/problem+json")(view)
            return self.alt_response(status, schema=schema, success=True,
                                     headers=LOCATION_DOC if status == 201 else None)(view)
        return decorator


def created(answer, location):
    """A 201 answer with its `Location` (RFC 9110 §10.2.2): `location` is the path where what was
    created can be read, its `{names}` filled from the answer's fields or the route's path."""
    values = {name: quote(str(value), safe="") for name, value in {**request.view_args, **answer}.items()
              if isinstance(value, (str, int))}
    return answer, 201, {"Location": location.format_map(values)}


def keeps_answers(path):
    """Whether a POST to `path` (a route's rule) reads an Idempotency-Key: all but CREDENTIAL_ROUTES."""
    return not path.startswith(CREDENTIAL_ROUTES)


def _read_idempotency_key():
    """A POST's Idempotency-Key, checked before its body is read (400 for one that cannot be a
    key) and kept for the call that does the request's work. A body that is neither JSON nor a
    form is digested as the route reads it, for its fingerprint: an import streamed in parts is
    never held whole for it."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None or request.method != "POST" or not keeps_answers(request.url_rule.rule):
        return
    problem = key_problem(key)
    if problem:
        abort(400, messages={"headers": {IDEMPOTENCY_HEADER: [problem]}})
    g.idempotency_key = key
    if not request.is_json and request.mimetype not in FORM_TYPES:
        request.environ["wsgi.input"] = g.idempotency_body = _Digesting(request.environ["wsgi.input"])


class _Digesting:
    """A request's input stream, digesting what is read of it (SHA-256)."""

    def __init__(self, stream):
        self._stream = stream
        self.sha256 = hashlib.sha256()

    def read(self, *args):
        return self._seen(self._stream.read(*args))

    def readline(self, *args):
        return self._seen(self._stream.readline(*args))

    def __iter__(self):
        return iter(self.readline, b"")

    def _seen(self, data):
        self.sha256.update(data)
        return data


def _authenticate():
    view = current_app.view_functions.get(request.endpoint)
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    if not getattr(handler, "public", False):
        current_actor()  # raises Unauthorized (401) before the body is even read


def call(service, method, *args, timeout=None, keyed=True):
    """Call `service.method(token, *args)` for the current request's caller: the service checks
    the token itself."""
    return call_anonymous(service, method, current_token(), *args, timeout=timeout, keyed=keyed)


def read(service, method, *args):
    """Call the read-only `service.method(token, *args)`, answered from the worker's memory while
    nothing has changed in the service since (services/common/cache.py); kept per caller."""
    actor, token = current_actor(), current_token()
    return current_app.extensions["read_cache"].read(
        service, method, [actor, *args], lambda: call_anonymous(service, method, token, *args))


def call_anonymous(service, method, *args, timeout=None, keyed=True):
    """Call `service.method(*args)` for a public route. The request's Idempotency-Key goes with
    its first call; a route whose work is done by a later call passes `keyed=False` to those
    before it (a route that streams its body: to those before it has read it all)."""
    try:
        return current_app.extensions["rpc"].call(service, method, *args, correlation_id=g.get("correlation_id"),
                                                  timeout=timeout, idempotency=_idempotency() if keyed else None)
    finally:
        if request.method not in SAFE_METHODS:  # this worker's callers read their own writes at once
            current_app.extensions["read_cache"].forget(service)


def _idempotency():
    """The request's Idempotency-Key as the service keeps it (scoped to the caller) and the
    request's fingerprint; for the request's first call only."""
    key = g.pop("idempotency_key", None)
    if key is None:
        return None
    subject = g.actor["sub"] if "actor" in g else None
    return scoped_key(subject, key), fingerprint(request.method, request.path, list(request.args.items(multi=True)),
                                                 subject, _canonical_body())


def _canonical_body():
    """The body as what it says rather than how it was written: JSON by its value (member order
    and spacing aside); a form by its fields and each file's name, type and SHA-256 (a multipart
    boundary differs on every send); anything else by the SHA-256 of what the route read."""
    if request.mimetype in FORM_TYPES:
        files = sorted([name, upload.filename or "", upload.mimetype, _sha256(upload.stream)]
                       for name, upload in request.files.items(multi=True))
        return canonical({"form": sorted(request.form.items(multi=True)), "files": files})
    if request.is_json:
        try:
            return canonical(json.loads(request.get_data(cache=True)))
        except ValueError:
            return request.get_data(cache=True)
    return g.idempotency_body.sha256.digest()


def _sha256(stream):
    """The SHA-256 of an uploaded file, read from its start, left where it was."""
    position = stream.tell()
    stream.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 16), b""):
        digest.update(chunk)
    stream.seek(position)
    return digest.hexdigest()
