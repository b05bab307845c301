"""Schemathesis against a real `helixmap serve` on the sample data: every operation of the OpenAPI document,
a fixed number of generated requests each (valid and invalid ones, a fixed seed), and no server error, no
status code the document does not declare, no answer that does not match its declared schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 8
"""Generated requests per operation and mode: bounded, so the run takes a minute or two on the sample store."""

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

CONFIG = """
[checks.not_a_server_error]
# 501 is the deliberate, declared answer of the Cypher endpoint on the SQLite store ("this store does not speak
# Cypher"), not a failure of the server; every other 5xx fails the check.
expected-statuses = ["2xx", "3xx", "4xx", "501"]
"""


def _run_operation(operation: Any, base_url: str, mode: Any) -> list[str]:
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        try:
            case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=120)
        except (AssertionError, FailureGroup) as exc:
            failures.append(f"{operation.label} [{mode.value}] {case.method} {case.formatted_path} "
                            f"query={case.query}: {str(exc)[:600]}")

    try:
        check()
    except Unsatisfiable:  # no invalid request exists for an operation without parameters
        assert mode is GenerationMode.NEGATIVE, operation.label
    return failures


def test_the_api_keeps_the_promises_of_its_openapi_document(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json", timeout=60,
                                           config=SchemathesisConfig.from_str(CONFIG))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _run_operation(operation, server, mode)
    assert operations >= 10
    assert not failures, "\n\n".join(failures[:20])

