"""Promise 3: API fuzzing with schemathesis against our own OpenAPI schema (/api/schema/?format=json).

Fast part: 10 cases per GET operation, anonymous. Slow part: 100 cases per operation, writes
included, as a board member (token). Checks: no 5xx, status codes, content types and bodies
conform to the schema. Requests go through the WSGI application in-process (no network)."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from infra.accounts.models import Role
from tests.factories import user_with_role
from tests.reliability.conftest import FIGURES

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(register, english):
    from django.core.wsgi import get_wsgi_application

    # The WSGI handler would close the test's connection (and its transaction) after each request,
    # as Django's own test client prevents: keep it open for the duration.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)


def _fuzz(schema, *, methods, examples, headers) -> dict[str, str]:
    """Run every operation's strategy for `examples` cases; return the failures by operation."""
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in methods:
            continue

        @settings(FUZZ, max_examples=examples)
        @given(case=operation.as_strategy())
        def run(case):
            FIGURES["fuzz cases run"] += 1
            case.call_and_validate(checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below, per operation
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:3000]
        FIGURES["fuzz operations"] += 1
    return failures


@pytest.mark.django_db
def test_get_operations_fast(api_schema):
    failures = _fuzz(api_schema, methods={"GET"}, examples=10, headers={"Accept-Language": "en"})
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())


@pytest.fixture
def board_token(register):
    board = user_with_role(Role.BOARD, username="fuzz-board")
    return Token.objects.create(user=board).key


@pytest.mark.slow
@pytest.mark.django_db
def test_every_operation_as_the_board_slow(api_schema, board_token):
    failures = _fuzz(api_schema, methods={"GET", "POST", "PATCH", "PUT", "DELETE"}, examples=100,
                     headers={"Accept-Language": "en", "Authorization": f"Token {board_token}"})
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
