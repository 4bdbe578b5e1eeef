"""Schemathesis over the OpenAPI document of a real service process finds no 5xx."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.live import RunningService, statement

EXAMPLES_PER_OPERATION = 12


@pytest.mark.slow
def test_no_operation_answers_a_server_error(live_service: RunningService) -> None:
    """Generated requests (valid and not) to every operation never get a 5xx, with or
    without a token; bounded to a few examples per operation."""
    headers = {"Authorization": f"Bearer {live_service.admin_token}"}
    seeded = httpx.post(
        f"{live_service.url}/v1/evidence",
        json={"project": "acme/widget", "statement": statement(1)},
        headers=headers,
    )
    assert seeded.status_code in (200, 201)
    schema = schemathesis.openapi.from_url(f"{live_service.url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), authorised=st.booleans())
        def _call(case: schemathesis.Case, authorised: bool) -> None:
            response = case.call(
                base_url=live_service.url, headers=headers if authorised else {}, timeout=30
            )
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        _call()
    assert not failures, failures
