"""Release facts (ISO 9001 8.6): every change between the previous release tag and this one.

    source = ...  # a ReleaseSource of the provider (tags, changes between two refs, approvals)
    facts = collect_release(source, lookup, tag="v2.0.0", project="acme/shop")

The previous tag is the nearest earlier tag matching `pattern` (default `v*`, compared as
versions). Each change's head and merge commit are looked up in the evidence service, one query
per page of commits. A provider or service that cannot answer leaves `release.changes` missing
with the reason: the gate fails closed, it never sees an empty release.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from connectors.evidence import RecordSeen
from gatekeeper.errors import ConnectorError, GatekeeperError
from gatekeeper.facts import Release, ReleaseApproval, ReleaseChange, make_release

__all__ = [
    "FIRST_RELEASE_LIMIT",
    "ReleaseSource",
    "collect_release",
    "previous_tag",
]

FIRST_RELEASE_LIMIT = 500
"""Changes a first release (no earlier tag) lists from the start, unless `--since REF`."""

Lookup = Callable[[Sequence[str]], Mapping[str, RecordSeen]]


class ReleaseSource(Protocol):
    """What a provider tells about a release: its tags, the changes between two refs, approvals."""

    def tag_names(self) -> Sequence[str]:
        """Every tag of the repository."""
        ...

    def changes(self, base: str | None, head: str, limit: int) -> Sequence[ReleaseChange]:
        """Merged PRs/MRs and direct pushes after `base` (None: from the start) up to `head`."""
        ...

    def approvals(self) -> Sequence[ReleaseApproval]:
        """Who authorised this release run (deployment reviews or approvals)."""
        ...


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", tag))


def previous_tag(tag: str, tags: Sequence[str], pattern: str = "v*") -> str | None:
    """The nearest tag before `tag` among those matching `pattern`, compared as versions."""
    mine = _version(tag)
    earlier = [t for t in tags if fnmatch.fnmatchcase(t, pattern) and _version(t) < mine]
    return max(earlier, key=_version) if earlier else None


def _with_record(change: ReleaseChange, found: Mapping[str, RecordSeen]) -> ReleaseChange:
    commits = [c for c in (change.head_commit, change.merge_commit) if c]
    seen = [found[c] for c in commits if c in found]
    passing = [s for s in seen if s.verdict == "pass"]
    if not seen:
        return change
    record = (passing or seen)[0]
    return change.model_copy(
        update={"record_id": record.record_id, "verdict": record.verdict, "gated": bool(passing)}
    )


def collect_release(
    source: ReleaseSource,
    lookup: Lookup,
    *,
    tag: str,
    pattern: str = "v*",
    since: str | None = None,
    limit: int = FIRST_RELEASE_LIMIT,
    tag_author: str | None = None,
    previous_record: str | None = None,
) -> tuple[Release | None, dict[str, str]]:
    """The release facts, or None and the reason `release` (or `release.changes`) is missing.

    The changes start after the previous release tag; a first release (no earlier tag matches
    `pattern`) starts after `since`, or lists from the repository's start up to `limit` commits,
    and the record says which."""
    try:
        previous = previous_tag(tag, source.tag_names(), pattern)
        base = previous or since
        listed = tuple(source.changes(base, tag, limit))
        approvals = tuple(source.approvals())
    except ConnectorError as error:
        return None, {"release": f"the provider could not list the release's changes: {error}"}
    commits = sorted({c for ch in listed for c in (ch.head_commit, ch.merge_commit) if c})
    try:
        found = lookup(commits)
    except GatekeeperError as error:
        return None, {"release": f"the evidence of the release's changes is unknown: {error}"}
    release = make_release(
        tag,
        tuple(_with_record(change, found) for change in listed),
        approvals,
        tag_author=tag_author,
        previous_tag=previous,
        since=None if previous else since,
        limit=limit if base is None else None,
        previous_record=previous_record,
    )
    if previous is None:
        start = f"changes after {since}" if since else f"changes from the start, at most {limit}"
        first = f"first release: no earlier tag matches {pattern} ({start})"
        return release, {"release.previous_tag": first}
    return release, {}
