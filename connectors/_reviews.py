"""Review arithmetic shared by the providers: who counts, who is stale, which issues are linked."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gatekeeper.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class RawReview:
    """One review as a provider gives it, reduced to what the count needs."""

    login: str
    state: str  # APPROVED | CHANGES_REQUESTED | DISMISSED | COMMENTED | PENDING
    commit: str | None
    bot: bool = False


@dataclass(frozen=True)
class ReviewCount:
    """The result: approvers on the head, changes requested, stale approvals."""

    approvers: tuple[str, ...]
    changes_requested: int
    stale_approvals: int


_DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


def count_reviews(
    reviews: Iterable[RawReview], *, head: str, excluded: Iterable[str]
) -> ReviewCount:
    """Each reviewer's latest decisive review; approvals count only on `head`, never `excluded`."""
    latest: dict[str, RawReview] = {}
    for review in reviews:  # chronological, as the API lists them
        if review.bot or review.state not in _DECISIVE:
            continue
        latest[review.login.lower()] = review
    skip = {login.lower() for login in excluded}
    approvers: list[str] = []
    changes = stale = 0
    for key, review in latest.items():
        if key in skip:
            continue
        if review.state == "CHANGES_REQUESTED":
            changes += 1
        elif review.state == "APPROVED":
            if review.commit == head:
                approvers.append(review.login)
            else:
                stale += 1
    return ReviewCount(tuple(sorted(approvers, key=str.lower)), changes, stale)


def is_bot(login: str, kind: str | None) -> bool:
    """True for GitHub Apps and bot accounts."""
    return kind == "Bot" or login.lower().endswith("[bot]")


def linked_issues(pattern: str, texts: Sequence[str | None]) -> tuple[str, ...]:
    """Issue keys matching `pattern` in `texts`, in order of first appearance, without repeats."""
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise UsageError(f"invalid linked-issue pattern {pattern!r}: {error}") from error
    found: dict[str, None] = {}
    for text in texts:
        for match in regex.finditer(text or ""):
            found.setdefault(match.group(0), None)
    return tuple(found)


def choose_merging(
    candidates: Iterable[T], sha: str, *, merged: Callable[[T], bool], shas: Callable[[T], set[str]]
) -> T | None:
    """The merged PR/MR among `candidates` that produced `sha`, else the first merged one."""
    done = [c for c in candidates if merged(c)]
    for candidate in done:
        if sha in shas(candidate):
            return candidate
    return done[0] if done else None


def pushed_without_review(sha: str, noun: str) -> str:
    """The reason reviews are missing for a commit no PR/MR merged."""
    return f"commit {sha[:7]} was pushed without a {noun}"
