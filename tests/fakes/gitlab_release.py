"""Release routes for the fake GitLab: tags, compare, a commit listing, merged MRs, deployments.

Payload shapes follow the GitLab REST reference (Tags API; `repository/compare`: `commit`,
`commits[]`, `diffs`, `compare_timeout`; merge requests with `merge_commit_sha`,
`squash_commit_sha`, `sha`; deployments with `sha`, `environment` and `approvals[]` of `user`,
`status`, `created_at`, `comment`). `history` is the branch, oldest commit first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tests.fakes._server import Reply
from tests.fakes.gitlab import FakeGitLab, user


class GitLabReleaseRepo:
    """The project history a release is cut from, served by `fake`."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake
        self.history: list[dict[str, Any]] = []
        self.tags: dict[str, str] = {}
        self.mrs: list[dict[str, Any]] = []
        self.deployments: list[dict[str, Any]] = []
        self.mr_commits: dict[int, list[dict[str, Any]]] = {}
        project = "/projects/(?P<project>[^/]+)"
        mr_commits = project + r"/merge_requests/(?P<iid>\d+)/commits"
        fake.route("GET", mr_commits, self._mr_commits, first=True)
        fake.route("GET", project + "/repository/tags", self._tags)
        fake.route("GET", project + "/repository/compare", self._compare)
        fake.route("GET", project + "/repository/commits", self._commits)
        fake.route("GET", project + "/merge_requests", self._merge_requests)
        fake.route("GET", project + "/deployments", self._deployments)

    def commit(self, sha: str, author: str = "Alice", message: str = "change") -> None:
        """Appends commit `sha` to the branch (a day apart each)."""
        n = len(self.history)
        self.history.append(
            {
                "id": sha,
                "short_id": sha[:8],
                "title": message,
                "message": message,
                "author_name": author,
                "author_email": f"{author.lower()}@example.com",
                "authored_date": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "committer_name": author,
                "committer_email": f"{author.lower()}@example.com",
                "committed_date": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "created_at": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "parent_ids": [self.history[-1]["id"]] if self.history else [],
                "web_url": f"{self.fake.server_url}/{self.fake.repo}/-/commit/{sha}",
            }
        )

    def _merged_mr(
        self, iid: int, author: str, *, head: str, merge: str | None, squash: str | None
    ) -> None:
        """Lists MR !iid as merged (newest first), with the head, merge and squash commits
        GitLab reports for how it was merged."""
        self.mrs.insert(
            0,
            {
                "id": 90000 + iid,
                "iid": iid,
                "project_id": 1,
                "title": f"Change {iid}",
                "state": "merged",
                "author": user(author),
                "sha": head,
                "merge_commit_sha": merge,
                "squash_commit_sha": squash,
                "squash": squash is not None,
                "updated_at": "2026-02-01T00:00:00Z",
                "merged_at": "2026-02-01T00:00:00Z",
                "target_branch": "main",
                "web_url": f"{self.fake.server_url}/{self.fake.repo}/-/merge_requests/{iid}",
            },
        )

    def merged_mr(self, iid: int, sha: str, *, author: str = "dev") -> None:
        """MR !iid merged (squash) as commit `sha` on the branch."""
        self.commit(sha, "Dev", f"Merge branch 'feature-{iid}' into 'main'")
        self._merged_mr(iid, author, head=sha, merge=None, squash=sha)

    def merged_mr_by_merge_commit(
        self, iid: int, branch: list[str], merge: str, *, author: str = "dev"
    ) -> None:
        """MR !iid of the commits `branch` merged without squashing: the branch commits, then
        merge commit `merge` whose parents are the main line and the branch's last commit."""
        mainline = self.history[-1]["id"]
        for sha in branch:
            self.commit(sha, "Dev", f"work on feature-{iid}")
        self.commit(merge, "Dev", f"Merge branch 'feature-{iid}' into 'main'")
        self.history[-1]["parent_ids"] = [mainline, branch[-1]]
        self._merged_mr(iid, author, head=branch[-1], merge=merge, squash=None)

    def merged_mr_by_fast_forward(
        self, iid: int, branch: list[str], *, author: str = "dev"
    ) -> None:
        """MR !iid of the commits `branch` merged by fast-forward: they land on the main line as
        they are, with no merge or squash commit (`merge_commit_sha` and `squash_commit_sha`
        null, `sha` the branch's last commit), and GET merge_requests/:iid/commits lists them."""
        for sha in branch:
            self.commit(sha, "Dev", f"work on feature-{iid}")
        own = self.history[-len(branch) :]
        self.mr_commits[iid] = [dict(c) for c in reversed(own)]  # newest first, as GitLab lists
        self._merged_mr(iid, author, head=branch[-1], merge=None, squash=None)

    def tag(self, name: str) -> None:
        """Tags the newest commit of the branch."""
        self.tags[name] = self.history[-1]["id"]

    def approve(self, username: str, sha: str, environment: str = "production") -> None:
        """`username` approved the deployment of `sha` to `environment`."""
        self.deployments.insert(
            0,
            {
                "id": 41 + len(self.deployments),
                "iid": 2,
                "ref": "v1.1.0",
                "sha": sha,
                "status": "blocked",
                "environment": {"id": 9, "name": environment, "tier": "production"},
                "approvals": [
                    {
                        "user": user(username),
                        "status": "approved",
                        "created_at": "2026-02-02T10:00:00Z",
                        "comment": "LGTM",
                    }
                ],
            },
        )

    def _index(self, ref: str) -> int:
        sha = self.tags.get(ref, ref)
        return next(i for i, c in enumerate(self.history) if c["id"] == sha)

    def _path(self) -> str:
        return self.fake.requests[-1].path[len(self.fake.prefix) :]

    def _tags(self, query: dict[str, str], **_: Any) -> Reply:
        items = [
            {"name": name, "target": sha, "message": "", "protected": True,
             "commit": next(c for c in self.history if c["id"] == sha)}
            for name, sha in reversed(self.tags.items())
        ]  # fmt: skip
        return self.fake.page(items, self._path(), query)

    def _compare(self, query: dict[str, str], **_: Any) -> Reply:
        first, last = self._index(unquote(query["from"])), self._index(unquote(query["to"]))
        commits = self.history[first + 1 : last + 1]
        body = {
            "commit": commits[-1] if commits else None,
            "commits": commits,
            "diffs": [],
            "compare_timeout": False,
            "compare_same_ref": False,
            "web_url": f"{self.fake.server_url}/{self.fake.repo}/-/compare/{first}...{last}",
        }
        return 200, {}, body

    def _commits(self, query: dict[str, str], **_: Any) -> Reply:
        last = self._index(unquote(query.get("ref_name", self.history[-1]["id"])))
        return self.fake.page(list(reversed(self.history[: last + 1])), self._path(), query)

    def _merge_requests(self, query: dict[str, str], **_: Any) -> Reply:
        listed = [m for m in self.mrs if m["state"] == query.get("state", m["state"])]
        return self.fake.page(listed, self._path(), query)

    def _mr_commits(self, query: dict[str, str], iid: str, **_: Any) -> Reply:
        listed = self.mr_commits.get(int(iid), self.fake.commits)  # else the fake's own MR
        return self.fake.page(listed, self._path(), query)

    def _deployments(self, query: dict[str, str], **_: Any) -> Reply:
        return self.fake.page(self.deployments, self._path(), query)
