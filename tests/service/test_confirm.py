"""The service confirms review facts with the provider before it signs them (both providers)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from gatekeeper.config import Settings
from gatekeeper.errors import ServiceError
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.service.conftest import bearer
from tests.service.live import ApiClient, statement

PROJECT = "acme/widget"
TOKEN = "svc-provider-token-0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """A fake GitHub holding PR 7 of acme/widget, readable with the service's token."""
    with FakeGitHub(repo=PROJECT, token=TOKEN) as fake:
        yield fake


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    """A fake GitLab holding MR 27117 of acme/widget, readable with the service's token."""
    with FakeGitLab(repo=PROJECT, token=TOKEN) as fake:
        yield fake


def _app(settings: Settings, tmp_path: Path, *fakes: Any, **extra: Any) -> FastAPI:
    token_file = tmp_path / "provider-token"
    token_file.write_text(TOKEN + "\n")
    providers = [
        {
            "provider": "github" if isinstance(f, FakeGitHub) else "gitlab",
            "api_url": f.url if isinstance(f, FakeGitHub) else f.server_url,
            "token_file": str(token_file),
        }
        for f in fakes
    ]
    return create_app(settings.model_copy(update={"providers": json.dumps(providers), **extra}))


@pytest.fixture
def client(
    settings: Settings, tmp_path: Path, github: FakeGitHub, gitlab: FakeGitLab
) -> Iterator[tuple[ApiClient, str]]:
    """A client of a service with access to both fakes, and an ingest token for the project."""
    app = _app(settings, tmp_path, github, gitlab)
    api = ApiClient(app)
    yield api, create_token(app.state.gatekeeper.engine, ["ingest"], [PROJECT])[0]
    api.close()
    app.state.gatekeeper.engine.dispose()


def claiming(
    provider: str, number: int, head: str, approvers: list[str], n: int = 0
) -> dict[str, Any]:
    """A statement whose facts claim `approvers` on PR/MR `number` at `head`."""
    built = statement(n, commit=head)
    built["predicate"]["facts"] = {
        "subject": {"provider": provider, "repo": PROJECT, "commit": head, "number": number},
        "reviews": {"approvals": len(approvers), "approvers": approvers},
    }
    return built


def _post(api: ApiClient, token: str, body: dict[str, Any]) -> Any:
    return api.post(
        "/v1/evidence", json={"project": PROJECT, "statement": body}, headers=bearer(token)
    )


def _confirmed(record: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(base64.b64decode(record["envelope"]["payload"]))
    return payload["predicate"]["confirmed"]  # type: ignore[no-any-return]


def test_github_fabricated_approver_is_refused_naming_them(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """A statement claiming an approver GitHub does not show for the head gets 422 naming them."""
    api, token = client
    github.add_review("bob", "APPROVED")
    github.add_review("carol", "APPROVED", commit="a" * 40)  # an older head: not this one
    response = _post(api, token, claiming("github", 7, github.head, ["bob", "carol"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "reviews_not_confirmed"
    assert "approver 'carol'" in error["message"]


def test_github_true_claim_is_signed_as_confirmed_with_one_request(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """A true claim is stored with reviews confirmed, by and at; it costs one provider request,
    and the same head again is answered from the cache."""
    api, token = client
    github.add_review("bob", "APPROVED")
    response = _post(api, token, claiming("github", 7, github.head, ["bob"]))
    assert response.status_code == 201, response.text
    found = _confirmed(response.json())["reviews"]
    assert found["status"] == "confirmed"
    assert found["by"] == f"github at {github.url}"
    assert found["at"].endswith("Z")
    assert len(github.requests) == 1
    assert github.requests[0].path == f"/repos/{PROJECT}/pulls/7/reviews"
    again = _post(api, token, claiming("github", 7, github.head, ["bob"], n=1))
    assert again.status_code == 201
    assert len(github.requests) == 1  # cached per head commit


def test_an_approval_newer_than_the_cache_is_seen(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """A claim the cached reading contradicts is checked once more before it is refused."""
    api, token = client
    github.add_review("bob", "APPROVED")
    assert _post(api, token, claiming("github", 7, github.head, ["bob"])).status_code == 201
    github.add_review("carol", "APPROVED")
    both = _post(api, token, claiming("github", 7, github.head, ["bob", "carol"], n=1))
    assert both.status_code == 201, both.text
    assert len(github.requests) == 2


def test_github_more_approvals_than_shown_are_refused(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """Claiming two approvals when the provider shows one is refused."""
    api, token = client
    github.add_review("bob", "APPROVED")
    body = claiming("github", 7, github.head, ["bob"])
    body["predicate"]["facts"]["reviews"]["approvals"] = 2
    response = _post(api, token, body)
    assert response.status_code == 422
    assert "claims 2 approvals, but github shows 1" in response.json()["error"]["message"]


def test_gitlab_fabricated_approver_is_refused(
    client: tuple[ApiClient, str], gitlab: FakeGitLab
) -> None:
    """On GitLab too, an approver the merge request does not show is refused, named."""
    api, token = client
    gitlab.approve("reprazent")
    ok = _post(api, token, claiming("gitlab", gitlab.number, gitlab.head, ["reprazent"]))
    assert ok.status_code == 201, ok.text
    assert _confirmed(ok.json())["reviews"]["status"] == "confirmed"
    assert len(gitlab.requests) == 2  # the MR (its head) and its approvals
    response = _post(api, token, claiming("gitlab", gitlab.number, gitlab.head, ["mallory"]))
    assert response.status_code == 422
    assert "approver 'mallory'" in response.json()["error"]["message"]
    assert len(gitlab.requests) == 4  # a cached reading that contradicts is read once more


def test_unreachable_provider_is_stored_as_not_confirmed(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """A provider answering 502 gives 'not confirmed: provider unreachable', never confirmed."""
    api, token = client
    github.fail(502, times=None)
    response = _post(api, token, claiming("github", 7, github.head, ["bob"]))
    assert response.status_code == 201, response.text
    found = _confirmed(response.json())["reviews"]
    assert (found["status"], found["reason"]) == ("not confirmed", "provider unreachable")


def test_unreachable_provider_refused_by_the_setting(
    settings: Settings, tmp_path: Path, github: FakeGitHub
) -> None:
    """With GATEKEEPER_CONFIRM_UNREACHABLE=refuse the statement is refused with 503."""
    app = _app(settings, tmp_path, github, confirm_unreachable="refuse")
    api = ApiClient(app)
    token = create_token(app.state.gatekeeper.engine, ["ingest"], [PROJECT])[0]
    github.fail(502, times=None)
    response = _post(api, token, claiming("github", 7, github.head, ["bob"]))
    api.close()
    app.state.gatekeeper.engine.dispose()
    assert response.status_code == 503
    assert "cannot be confirmed" in response.json()["error"]["message"]


def test_without_provider_access_a_sent_confirmation_is_replaced(
    api: ApiClient, tokens: Any
) -> None:
    """Only the service fills `confirmed`: a sender's 'confirmed' becomes 'not checked'."""
    body = claiming("github", 7, "c" * 40, ["bob"])
    body["predicate"]["confirmed"] = {"reviews": {"status": "confirmed"}}
    response = _post(api, tokens.ingest, body)
    assert response.status_code == 201, response.text
    assert _confirmed(response.json())["reviews"]["status"] == "not checked"


def test_resending_a_confirmed_statement_is_the_same_record(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """The same statement again answers 200 with the same record (dedup on what was sent)."""
    api, token = client
    github.add_review("bob", "APPROVED")
    body = claiming("github", 7, github.head, ["bob"])
    first = _post(api, token, body)
    again = _post(api, token, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_a_rate_limit_longer_than_allowed_is_not_waited_out(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """A 429 asking for two minutes is respected (no retry), and the record says not confirmed."""
    api, token = client
    github.fail(429, headers={"Retry-After": "120"}, times=None)
    response = _post(api, token, claiming("github", 7, github.head, ["bob"]))
    assert response.status_code == 201, response.text
    assert _confirmed(response.json())["reviews"]["reason"] == "provider unreachable"
    assert len(github.requests) == 1


def test_gitlab_head_moved_on_is_not_confirmed(
    client: tuple[ApiClient, str], gitlab: FakeGitLab
) -> None:
    """GitLab's approvals carry no commit: a statement about an older head is not confirmed."""
    api, token = client
    gitlab.approve("reprazent")
    response = _post(api, token, claiming("gitlab", gitlab.number, "a" * 40, ["reprazent"]))
    assert response.status_code == 201, response.text
    found = _confirmed(response.json())["reviews"]
    assert found["status"] == "not confirmed"
    assert "no longer aaaaaaaaaaaa" in found["reason"]


def test_statements_the_service_cannot_check_say_not_checked(
    client: tuple[ApiClient, str], github: FakeGitHub
) -> None:
    """No reviews claimed, or no PR named: 'not checked' with the reason, no provider request."""
    api, token = client
    no_reviews = statement(5)
    first = _post(api, token, no_reviews)
    no_pr = claiming("github", 7, github.head, ["bob"], n=6)
    del no_pr["predicate"]["facts"]["subject"]["number"]
    second = _post(api, token, no_pr)
    assert _confirmed(first.json())["reviews"] == {
        "status": "not checked",
        "reason": "the statement claims no reviews",
    }
    assert _confirmed(second.json())["reviews"]["reason"] == (
        "the statement names no pull/merge request"
    )
    assert github.requests == []


def test_bad_provider_settings_stop_the_service_with_a_sentence(
    settings: Settings, tmp_path: Path
) -> None:
    """An invalid GATEKEEPER_PROVIDERS or an unreadable token file is one sentence at start."""
    bad = settings.model_copy(update={"providers": '[{"provider": "gitea", "api_url": "x"}]'})
    with pytest.raises(ServiceError, match=r"GATEKEEPER_PROVIDERS is invalid at 0\.provider"):
        create_app(bad)
    missing = json.dumps(
        [{"provider": "github", "api_url": "http://x", "token_file": str(tmp_path / "none")}]
    )
    with pytest.raises(ServiceError, match="cannot read the token file"):
        create_app(settings.model_copy(update={"providers": missing}))
