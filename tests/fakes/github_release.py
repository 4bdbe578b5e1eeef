"""Release routes for the fake GitHub: tags, compare, a commit listing, GraphQL, run approvals.

Payload shapes follow the GitHub REST reference ("Compare two commits": `total_commits`,
`commits[]`, `base_commit`, `merge_base_commit`; "List tags"; "Get the review history for a
workflow run": `environments[]`, `state`, `user`, `comment`) and the GraphQL
`Commit.associatedPullRequests` connection. `history` is the branch, oldest commit first.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes._server import Reply
from tests.fakes.github import FakeGitHub, _user

_OBJECT = re.compile(r'(c\d+): object\(oid: "([0-9a-f]{40})"\)')


class ReleaseRepo:
    """The repository history a release is cut from, served by `fake`."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.history: list[dict[str, Any]] = []
        self.tags: dict[str, str] = {}
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.approvals: list[dict[str, Any]] = []
        repo = "/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        fake.route("GET", repo + "/tags", self._tags)
        fake.route("GET", repo + "/compare/(?P<basehead>.+)", self._compare)
        fake.route("GET", repo + "/commits", self._commits)
        fake.route("GET", repo + r"/actions/runs/(?P<run>\d+)/approvals", self._approvals)
        fake.route("POST", "/graphql", self._graphql)

    # -- builders ---------------------------------------------------------------------------
    def commit(self, sha: str, login: str = "alice", message: str = "change") -> None:
        """Appends commit `sha` to the branch."""
        payload = self.fake._commit(sha, login, message)
        if self.history:
            payload["parents"] = [{"sha": self.history[-1]["sha"], "url": "", "html_url": ""}]
        self.history.append(payload)
        self.fake.pushed.append(payload)  # GET commits/{sha} finds it too

    def merged_pr(
        self, number: int, sha: str, *, head: str | None = None, author: str = "dev"
    ) -> None:
        """PR `number` merged (squash) as commit `sha` on the branch."""
        self.commit(sha, "web-flow", f"PR #{number}")
        self.pulls[sha] = [
            {
                "number": number,
                "title": f"Change {number}",
                "merged": True,
                "headRefOid": head or sha,
                "mergeCommit": {"oid": sha},
                "author": {"login": author},
            }
        ]

    def rebased_pr(self, number: int, shas: list[str], *, head: str, author: str = "dev") -> None:
        """PR `number` merged by "Rebase and merge": its commits land on the branch as new
        commits `shas`, each associated with the PR; `mergeCommit` is the last of them and
        `headRefOid` the branch's own head (the commit CI ran on)."""
        for sha in shas:
            self.commit(sha, "web-flow", f"work on #{number}")
            self.pulls[sha] = [
                {
                    "number": number,
                    "title": f"Change {number}",
                    "merged": True,
                    "headRefOid": head,
                    "mergeCommit": {"oid": shas[-1]},
                    "author": {"login": author},
                }
            ]

    def tag(self, name: str) -> None:
        """Tags the newest commit of the branch."""
        self.tags[name] = self.history[-1]["sha"]

    def approve(self, login: str, environment: str = "production", comment: str = "") -> None:
        """`login` approved the run's deployment to `environment`."""
        self.approvals.append(
            {
                "environments": [
                    {
                        "id": 161088068,
                        "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
                        "name": environment,
                        "url": f"https://api.github.com/repos/{self.fake.repo}/environments/"
                        + environment,
                        "html_url": f"https://github.com/{self.fake.repo}/deployments/"
                        f"activity_log?environments_filter={environment}",
                        "created_at": "2026-11-20T22:00:40Z",
                        "updated_at": "2026-11-20T22:00:40Z",
                    }
                ],
                "state": "approved",
                "user": _user(login),
                "comment": comment,
            }
        )

    # -- routes -----------------------------------------------------------------------------
    def _index(self, ref: str) -> int:
        sha = self.tags.get(ref, ref)
        return next(i for i, c in enumerate(self.history) if c["sha"] == sha)

    def _tags(self, query: dict[str, str], **_: Any) -> Reply:
        items = [
            {
                "name": name,
                "commit": {"sha": sha, "url": f"https://api.github.com/repos/{self.fake.repo}"},
                "zipball_url": f"https://api.github.com/repos/{self.fake.repo}/zipball/{name}",
                "tarball_url": f"https://api.github.com/repos/{self.fake.repo}/tarball/{name}",
                "node_id": "MDM6UmVmcmVmcy90YWdzL3YwLjE=",
            }
            for name, sha in reversed(self.tags.items())
        ]
        return self.fake.page(items, f"/repos/{self.fake.repo}/tags", query)

    def _compare(self, basehead: str, query: dict[str, str], **_: Any) -> Reply:
        base, head = basehead.split("...", 1)
        first, last = self._index(base), self._index(head)
        commits = self.history[first + 1 : last + 1]
        path = f"/repos/{self.fake.repo}/compare/{basehead}"
        status, headers, chunk = self.fake.page(commits, path, query)
        url = f"https://api.github.com{path}"
        body = {
            "url": url,
            "html_url": f"https://github.com/{self.fake.repo}/compare/{basehead}",
            "permalink_url": url,
            "diff_url": url + ".diff",
            "patch_url": url + ".patch",
            "base_commit": self.history[first],
            "merge_base_commit": self.history[first],
            "status": "ahead",
            "ahead_by": len(commits),
            "behind_by": 0,
            "total_commits": len(commits),
            "commits": chunk,
            "files": [],
        }
        return status, headers, body

    def _commits(self, query: dict[str, str], **_: Any) -> Reply:
        last = self._index(query.get("sha", self.history[-1]["sha"]))
        newest_first = list(reversed(self.history[: last + 1]))
        return self.fake.page(newest_first, f"/repos/{self.fake.repo}/commits", query)

    def _approvals(self, **_: Any) -> Reply:
        return 200, {}, self.approvals

    def _graphql(self, body: Any, **_: Any) -> Reply:
        found = _OBJECT.findall(body["query"])
        repository = {
            alias: {"associatedPullRequests": {"nodes": self.pulls.get(sha, [])}}
            for alias, sha in found
        }
        return 200, {}, {"data": {"repository": repository}}
