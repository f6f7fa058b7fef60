"""Fault suite: schemathesis runs against the running platform as `schemathesis run --checks all`
would, from the gateway's own /openapi.json with a national admin's token (and an admin of an
area where nothing is recorded as the peer who must read none of it): its examples, its
coverage of every keyword of the document (each rule broken one at a time, missing headers,
methods the document does not list), generated requests valid and invalid, and sequences of calls
linked by what one answers and the next takes. Every check schemathesis has must find nothing:
no 5xx; every answer one the document lists, with its content type, headers and body schema; a
request the document calls valid accepted, one it calls invalid refused; a required header
enforced; 405 with `Allow` for a method the document does not list; what was created readable,
what was deleted gone; the token enforced."""
import json
from datetime import date

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import AcceptedNegativeData, Failure
from schemathesis.engine import events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.formats import register_string_format, unregister_string_format

from services.common.schema import RULE_KEY

# Requests per operation in the fuzzing phase (the coverage phase sends what the document's
# keywords call for, however many), and sequences of calls in the stateful phase, each at most
# STATEFUL_STEPS long: about a minute in all on two busy cores.
EXAMPLES_PER_OPERATION = 10
STATEFUL_SEQUENCES = 40
STATEFUL_STEPS = 10
# What the API's contract answers to a request its document calls valid (docs/contracts.md):
# what was asked for, or an id that names nothing (404), a rule of the records as they stand
# (409: a unit exists, the quota is spent, the status does not allow it), an If-Match that
# names another version (412; a missing one is 428, but the document requires the header), a
# route the admin's role may not use (403), and the rate limits (429). Not 5xx, never 400:
# a 400 to valid data is accepted only for a rule the document states in words (RULE_KEY),
# see `refused_for_a_stated_rule`.
VALID_ANSWERS = ["2xx", "3xx", "403", "404", "409", "412", "429"]
# What the API answers a request its document calls invalid: 400 (or 413 for a body too large,
# 415 for a media type it does not take), unless something is checked before the body is read:
# the token and the role (401, 403), the record addressed (404, 409), If-Match (428), the rate
# limits (429). Never 2xx, never 5xx.
INVALID_ANSWERS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "428", "429"]
# A required header left out: 400 for one the request's body or answer needs, 428 for If-Match
# (RFC 6585: the precondition the API requires of every correction).
MISSING_HEADER_ANSWERS = ["400", "401", "403", "406", "415", "428"]
# What takes credentials (a password, a refresh token, a client's secret, a reset link's token)
# answers 401 to credentials that do not exist, however well formed: the document cannot know them.
CREDENTIAL_ROUTES = "^/api/v1/auth/"
# The RPC timeout is 5 s; an answer later than that is a failure even on two busy cores.
MAX_RESPONSE_SECONDS = 8
# object_level_authorization reads again, as a peer, what the run's identity read: an admin of an
# area the reference does not list, where nothing the run makes can be, must get none of it. A
# summary of the caller's area filtered by a unit elsewhere is that area's figures (none), which
# name the unit asked for: no record of the unit, but schemathesis sees its id in the answer.
PEER_AREA = "99"
NOT_RECORDS = ["/api/v1/rekap/kegiatan"]


@pytest.fixture
def dates_in_range():
    """Dates drawn where the document allows them (IsoDate.YEARS, beside `format: date`),
    rather than drawn from all years and filtered against its pattern, which is slow."""
    register_string_format("date", st.dates(date(1900, 1, 1), date(2199, 12, 31)).map(date.isoformat))
    yield
    unregister_string_format("date")


def refused_for_a_stated_rule(context, failure, case, response):
    """filter_failure: a refusal of a request the document calls valid is kept as a failure
    unless it is a 400 whose every field carries a rule the document states in words (RULE_KEY:
    another field's value, a record or an area that must exist, a valid phone number), or the
    422 of an Idempotency-Key a generated request used again with another body."""
    problem = response.json() if response.status_code in (400, 422) else {}
    if response.status_code == 422 and isinstance(failure, (RejectedPositiveData, AcceptedNegativeData)):
        # The generator sends the same few Idempotency-Keys with other bodies, valid or not.
        return problem.get("code") != "kunci_idempotensi_dipakai"
    if not isinstance(failure, RejectedPositiveData):
        return True
    errors = problem.get("errors") or {}
    return not errors or not all(_stated(case, path) for path in _paths(errors))


def _paths(errors, prefix=()):
    for name, value in errors.items():
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, name))
        else:
            yield (*prefix, name)


def _stated(case, path):
    """Whether the part of `case`'s request named by an error's path has a rule in words."""
    operation, (name, *rest) = case.operation, path
    for parameter in operation.iter_parameters():
        given = parameter.name.lower()
        if name.lower() in (given, given.removeprefix("x-")):
            return RULE_KEY in parameter.definition.get("schema", {}) and not rest
    content = operation.definition.raw.get("requestBody", {}).get("content", {}).get(case.media_type)
    return content is not None and _rule_at(operation.schema.raw_schema, content["schema"], path)


def _rule_at(document, schema, path):
    schema = _resolved(document, schema)
    if not path or path == ("_schema",) or schema.get("type", "object") != "object":  # a body that is no object
        return RULE_KEY in schema or any(RULE_KEY in _resolved(document, branch) for branch in schema.get("oneOf", []))
    name, *rest = path
    if name.isdigit() and "items" in schema:
        return _rule_at(document, schema["items"], tuple(rest))
    return name in schema.get("properties", {}) and _rule_at(document, schema["properties"][name], tuple(rest))


def _resolved(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.fixture
def no_webhooks_left(api):
    """The webhooks the run registered (valid ones, national: they would hear every event) are
    removed after it, so later tests' deliveries are theirs alone."""
    before = {webhook["id"] for webhook in api.get("/notifikasi/webhook").json()}
    yield
    for webhook in api.get("/notifikasi/webhook").json():
        if webhook["id"] not in before:
            api.delete(f"/notifikasi/webhook/{webhook['id']}")
    assert {webhook["id"] for webhook in api.get("/notifikasi/webhook").json()} <= before


@pytest.fixture
def identities(token, tmp_path):
    """The run's identity (a national admin) and its peer, as a Web Fuzzing Commons document."""
    users = {"nasional": token("admin", None), "luar": token("admin", PEER_AREA, sub="admin-luar")}
    document = tmp_path / "wfc.json"
    document.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {value}"}]}
        for name, value in users.items()]}))
    return {"wfc": {"path": str(document), "user": "nasional", "peers": list(users)}}


def test_every_check_of_schemathesis_finds_nothing(api, identities, national_unit, dates_in_range, no_webhooks_left):
    config = schemathesis.Config.from_dict({
        "auth": identities,
        "cache": {"enabled": False},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS, "generation": {"max-examples": STATEFUL_SEQUENCES}}},
        "checks": {
            "enabled": True,  # every check, as --checks all
            "max_response_time": MAX_RESPONSE_SECONDS,
            "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
            "positive_data_acceptance": {"expected-statuses": VALID_ANSWERS},
            "negative_data_rejection": {"expected-statuses": INVALID_ANSWERS},
            "missing_required_header": {"expected-statuses": MISSING_HEADER_ANSWERS},
        },
        "operations": [
            {"include-path-regex": CREDENTIAL_ROUTES, "checks": {
                "positive_data_acceptance": {"expected-statuses": [*VALID_ANSWERS, "401"]}}},
            {"include-path": NOT_RECORDS, "checks": {"object_level_authorization": {"enabled": False}}},
        ],
    })
    schema = schemathesis.openapi.from_url(f"{api.base}/openapi.json", config=config)
    load_all_checks()
    checks = schema.config.checks_config_for()
    assert [name for name in CHECKS.get_all_names() if not checks.get_by_name(name=name).enabled] == []
    schema.hook("filter_failure")(refused_for_a_stated_rule)
    failures, errors, tested = {}, [], set()
    for event in from_schema(schema).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            tested.add(event.recorder.label)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        interaction = event.recorder.interactions.get(case_id)
                        answer = interaction.response.content[:500] if interaction and interaction.response else b""
                        failures.setdefault(_describe(check.failure_info.failure, event.recorder.label),
                                            f"{check.failure_info.code_sample}\n{answer!r}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(str(getattr(event, "value", None) or event.exception))
        elif isinstance(event, events.EngineFinished):
            failures.update({_describe(failure, "after run"): "" for failure in event.failures})
    assert not errors, errors
    assert not failures, "\n\n".join(f"{title}\n{sample}" for title, sample in failures.items())
    assert len(tested) >= 90, sorted(tested)


def _describe(failure: Failure, label):
    return f"{failure.operation or label}: {failure.title}\n{failure.message}"
