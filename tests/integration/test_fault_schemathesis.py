"""Fault suite: schemathesis generates requests from the gateway's own /openapi.json (valid and
invalid input, with a national admin's token) against the running platform. No answer may be a
5xx, and every answer must be one the document lists, with the content type and the body
schema it gives for it."""
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_5xx_and_every_answer_as_documented(api, token, national_unit):
    schema = schemathesis.openapi.from_url(f"{api.base}/openapi.json")
    headers = {"Authorization": f"Bearer {token('admin', None)}"}
    calls, failures = [], {}
    for operation in (result.ok() for result in schema.get_all_operations()):
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):
            calls.append(case.operation.label)
            try:
                case.call_and_validate(base_url=api.base, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as failure:  # collected, not shrunk: all failures at once
                failures.setdefault(case.operation.label, str(failure).splitlines()[:30])
        call()
    assert not failures, "\n\n".join(f"{label}:\n" + "\n".join(lines) for label, lines in failures.items())
    assert len(calls) >= 1000, len(calls)
