"""The release source of GitLab: tags, commits between two refs, their MRs, deployment approvals.

Requests for a release of N commits: the tags (100 a page), ONE compare (`repository/compare`
answers every commit at once; a first release lists commits, 100 a page), the merged merge
requests updated since the oldest commit of the range (100 a page, matched on their merge, squash
and head commits; stopped as soon as every commit of the main line is matched), and the newest
deployments, whose `approvals` of the tagged commit are the release approvals. The commits of an
MR merged with a merge commit (not squashed) are reached through that commit's other parents in
the compare and belong to its MR. An MR merged by fast-forward (no merge or squash commit) puts
its own commits on the main line: when the commit before its head is not matched, its commits are
listed (one request per such MR, not per commit) and the ones in the range belong to it. A commit
no MR merged is a `direct push`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from gatekeeper.facts import ReleaseApproval, ReleaseChange

if TYPE_CHECKING:
    from connectors.gitlab import GitLab

__all__ = ["GitLabReleaseSource"]


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _username(user: Any) -> str | None:
    return (_text(user.get("username"), 100) or None) if isinstance(user, dict) else None


class GitLabReleaseSource:
    """A ReleaseSource over one GitLab project; `tag_commit` is the commit the tag points at."""

    def __init__(self, gl: GitLab, *, tag_commit: str | None = None) -> None:
        self._gl = gl
        self._tag_commit = tag_commit

    def tag_names(self) -> Sequence[str]:
        with self._gl.translate("listing the tags", "read_api"):
            tags = self._gl.project.tags.list(iterator=True, per_page=100)
            return [_text(tag.attributes.get("name")) for tag in tags]

    def _commits(
        self, base: str | None, head: str, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The commits of the range, oldest first, and the id of its head commit."""
        project = self._gl.project
        if base is not None:
            compared = project.repository_compare(base, head)
            compared = compared if isinstance(compared, dict) else {}
            tip = compared.get("commit")
            commits = [c for c in compared.get("commits") or [] if isinstance(c, dict)]
            return commits, tip.get("id") if isinstance(tip, dict) else None
        found: list[dict[str, Any]] = []
        for commit in project.commits.list(ref_name=head, iterator=True, per_page=100):
            if len(found) >= limit:
                break
            found.append(commit.attributes)
        return list(reversed(found)), found[0].get("id") if found else None

    def _merged(self, shas: set[str], since: str | None) -> dict[str, dict[str, Any]]:
        """The merged MR of each commit in `shas` that one merged, scanning newest first."""
        kwargs: dict[str, Any] = {"state": "merged", "order_by": "updated_at", "sort": "desc"}
        if since:
            kwargs["updated_after"] = since
        by_commit: dict[str, dict[str, Any]] = {}
        for mr in self._gl.project.mergerequests.list(iterator=True, per_page=100, **kwargs):
            attributes = mr.attributes
            for key in ("merge_commit_sha", "squash_commit_sha", "sha"):
                sha = attributes.get(key)
                if isinstance(sha, str) and sha in shas and sha not in by_commit:
                    by_commit[sha] = attributes
            if len(by_commit) == len(shas):
                break
        return by_commit

    def _fast_forwarded(
        self, graph: dict[str, list[str]], mainline: set[str], merged: dict[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """The MR of each unmatched main-line commit that a fast-forwarded MR brought in."""
        claimed: dict[str, dict[str, Any]] = {}
        for head, mr in merged.items():
            parents = graph.get(head) or []
            before = parents[0] if parents else None
            if not _fast_forward(mr, head) or before is None or before not in mainline:
                continue
            if before in merged or before in claimed:
                continue  # a one-commit MR: nothing before its head is left to claim
            commits = self._gl.project.mergerequests.get(mr["iid"], lazy=True).commits(per_page=100)
            for commit in commits:
                sha = commit.attributes.get("id")
                if isinstance(sha, str) and sha in mainline and sha not in merged:
                    claimed.setdefault(sha, mr)
        return claimed

    def changes(self, base: str | None, head: str, limit: int) -> Sequence[ReleaseChange]:
        with self._gl.translate(f"listing the changes up to {head}", "read_api"):
            commits, tip = self._commits(base, head, limit)
            graph = {c["id"]: _parents(c) for c in commits if isinstance(c.get("id"), str)}
            mainline = _first_parents(graph, tip) or set(graph)
            dates = sorted(_text(c.get("committed_date"), 40) for c in commits)
            merged = self._merged(mainline, dates[0] if dates and dates[0] else None)
            merged = {**self._fast_forwarded(graph, mainline, merged), **merged}
        merged = {**_branch_commits(graph, mainline, merged), **merged}
        changes: dict[object, ReleaseChange] = {}
        for commit in commits:
            for key, change in _changes_of(commit, merged.get(commit.get("id", ""))):
                changes.setdefault(key, change)
        return list(changes.values())

    def approvals(self) -> Sequence[ReleaseApproval]:
        if self._tag_commit is None:
            return []
        with self._gl.translate("reading the deployment approvals", "read_api"):
            deployments = self._gl.project.deployments.list(
                order_by="id", sort="desc", per_page=20, get_all=False
            )
        found: list[ReleaseApproval] = []
        for deployment in deployments:
            attributes = deployment.attributes
            if attributes.get("sha") != self._tag_commit:
                continue
            environment = attributes.get("environment")
            name = _text(environment.get("name"), 100) if isinstance(environment, dict) else ""
            for item in attributes.get("approvals") or []:
                if approval := _approval(item, name or None):
                    found.append(approval)
        return found


def _parents(commit: dict[str, Any]) -> list[str]:
    parents = commit.get("parent_ids")
    return [p for p in parents if isinstance(p, str)] if isinstance(parents, list) else []


def _fast_forward(mr: dict[str, Any], head: str) -> bool:
    """Whether `mr` was merged by fast-forward with `head`, its own head commit, on the line."""
    return (
        mr.get("sha") == head
        and not mr.get("merge_commit_sha")
        and not mr.get("squash_commit_sha")
        and isinstance(mr.get("iid"), int)
    )


def _first_parents(graph: dict[str, list[str]], tip: str | None) -> set[str]:
    """The main line of the range: the tip and its first parents, while inside the range."""
    chain: set[str] = set()
    while tip is not None and tip in graph and tip not in chain:
        chain.add(tip)
        tip = graph[tip][0] if graph[tip] else None
    return chain


def _branch_commits(
    graph: dict[str, list[str]], mainline: set[str], merged: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The MR of each commit reached through a merge commit's other parents (its branch)."""
    claimed: dict[str, dict[str, Any]] = {}
    for merge, mr in merged.items():
        pending = list(graph.get(merge, [])[1:])
        while pending:
            sha = pending.pop()
            if sha in graph and sha not in mainline and sha not in claimed and sha not in merged:
                claimed[sha] = mr
                pending.extend(graph[sha])
    return claimed


def _changes_of(
    commit: dict[str, Any], mr: dict[str, Any] | None
) -> Iterator[tuple[object, ReleaseChange]]:
    sha = _text(commit.get("id"), 64)
    if mr is None or not isinstance(mr.get("iid"), int):
        author = _text(commit.get("author_name"), 100) or None
        yield sha, ReleaseChange(kind="direct push", merge_commit=sha, author=author)
        return
    merge = mr.get("merge_commit_sha") or mr.get("squash_commit_sha") or sha
    yield (
        mr["iid"],
        ReleaseChange(
            kind="mr",
            number=mr["iid"],
            title=_text(mr.get("title")),
            head_commit=_text(mr.get("sha"), 64) or None,
            merge_commit=_text(merge, 64),
            author=_username(mr.get("author")),
        ),
    )


def _approval(item: Any, environment: str | None) -> ReleaseApproval | None:
    if not isinstance(item, dict) or item.get("status") != "approved":
        return None
    who = _username(item.get("user"))
    if who is None:
        return None
    return ReleaseApproval(
        who=who,
        when=_text(item.get("created_at"), 40) or None,
        comment=_text(item.get("comment"), 1000),
        environment=environment,
    )
