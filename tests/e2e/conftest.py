"""Fixtures of the end-to-end tests: one real evidence service process for the session."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e._harness import AUDIENCE, Evidence, create_token
from tests.fakes.oidc import FakeOidcIssuer
from tests.service.live import start_service


@pytest.fixture(scope="session")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    """`gatekeeper serve` on SQLite on a free loopback port, with CLI-made ingest/read tokens,
    trusting the ID tokens of a loopback "GitHub Actions" and a loopback "GitLab" issuer."""
    folder = tmp_path_factory.mktemp("evidence")
    with FakeOidcIssuer() as github, FakeOidcIssuer() as gitlab:
        assert isinstance(github, FakeOidcIssuer)
        assert isinstance(gitlab, FakeOidcIssuer)
        issuers = [
            {"issuer": github.issuer, "audience": AUDIENCE, "project_claim": "repository"},
            {"issuer": gitlab.issuer, "audience": AUDIENCE, "project_claim": "project_path"},
        ]
        extra = {"GATEKEEPER_OIDC_ISSUERS": json.dumps(issuers)}
        with start_service(folder / "data", extra_env=extra) as service:
            yield Evidence(
                url=service.url,
                ingest=create_token(service.env, folder, "ingest"),
                read=create_token(service.env, folder, "read"),
                env=service.env,
                github_oidc=github,
                gitlab_oidc=gitlab,
            )
