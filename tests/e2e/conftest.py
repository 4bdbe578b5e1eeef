"""Fixtures of the end-to-end tests: one real evidence service process for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e._harness import Evidence, create_token
from tests.service.live import start_service


@pytest.fixture(scope="session")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    """`gatekeeper serve` on SQLite on a free loopback port, with CLI-made ingest/read tokens."""
    folder = tmp_path_factory.mktemp("evidence")
    with start_service(folder / "data") as service:
        yield Evidence(
            url=service.url,
            ingest=create_token(service.env, folder, "ingest"),
            read=create_token(service.env, folder, "read"),
            env=service.env,
        )
