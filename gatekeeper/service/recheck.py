"""Recomputed verdicts: the service evaluates the carried policy again before it signs.

A verdict statement that carries its policy document (`predicate.policy.document`) is judged
again with the same engine (`gatekeeper.policy`), over the carried facts, at the carried
evaluation time: waiver expiry is judged at that time. The statement is refused (422) when the
document's digest is not `policy.digest`, when the time lies more than `evaluation_skew` in the
future or more than `evaluation_max_age` in the past, or when a rule's outcome or the verdict does
not follow (the message names the first rule that differs). A statement without a document is
stored as sent unless `require_policy_document` is set (then 422): it is not recomputable, and
`gatekeeper verify --recompute` says so.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

from gatekeeper.attest.predicate import VerdictPredicate
from gatekeeper.config import Settings
from gatekeeper.errors import PolicyError
from gatekeeper.policy.load import LoadedPolicy
from gatekeeper.policy.recompute import first_difference, load_document
from gatekeeper.service.problems import ApiError

__all__ = ["recheck_verdict"]

_CACHED_POLICIES = 64
"""Compiled policies kept by digest: CI jobs send the same few policies again and again."""
_compiled: OrderedDict[str, LoadedPolicy] = OrderedDict()
_lock = threading.Lock()


def _loaded(predicate: VerdictPredicate) -> LoadedPolicy:
    """The compiled policy of a predicate whose digest is its document's (checked before)."""
    digest = predicate.policy.digest
    with _lock:
        found = _compiled.get(digest)
        if found is not None:
            _compiled.move_to_end(digest)
            return found
    loaded = load_document(predicate.policy.document, digest)
    with _lock:
        _compiled[digest] = loaded
        while len(_compiled) > _CACHED_POLICIES:
            _compiled.popitem(last=False)
    return loaded


def _window(settings: Settings, at: dt.datetime, now: dt.datetime) -> None:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    if at > now + dt.timedelta(seconds=settings.evaluation_skew):
        raise ApiError(
            422,
            f"the statement's evaluation time {at.isoformat()} lies in the future (more than "
            f"{settings.evaluation_skew:g} s ahead of the service's clock)",
            "evaluation_time",
        )
    if at < now - dt.timedelta(seconds=settings.evaluation_max_age):
        raise ApiError(
            422,
            f"the statement's evaluation time {at.isoformat()} is older than "
            f"{settings.evaluation_max_age:g} s (GATEKEEPER_EVALUATION_MAX_AGE)",
            "evaluation_time",
        )


def recheck_verdict(
    settings: Settings, predicate: VerdictPredicate, now: dt.datetime | None = None
) -> bool:
    """Re-evaluates a predicate that carries its policy; True when recomputed, False when it
    carries none (and that is allowed); ApiError 422 when it does not follow."""
    if predicate.policy.document is None or predicate.evaluated_at is None:
        if settings.require_policy_document:
            raise ApiError(
                422,
                "the statement carries no policy document to evaluate again, and this service "
                "requires one (GATEKEEPER_REQUIRE_POLICY_DOCUMENT)",
                "policy_document_required",
            )
        return False
    if not predicate.policy.digest_follows:
        raise ApiError(
            422,
            "the statement's policy.digest is not the SHA-256 of its policy document's "
            "canonical JSON",
            "policy_digest_mismatch",
        )
    at = predicate.evaluated_at
    _window(settings, at, now or dt.datetime.now(dt.UTC))
    try:
        loaded = _loaded(predicate)
        difference = first_difference(
            loaded, predicate.facts, at, predicate.verdict, predicate.rule_outcomes()
        )
    except PolicyError as error:
        raise ApiError(
            422, f"the statement's policy cannot be evaluated again: {error}", "policy_invalid"
        ) from None
    if difference is not None:
        raise ApiError(
            422,
            f"the statement's verdict does not follow from its policy and facts: {difference}",
            "verdict_not_recomputed",
        )
    return True
