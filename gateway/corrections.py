"""Versions over HTTP (RFC 9110 §8.8.3, §13): every JSON answer carries the ETag of what it
shows, a GET sent with a matching If-None-Match gets 304, and a correction (PATCH, a JSON merge
patch: RFC 7396) must say with If-Match which version it corrects. The service compares it
with the record as it is when it writes (services/common/patch.py), so the gateway only asks
for it: 428 without one."""
from flask import request
from werkzeug.exceptions import PreconditionRequired

from services.common.patch import ANY_VERSION, etag_of

MERGE_PATCH = "application/merge-patch+json"
IF_MATCH_PARAMETER = {
    "in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
    "description": "ETag dari jawaban GET (atau perubahan) terakhir yang Anda baca; tanpa header ini 428, "
                   "jika data sudah diubah orang lain 412.",
}
# Methods whose successful answer is the representation of what was asked for or changed.
TAGGED_METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT")


def correction(blueprint, schema):
    """Decorate a PATCH view: its body is a merge patch checked by `schema` (sent as
    application/merge-patch+json or plain application/json) and If-Match is documented."""
    def decorator(view):
        view = blueprint.doc(parameters=[IF_MATCH_PARAMETER])(view)
        return blueprint.arguments(schema, content_type=MERGE_PATCH, description=(
            "JSON merge patch (RFC 7396): hanya field yang diubah; null menghapus field yang boleh kosong. "
            f"Dikirim sebagai {MERGE_PATCH} atau application/json."))(view)
    return decorator


def if_match():
    """The entity tags the request's If-Match names, for the service to compare (['*'] for any
    version; only strong tags count, RFC 9110 §13.1.1); 428 without the header."""
    tags = request.if_match
    if tags.star_tag:
        return [ANY_VERSION]
    if "If-Match" not in request.headers:
        raise PreconditionRequired()
    # An empty tag ("") is read as None, and matches nothing.
    return sorted(tag for tag in tags.as_set() if tag is not None)


def tag_answer(response):
    """Give a successful JSON answer its ETag, and answer 304 to a GET that already has it. An
    answer that carries an ETag of its own is left as it is."""
    if (request.method in TAGGED_METHODS and response.status_code in (200, 201) and response.is_json
            and not response.is_streamed and "ETag" not in response.headers):
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            response.set_etag(etag_of(body))
            if request.method in ("GET", "HEAD"):
                response.make_conditional(request)
    return response


def register(app):
    app.after_request(tag_answer)
