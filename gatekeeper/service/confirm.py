"""The service confirms the review facts it signs, with the provider itself.

With `GATEKEEPER_PROVIDERS` (a JSON list of `{"provider", "api_url", "token_file"}`) the service
re-reads, with its own token and the connectors' own code, the reviews of the statement's head
commit on its pull/merge request: one review listing on GitHub (`GET .../pulls/N/reviews`), the
merge request and its approvals on GitLab (two requests). A claimed approver the provider does not
show for that head, or more approvals than it shows, is refused (`ReviewRefused`, a 422 naming the
approver). Readings are cached per head commit for `ttl` seconds; provider retries are short and
honour rate limits; a provider that cannot be read gives "not confirmed" with the reason (or a
refusal, when `refuse_unreachable`), never "confirmed".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from gatekeeper.attest.canonical import canonical_json, strict_json_loads
from gatekeeper.attest.predicate import Confirmation as SignedConfirmation
from gatekeeper.attest.predicate import (
    PredicateError,
    VerdictPredicate,
    read_predicate,
    with_service_parts,
)
from gatekeeper.errors import ConnectorError, ServiceError

_log = logging.getLogger(__name__)

Status = Literal["confirmed", "not checked", "not confirmed"]
UNREACHABLE = "provider unreachable"


class ProviderAccess(BaseModel):
    """One provider the service may read: which, where, and the file holding its token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal["github", "gitlab"]
    api_url: str
    token_file: Path


def parse_providers(text: str | None) -> tuple[ProviderAccess, ...]:
    """The accesses of GATEKEEPER_PROVIDERS; ServiceError says what is wrong with it."""
    if not text or not text.strip():
        return ()
    try:
        found = TypeAdapter(list[ProviderAccess]).validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "the value"
        raise ServiceError(f"GATEKEEPER_PROVIDERS is invalid at {place}: {first['msg']}") from None
    return tuple(found)


@dataclass(frozen=True)
class ReviewClaim:
    """What a statement claims about reviews, and where the provider can check it."""

    project: str
    provider: str | None
    number: int | None
    head: str | None
    approvers: tuple[str, ...]
    approvals: int | None
    url: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """What the service found for one fact section: status, by whom, when, and why not."""

    status: Status
    by: str | None = None
    at: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, str]:
        """The `confirmed.<section>` object of the signed predicate."""
        out: dict[str, str] = {"status": self.status}
        out.update(
            {k: v for k, v in (("by", self.by), ("at", self.at), ("reason", self.reason)) if v}
        )
        return out


class ProviderUnreachableError(Exception):
    """The provider could not be read and the service refuses what it cannot confirm."""


class ReviewRefused(Exception):  # noqa: N818 - answered as a 422, like a validation failure
    """The provider does not show what the statement claims; `str()` names the approver."""


Reader = Callable[[ProviderAccess, str, int, str], tuple[str, ...] | None]
"""`read(access, repo, number, head)`: approvers of `head`, or None when the PR/MR's head moved;
raises a ConnectorError when the provider cannot be read."""


@dataclass
class ReviewConfirmer:
    """Confirms review claims against the configured providers, caching per head commit."""

    accesses: tuple[ProviderAccess, ...]
    read: Reader
    ttl: float = 60.0
    refuse_unreachable: bool = False
    clock: Callable[[], float] = time.monotonic
    _cache: dict[tuple[str, str, int, str], tuple[float, tuple[str, ...] | None]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def confirm(self, claim: ReviewClaim) -> Confirmation:
        """The confirmation of `claim`; ReviewRefused when the provider contradicts it."""
        access = self._access(claim)
        if claim.provider is None:
            return Confirmation("not checked", reason="the statement names no provider")
        if access is None:
            return Confirmation(
                "not checked", reason=f"the service has no access to {claim.provider}"
            )
        if claim.number is None or claim.head is None:
            return Confirmation("not checked", reason="the statement names no pull/merge request")
        who = f"{access.provider} at {access.api_url}"
        try:
            shown, cached = self._read(access, claim.project, claim.number, claim.head)
            if cached and shown is not None and _contradiction(claim, shown, access.provider):
                shown, _ = self._read(access, claim.project, claim.number, claim.head, fresh=True)
        except ConnectorError as error:
            _log.warning("reviews of %s not confirmed: %s", claim.project, error)
            if self.refuse_unreachable:
                raise ProviderUnreachableError(f"{who}: {error}") from error
            return Confirmation("not confirmed", by=who, at=_now(), reason=UNREACHABLE)
        if shown is None:
            reason = f"the head of #{claim.number} is no longer {claim.head[:12]}"
            return Confirmation("not confirmed", by=who, at=_now(), reason=reason)
        refusal = _contradiction(claim, shown, access.provider)
        if refusal is not None:
            raise ReviewRefused(refusal)
        return Confirmation("confirmed", by=who, at=_now())

    def _access(self, claim: ReviewClaim) -> ProviderAccess | None:
        same = [a for a in self.accesses if a.provider == claim.provider]
        if len(same) > 1 and claim.url:
            host = (urlsplit(claim.url).hostname or "").lower()
            for access in same:
                api_host = (urlsplit(access.api_url).hostname or "").lower()
                if api_host.removeprefix("api.") == host:
                    return access
        return same[0] if same else None

    def _read(
        self, access: ProviderAccess, repo: str, number: int, head: str, *, fresh: bool = False
    ) -> tuple[tuple[str, ...] | None, bool]:
        """(the provider's approvers of `head`, whether from the cache); `fresh` skips the cache
        (a cached reading that contradicts a claim is read again once: an approval may be new)."""
        key = (access.api_url, repo.lower(), number, head)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now and not fresh:
                return cached[1], True
        shown = self.read(access, repo, number, head)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[key] = (now + self.ttl, shown)
        return shown, False


def _contradiction(claim: ReviewClaim, shown: tuple[str, ...], provider: str) -> str | None:
    """The sentence of the first claim `shown` contradicts, or None."""
    known = {login.lower() for login in shown}
    for approver in claim.approvers:
        if approver.lower() not in known:
            approver = approver[:100]  # noqa: PLW2901 - a hostile string, quoted and cut
            return (
                f"the statement claims approver {approver!r}, but {provider} shows no approval "
                f"by {approver!r} of commit {str(claim.head)[:12]} on #{claim.number}"
            )
    if claim.approvals is not None and claim.approvals > len(shown):
        return (
            f"the statement claims {claim.approvals} approvals, but {provider} shows "
            f"{len(shown)} of commit {str(claim.head)[:12]} on #{claim.number}"
        )
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def claim_of(project: str, statement: Mapping[str, Any]) -> ReviewClaim | None:
    """The review claim of a statement, or None when its facts claim no reviews."""
    predicate = _typed(statement)
    facts: Mapping[str, Any] = predicate.facts if predicate is not None else {}
    reviews = facts.get("reviews")
    if not isinstance(reviews, dict):
        return None
    subject = _dict(facts.get("subject"))
    approvers = reviews.get("approvers")
    approvals = reviews.get("approvals")
    number = subject.get("number")
    head = subject.get("commit")
    return ReviewClaim(
        project=project,
        provider=subject.get("provider") if isinstance(subject.get("provider"), str) else None,
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        head=head.lower() if isinstance(head, str) and head else None,
        approvers=tuple(str(a) for a in approvers) if isinstance(approvers, list) else (),
        approvals=approvals if isinstance(approvals, int) else None,
        url=subject.get("url") if isinstance(subject.get("url"), str) else None,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _typed(statement: Mapping[str, Any]) -> VerdictPredicate | None:
    try:
        return read_predicate(str(statement.get("predicateType")), statement.get("predicate"))
    except PredicateError:
        return None


def with_confirmation(statement: Mapping[str, Any], sections: Mapping[str, Confirmation]) -> bytes:
    """The statement with `predicate.confirmed` set to `sections` (what the service signs)."""
    confirmed = {
        name: SignedConfirmation.model_validate(found.to_json()) for name, found in sections.items()
    }
    return canonical_json(with_service_parts(statement, confirmed=confirmed))


def build_confirmer(
    providers: str | None, *, ttl: float, refuse_unreachable: bool
) -> ReviewConfirmer | None:
    """The confirmer for GATEKEEPER_PROVIDERS (None when unset), tokens read now."""
    accesses = parse_providers(providers)
    if not accesses:
        return None
    tokens: dict[str, str] = {}
    for access in accesses:
        try:
            tokens[access.api_url] = access.token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ServiceError(
                f"GATEKEEPER_PROVIDERS: cannot read the token file {access.token_file} "
                f"({error.strerror or error})"
            ) from None
    # the service's one use of connectors, imported only when providers are configured
    from connectors.review_check import approvers_reader  # noqa: PLC0415

    read = approvers_reader(tokens)

    def reader(access: ProviderAccess, repo: str, number: int, head: str) -> tuple[str, ...] | None:
        return read(access.provider, access.api_url, repo, number, head)

    return ReviewConfirmer(accesses, reader, ttl=ttl, refuse_unreachable=refuse_unreachable)


def confirmed_payload(confirmer: ReviewConfirmer | None, project: str, payload: bytes) -> bytes:
    """The statement bytes to sign: with `predicate.confirmed` when the service checked (or
    when the sender wrote one: only the service fills it); ReviewRefused when contradicted."""
    statement = strict_json_loads(payload)
    if not isinstance(statement, dict):
        return payload
    typed = _typed(statement)
    sent = typed is not None and typed.confirmed is not None
    if confirmer is None:
        if not sent:
            return payload
        found = Confirmation("not checked", reason="the service has no provider access")
    else:
        claim = claim_of(project, statement)
        if claim is None:
            found = Confirmation("not checked", reason="the statement claims no reviews")
        else:
            found = confirmer.confirm(claim)
    return with_confirmation(statement, {"reviews": found})
