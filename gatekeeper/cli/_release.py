"""The release path of `gatekeeper evaluate`: on a tag or release pipeline, add `release.*`.

The changes since the previous tag come from the provider's release source; their records from
the evidence service (`--submit` URL; read with `GATEKEEPER_READ_TOKEN`, else the submit token).
Without a service the release's evidence is unknown: `release` is missing with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors._github_release import GitHubReleaseSource
from connectors._gitlab_release import GitLabReleaseSource
from connectors.evidence import EvidenceClient, RecordSeen, lookup_records
from connectors.github import GitHub
from connectors.gitlab import GitLab
from connectors.release import FIRST_RELEASE_LIMIT, ReleaseSource, collect_release
from gatekeeper.cli._provider import Session
from gatekeeper.errors import EvidenceNotStoredError, UsageError
from gatekeeper.facts import Facts

__all__ = ["MAX_RELEASE_LIMIT", "ReleaseChoice", "is_release", "release_choice", "with_release"]

MAX_RELEASE_LIMIT = 10_000
"""The most commits a first release lists (100 provider pages): beyond it, use --since."""

_RUN = re.compile(r"/actions/runs/(\d+)$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@^~+-]{0,199}$")
_PATTERN = re.compile(r"^[A-Za-z0-9._/*?\[\]!+-]{1,100}$")


@dataclass(frozen=True)
class ReleaseChoice:
    """How the release is delimited: the tags that are releases, where a first one starts, and
    how many commits back a first one without `since` lists."""

    pattern: str = "v*"
    since: str | None = None
    limit: int = FIRST_RELEASE_LIMIT


def release_choice(
    since: str | None, pattern: str, limit: str = str(FIRST_RELEASE_LIMIT)
) -> ReleaseChoice:
    """The checked `--since`, `--release-pattern` and `--release-limit`; UsageError saying
    what is wrong."""
    if since is not None and (not _REF.fullmatch(since) or ".." in since):
        raise UsageError(
            f"--since {since[:60]!r} is not a git ref or commit (letters, digits and ._/@^~+- "
            "only, no '..', at most 200 characters)"
        )
    if not _PATTERN.fullmatch(pattern):
        raise UsageError(
            f"--release-pattern {pattern[:60]!r} is not a tag glob (letters, digits, ._/+- and "
            "the glob characters *?[]!, at most 100 characters)"
        )
    commits = int(limit) if limit.isascii() and limit.isdigit() and len(limit) < 7 else 0
    if not 1 <= commits <= MAX_RELEASE_LIMIT:
        raise UsageError(
            f"--release-limit {limit[:20]!r} is not a number of commits (a first release lists "
            f"1 to {MAX_RELEASE_LIMIT}; for a longer history start after a ref with --since)"
        )
    return ReleaseChoice(pattern=pattern, since=since, limit=commits)


def is_release(facts: Facts, event: str | None) -> bool:
    """Whether the facts are of a tag push or a release event."""
    ref = facts.subject.ref if facts.subject is not None else None
    return event == "release" or bool(ref and ref.startswith("refs/tags/"))


def _source(session: Session) -> ReleaseSource:
    connection = session.connection
    if isinstance(connection, GitHub):
        ci = session.target.ci
        match = _RUN.search(ci.run_url or "") if ci is not None else None
        return GitHubReleaseSource(connection, run_id=int(match.group(1)) if match else None)
    if isinstance(connection, GitLab):
        return GitLabReleaseSource(connection, tag_commit=session.target.commit)
    raise UsageError(f"release facts are not read from {session.target.entry.title}")


def with_release(
    session: Session,
    facts: Facts,
    service: tuple[str | None, str | None],
    *,
    choice: ReleaseChoice = ReleaseChoice(),
) -> Facts:
    """`facts` with the release section (or the reason it is missing) and `change.event` tag."""
    url, token = service
    ref = facts.subject.ref if facts.subject is not None else None
    tag = (ref or "").removeprefix("refs/tags/")
    project = session.target.repo
    if facts.change is not None:  # the `when: events` of the release rules read it
        event = "release" if facts.change.event == "release" else "tag"
        change = facts.change.model_copy(update={"event": event})
        facts = facts.model_copy(update={"change": change})
    if url is None or token is None:
        reason = "no evidence service (--submit URL) to look the release's changes up in"
        return facts.model_copy(update={"missing": {**facts.missing, "release": reason}})
    with EvidenceClient(url, token) as client:

        def lookup(commits: Sequence[str]) -> Mapping[str, RecordSeen]:
            return lookup_records(client, project, commits)

        earlier = _earlier_record(client, project, ref)
        release, missing = collect_release(
            _source(session),
            lookup,
            tag=tag,
            pattern=choice.pattern,
            since=choice.since,
            limit=choice.limit,
            tag_author=session.target.ci.actor if session.target.ci is not None else None,
            previous_record=earlier,
        )
    return facts.model_copy(update={"release": release, "missing": {**facts.missing, **missing}})


def _earlier_record(client: EvidenceClient, project: str, ref: str | None) -> str | None:
    """The id of the latest record already stored for this release ref (a rerun links it)."""
    if ref is None:
        return None
    try:
        records = list(client.records({"project": project, "ref": ref, "kind": "release"}))
    except EvidenceNotStoredError:
        return None
    last = records[-1] if records else None
    return str(last["id"])[:100] if isinstance(last, dict) and "id" in last else None
