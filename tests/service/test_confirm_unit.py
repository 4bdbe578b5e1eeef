"""The confirmer's choices without HTTP: which provider access, what is not checked."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.service.confirm import ProviderAccess, ReviewClaim, ReviewConfirmer

GHES = ProviderAccess(provider="github", api_url="https://ghe.example/api/v3", token_file=Path("t"))
DOTCOM = ProviderAccess(provider="github", api_url="https://api.github.com", token_file=Path("t"))


def _claim(**changes: object) -> ReviewClaim:
    values: dict[str, object] = {
        "project": "acme/widget",
        "provider": "github",
        "number": 7,
        "head": "c" * 40,
        "approvers": ("bob",),
        "approvals": 1,
        "url": "https://github.com/acme/widget/pull/7",
    }
    values.update(changes)
    return ReviewClaim(**values)  # type: ignore[arg-type]


def test_the_access_whose_host_serves_the_pull_request_is_asked() -> None:
    """With github.com and an Enterprise Server configured, the PR URL's host picks the API."""
    asked: list[str] = []

    def read(access: ProviderAccess, repo: str, number: int, head: str) -> tuple[str, ...]:
        asked.append(access.api_url)
        return ("bob",)

    confirmer = ReviewConfirmer((GHES, DOTCOM), read)
    assert confirmer.confirm(_claim()).status == "confirmed"
    assert asked == ["https://api.github.com"]


def test_claims_without_a_provider_or_access_are_not_checked() -> None:
    """A statement naming no provider, or one the service has no access to, is 'not checked'."""

    def read(access: ProviderAccess, repo: str, number: int, head: str) -> tuple[str, ...]:
        raise AssertionError("no provider may be asked")

    confirmer = ReviewConfirmer((DOTCOM,), read)
    assert confirmer.confirm(_claim(provider=None)).reason == "the statement names no provider"
    assert confirmer.confirm(_claim(provider="gitlab")).reason == (
        "the service has no access to gitlab"
    )
