"""The release source of GitHub: tags, the commits between two refs, their PRs, run approvals.

Requests for a release of N commits: the tags (one page per 100), the compare API (250 commits a
page; a first release lists commits, 100 a page), ONE GraphQL query per 100 commits asking each
commit's `associatedPullRequests`, and the workflow run's environment approvals
(`/actions/runs/{id}/approvals`). A 500-PR release takes about ten requests, not one per PR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from gatekeeper.facts import ReleaseApproval, ReleaseChange

if TYPE_CHECKING:
    from connectors.github import GitHub

__all__ = ["GitHubReleaseSource"]

_SHA = re.compile(r"^[0-9a-f]{40}$")
_BATCH = 100
_PULLS = """
... on Commit { associatedPullRequests(first: 5) { nodes {
  number title merged headRefOid mergeCommit { oid } author { login } } } }"""


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _login(user: Any) -> str | None:
    return _text(user.get("login"), 100) or None if isinstance(user, dict) else None


class GitHubReleaseSource:
    """A ReleaseSource over one GitHub repository and (optionally) one workflow run."""

    def __init__(self, gh: GitHub, *, run_id: int | None = None) -> None:
        self._gh = gh
        self._run_id = run_id

    def tag_names(self) -> Sequence[str]:
        with self._gh.translate("listing the tags", "contents: read"):
            return [tag.name for tag in self._gh.repo.get_tags()]

    def _commits(self, base: str | None, head: str, limit: int) -> list[tuple[str, str | None]]:
        repo = self._gh.repo
        if base is not None:
            compare = repo.compare(base, head, comparison_commits_per_page=250)
            found: Iterator[Any] = iter(compare.commits)
        else:
            found = iter(repo.get_commits(sha=head))
        commits: list[tuple[str, str | None]] = []
        for commit in found:
            if base is None and len(commits) >= limit:
                break
            author = commit.author.login if commit.author is not None else None
            commits.append((commit.sha, author))
        return commits

    def _pulls_of(self, shas: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        owner, name = self._gh.repo_name.split("/", 1)
        parts = [f'c{i}: object(oid: "{sha}") {{{_PULLS}}}' for i, sha in enumerate(shas)]
        query = "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { "
        query += " ".join(parts) + " } }"
        requester = self._gh.client.requester
        _, data = requester.graphql_query(query, {"owner": owner, "name": name})
        repository = (data.get("data") or {}).get("repository") or {}
        pulls: dict[str, list[dict[str, Any]]] = {}
        for i, sha in enumerate(shas):
            node = repository.get(f"c{i}") or {}
            nodes = (node.get("associatedPullRequests") or {}).get("nodes") or []
            pulls[sha] = [n for n in nodes if isinstance(n, dict) and n.get("merged") is True]
        return pulls

    def changes(self, base: str | None, head: str, limit: int) -> Sequence[ReleaseChange]:
        with self._gh.translate(f"listing the changes up to {head}", "contents: read"):
            commits = [(s, a) for s, a in self._commits(base, head, limit) if _SHA.match(s)]
            changes: dict[object, ReleaseChange] = {}
            for start in range(0, len(commits), _BATCH):
                batch = commits[start : start + _BATCH]
                pulls = self._pulls_of([sha for sha, _ in batch])
                for sha, author in batch:
                    for key, change in _changes_of(sha, author, pulls[sha]):
                        changes.setdefault(key, change)
        return list(changes.values())

    def approvals(self) -> Sequence[ReleaseApproval]:
        if self._run_id is None:
            return []
        gh = self._gh
        url = f"{gh.repo.url}/actions/runs/{self._run_id}/approvals"
        with gh.translate(f"reading the approvals of run {self._run_id}", "actions: read"):
            _, data = gh.client.requester.requestJsonAndCheck("GET", url)
        return (
            [a for item in data if (a := _approval(item)) is not None]
            if isinstance(data, list)
            else []
        )


def _changes_of(
    sha: str, author: str | None, pulls: list[dict[str, Any]]
) -> Iterator[tuple[object, ReleaseChange]]:
    if not pulls:
        yield sha, ReleaseChange(kind="direct push", merge_commit=sha, author=author)
        return
    for pr in pulls:
        number = pr.get("number")
        if not isinstance(number, int):
            continue
        merge = (pr.get("mergeCommit") or {}).get("oid")
        yield (
            number,
            ReleaseChange(
                kind="pr",
                number=number,
                title=_text(pr.get("title")),
                head_commit=_text(pr.get("headRefOid"), 64) or None,
                merge_commit=_text(merge, 64) or sha,
                author=_login(pr.get("author")),
            ),
        )


def _approval(item: Any) -> ReleaseApproval | None:
    if not isinstance(item, dict) or item.get("state") != "approved":
        return None
    who = _login(item.get("user"))
    if who is None:
        return None
    names = [
        _text(e.get("name"), 100) for e in item.get("environments") or [] if isinstance(e, dict)
    ]
    return ReleaseApproval(
        who=who,
        when=_text(item.get("created_at") or item.get("submitted_at"), 40) or None,
        comment=_text(item.get("comment"), 1000),
        environment=", ".join(n for n in names if n) or None,
    )
