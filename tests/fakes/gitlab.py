"""A fake GitLab REST API (v4) on loopback, answering with payloads shaped like the corpus.

Serves one project and one merge request: the MR, approvals, approval_state, project approval
settings, commits, diffs, reviewers, versions, pipeline jobs and test report, raw repository files
(CODEOWNERS), group members, MR notes (created and updated) and commit statuses; and repository
commits with their last pipeline and the MRs that contain them (`merge`, `push_commit`).
`prefix` is where the API lives: `/api/v4` (gitlab.com) or e.g. `/gitlab/api/v4` (self-managed).
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import unquote

from tests.conftest import ASSETS
from tests.fakes._server import FakeServer, Reply

_DIR = ASSETS / "connectors" / "gitlab-api"  # copied from the shared corpus (MANIFEST.tsv)


def _load(name: str) -> Any:
    return json.loads((_DIR / name).read_text(encoding="utf-8"))


def user(username: str, *, bot: bool = False, name: str | None = None) -> dict[str, Any]:
    """A GitLab user object."""
    return {
        "id": abs(hash(username)) % 1_000_000,
        "username": username,
        "name": name or username.title(),
        "state": "active",
        "bot": bot,
        "web_url": f"https://gitlab.example.com/{username}",
    }


_LAST_PIPELINE = ("id", "iid", "project_id", "sha", "ref", "status", "created_at", "web_url")
_DETAIL_ONLY = ("pipeline", "head_pipeline", "diff_refs", "merge_error", "user", "changes_count")


class FakeGitLab(FakeServer):
    """The fake; tests fill `approved_by`, `rules`, `settings`, `jobs`, `files`, `contents`."""

    def __init__(
        self,
        *,
        repo: str = "group/app",
        number: int = 27117,
        base: str = "/gitlab",
        token: str | None = None,
    ) -> None:
        super().__init__(token=token)
        self._ids = itertools.count(500)
        self.base = base
        self.prefix = base + "/api/v4"
        self.repo = repo
        self.number = number
        self.head = "28531ab43666b5fdf37e0a70db3bcbf7d3f92183"
        self.author = "smcgivern"
        self.description: str | None = None  # None: the recorded MR's own description
        self.approved_by: list[dict[str, Any]] = []
        self.rules: list[dict[str, Any]] = []
        self.settings: dict[str, Any] | None = {"reset_approvals_on_push": False}
        self.reviewers: list[dict[str, Any]] | None = []
        self.versions: list[dict[str, Any]] = []
        self.commits = [self._commit(self.head, "Sean McGivern", "QA-7 stable roulette")]
        self.files = ["danger/roulette/Dangerfile", "lib/gitlab/danger/helper.rb"]
        self.pipeline: dict[str, Any] | None = self._pipeline()
        self.jobs = [self._job("rspec", "success"), self._job("lint", "success")]
        self.test_report: dict[str, Any] = _load("pipeline_test_report.json")
        self.contents: dict[str, str] = {}
        self.groups: dict[str, list[str]] = {}
        self.notes: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.state = "opened"
        self.merge_commit_sha: str | None = None
        self.repo_commits: dict[str, dict[str, Any]] = {}
        self.commit_mrs: dict[str, list[dict[str, Any]]] = {}
        self.archives: dict[int, bytes] = {}  # job id -> its artifacts.zip
        self.object_store: Any = None  # a BlobStore: archives are then served by a redirect
        self._routes()

    @property
    def server_url(self) -> str:
        """The URL a python-gitlab client is given (no /api/v4)."""
        return self.root + self.base

    def authorized(self, headers: dict[str, str]) -> bool:
        return self.token in (headers.get("private-token"), headers.get("job-token"))

    # -- builders ---------------------------------------------------------------------------
    def approve(
        self,
        username: str,
        *,
        bot: bool = False,
        approved_at: str | None = None,
        name: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {"user": user(username, bot=bot, name=name)}
        if approved_at is not None:
            entry["approved_at"] = approved_at
        self.approved_by.append(entry)

    def _commit(self, sha: str, author: str, message: str) -> dict[str, Any]:
        return {
            "id": sha,
            "short_id": sha[:8],
            "title": message.splitlines()[0],
            "message": message,
            "author_name": author,
            "author_email": f"{author.split(maxsplit=1)[0].lower()}@example.com",
            "committer_name": author,
            "committer_email": "noreply@example.com",
            "created_at": "2026-11-25T09:00:00Z",
            "parent_ids": [],
        }

    def add_commit(self, sha: str, author: str, message: str) -> None:
        self.commits.insert(0, self._commit(sha, author, message))

    def push_commit(self, sha: str, author: str, message: str) -> None:
        """A commit on a branch or tag (not in the MR), whose last pipeline is the fake's."""
        last = {k: v for k, v in (self.pipeline or {}).items() if k in _LAST_PIPELINE}
        self.repo_commits[sha] = {
            **self._commit(sha, author, message),
            "last_pipeline": {**last, "sha": sha} if last else None,
            "status": last.get("status"),
        }

    def merge(self, sha: str) -> None:
        """The merge request was merged as commit `sha` (listed by commits/:sha/merge_requests)."""
        self.push_commit(
            sha, "Sean McGivern", f"Merge branch 'stable-reviewer-roulette'\n\n!{self.number}"
        )
        self.state = "merged"
        self.merge_commit_sha = sha
        listed = {k: v for k, v in self.merge_request().items() if k not in _DETAIL_ONLY}
        self.commit_mrs[sha] = [listed]

    def _pipeline(self) -> dict[str, Any]:
        pipeline = _load("merge_request_gitlab-foss-27117.json")["head_pipeline"]
        pipeline.update(id=46, sha=self.head, status="success", coverage="76.34")
        return dict(pipeline)

    def _job(self, name: str, status: str, *, allow_failure: bool = False) -> dict[str, Any]:
        job = _load("job.json")
        job.update(id=next(self._ids), name=name, status=status, allow_failure=allow_failure)
        return dict(job)

    def add_job(self, name: str, status: str, *, allow_failure: bool = False) -> None:
        self.jobs.append(self._job(name, status, allow_failure=allow_failure))

    def add_report_job(
        self, name: str, archive: bytes | None, *, reports: tuple[str, ...] = ("junit", "cobertura")
    ) -> dict[str, Any]:
        """A job declaring `reports` (artifacts:reports) whose archive is `archive` (None: the
        job has no archive, its reports are not in artifacts:paths)."""
        job = self._job(name, "success")
        entries = [
            {"file_type": "metadata", "size": 186, "filename": "metadata.gz", "file_format": "gzip"}
        ]
        if archive is not None:
            entries.insert(
                0,
                {
                    "file_type": "archive",
                    "size": len(archive),
                    "filename": "artifacts.zip",
                    "file_format": "zip",
                },
            )
            self.archives[int(job["id"])] = archive
        for kind in reports:
            entries.append(
                {
                    "file_type": kind,
                    "size": 750,
                    "filename": f"{kind}.xml.gz",
                    "file_format": "gzip",
                }
            )
        job["artifacts"] = entries
        job["artifacts_file"] = {"filename": "artifacts.zip", "size": len(archive or b"")}
        self.jobs.append(job)
        return job

    def _get_pipeline(self, *, pid: str, **_: Any) -> Reply:
        pipeline = _load("pipeline.json")
        pipeline.update(id=int(pid), sha=self.head, status="success")
        return 200, {}, pipeline

    def _job_artifacts(self, *, job: str, **_: Any) -> Reply:
        data = self.archives.get(int(job))
        if data is None:
            return 404, {}, {"message": "404 Not found"}
        if self.object_store is not None:  # gitlab.com: a redirect to the CDN / object storage
            self.object_store.blobs[f"job-{job}"] = data
            return 302, {"Location": f"{self.object_store.url}/blobs/job-{job}?token=signed"}, None
        return 200, {"Content-Type": "application/zip"}, data

    def merge_request(self) -> dict[str, Any]:
        mr = _load("merge_request_gitlab-foss-27117.json")
        mr.update(
            iid=self.number,
            sha=self.head,
            state=self.state,
            head_pipeline=self.pipeline,
            author=user(self.author, name="Sean McGivern"),
            web_url=f"{self.server_url}/{self.repo}/-/merge_requests/{self.number}",
        )
        if self.merge_commit_sha is not None:
            mr["merge_commit_sha"] = self.merge_commit_sha
        if self.description is not None:
            mr["description"] = self.description
        return dict(mr)

    # -- routes -----------------------------------------------------------------------------
    def _routes(self) -> None:
        project = "/projects/(?P<project>[^/]+)"
        mr = project + r"/merge_requests/(?P<iid>\d+)"
        self.route("GET", mr, lambda **_: (200, {}, self.merge_request()))
        self.route("GET", mr + "/approvals", self._approvals)
        self.route("GET", mr + "/approval_state", self._approval_state)
        self.route("GET", project + "/approvals", self._settings)
        self.route("GET", mr + "/commits", self._paged(lambda: self.commits))
        self.route("GET", mr + "/diffs", self._paged(self._diffs))
        self.route("GET", mr + "/reviewers", self._reviewers)
        self.route("GET", mr + "/versions", self._paged(lambda: self.versions))
        self.route("GET", project + r"/pipelines/(?P<pid>\d+)/jobs", self._paged(lambda: self.jobs))
        self.route(
            "GET",
            project + r"/pipelines/(?P<pid>\d+)/test_report",
            lambda **_: (200, {}, self.test_report),
        )
        self.route("GET", project + r"/pipelines/(?P<pid>\d+)", self._get_pipeline)
        self.route("GET", project + r"/jobs/(?P<job>\d+)/artifacts", self._job_artifacts)
        self.route("GET", project + "/repository/files/(?P<path>[^/]+)/raw", self._raw)
        commit = project + "/repository/commits/(?P<sha>[0-9a-f]+)"
        self.route("GET", commit, self._repo_commit)
        self.route("GET", commit + "/merge_requests", self._commit_mrs)
        self.route("GET", "/groups/(?P<group>[^/]+)/members/all", self._members)
        self.route("GET", mr + "/notes", self._paged(lambda: self.notes))
        self.route("POST", mr + "/notes", self._post_note)
        self.route("PUT", mr + r"/notes/(?P<note>\d+)", self._put_note)
        self.route("POST", project + "/statuses/(?P<sha>[0-9a-f]+)", self._post_status)

    def _paged(self, items: Any) -> Any:
        def handler(*, query: dict[str, str], **parts: Any) -> Reply:
            path = self.requests[-1].path[len(self.prefix) :]
            return self.page(list(items()), path, query)

        return handler

    def _commit_mrs(self, *, sha: str, query: dict[str, str], **_: Any) -> Reply:
        path = self.requests[-1].path[len(self.prefix) :]
        return self.page(self.commit_mrs.get(sha, []), path, query)

    def _repo_commit(self, *, sha: str, **_: Any) -> Reply:
        found = self.repo_commits.get(sha)
        if found is None:
            return 404, {}, {"message": "404 Commit Not Found"}
        return 200, {}, found

    def _diffs(self) -> list[dict[str, Any]]:
        return [
            {
                "old_path": f,
                "new_path": f,
                "a_mode": "100644",
                "b_mode": "100644",
                "diff": "@@ -1 +1 @@\n-a\n+b\n",
                "new_file": False,
                "renamed_file": False,
                "deleted_file": False,
            }
            for f in self.files
        ]

    def _approvals(self, **_: Any) -> Reply:
        payload = _load("merge_request_approvals_gitlab-foss-27117.json")
        payload.update(
            iid=self.number, approved_by=self.approved_by, approved=bool(self.approved_by)
        )
        return 200, {}, payload

    def _approval_state(self, **_: Any) -> Reply:
        state = _load("approval_state.json")
        state["rules"] = self.rules
        return 200, {}, state

    def _settings(self, **_: Any) -> Reply:
        if self.settings is None:
            return 404, {}, {"message": "404 Not Found"}
        return (
            200,
            {},
            {
                "approvals_before_merge": 0,
                "reset_approvals_on_push": False,
                "merge_requests_author_approval": False,
                "merge_requests_disable_committers_approval": False,
                **self.settings,
            },
        )

    def _reviewers(self, **_: Any) -> Reply:
        if self.reviewers is None:
            return 404, {}, {"error": "404 Not Found"}
        return 200, {}, self.reviewers

    def _raw(self, *, path: str, query: dict[str, str], **_: Any) -> Reply:
        text = self.contents.get(unquote(path))
        if text is None:
            return 404, {}, {"message": "404 File Not Found"}
        return 200, {}, text.encode()

    def _members(self, *, group: str, query: dict[str, str], **_: Any) -> Reply:
        members = self.groups.get(unquote(group))
        if members is None:
            return 404, {}, {"message": "404 Group Not Found"}
        return self.page([user(m) for m in members], f"/groups/{group}/members/all", query)

    def _post_note(self, *, body: Any, **_: Any) -> Reply:
        note = {
            "id": next(self._ids),
            "body": body["body"],
            "author": user("gatekeeper-bot"),
            "system": False,
            "noteable_type": "MergeRequest",
            "noteable_iid": self.number,
            "created_at": "2026-11-25T10:00:00Z",
            "updated_at": "2026-11-25T10:00:00Z",
        }
        self.notes.append(note)
        return 201, {}, note

    def _put_note(self, *, body: Any, note: str, **_: Any) -> Reply:
        for existing in self.notes:
            if str(existing["id"]) == note:
                existing["body"] = body["body"]
                return 200, {}, existing
        return 404, {}, {"message": "404 Not found"}

    def _post_status(self, *, body: Any, sha: str, **_: Any) -> Reply:
        status = {
            "id": next(self._ids),
            "sha": sha,
            "status": body["state"],
            **body,
            "author": user("gatekeeper-bot"),
            "created_at": "2026-11-25T10:00:00Z",
        }
        self.statuses.append(status)
        return 201, {}, status
