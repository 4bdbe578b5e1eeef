"""A fake GitHub REST API on loopback, answering with payloads shaped like the corpus recordings.

Serves one repository and one pull request: the PR, its reviews, commits and files, check runs and
combined status of a commit, the pull requests associated with a commit (`merge` makes the PR the
one that merged a pushed commit), contents (CODEOWNERS), team members, issue comments, commit
statuses and check runs (created and updated). `prefix="/api/v3"` makes it GitHub Enterprise Server.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from pathlib import Path
from typing import Any

from tests.conftest import ASSETS
from tests.fakes._server import FakeServer, Reply

_DIR = ASSETS / "connectors" / "github-api"  # copied from the shared corpus (MANIFEST.tsv)
SECONDARY_LIMIT = {
    "message": "You have exceeded a secondary rate limit. "
    "Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
NO_ACCESS = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest",
}


def _load(name: str) -> Any:
    return json.loads((_DIR / name).read_text(encoding="utf-8"))


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    user = copy.deepcopy(_load("rest_pull_request_reviews.json")[0]["user"])
    text = json.dumps(user).replace("<GITHUB_LOGIN>", login)
    user = json.loads(text)
    user.update(login=login, type=kind, id=abs(hash(login)) % 10_000_000)
    return user


_DETAIL_ONLY = (  # keys of a single pull request that lists of pull requests leave out
    "merged",
    "mergeable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)


def _listed(pr: dict[str, Any]) -> dict[str, Any]:
    """A pull request as a list endpoint (e.g. commits/{sha}/pulls) gives it."""
    return {k: v for k, v in pr.items() if k not in _DETAIL_ONLY}


class FakeGitHub(FakeServer):
    """The fake; tests fill `reviews`, `commits`, `files`, `check_runs`, `statuses`, `contents`."""

    def __init__(
        self, *, repo: str = "octo/app", number: int = 7, prefix: str = "", token: str | None = None
    ) -> None:
        super().__init__(token=token)
        self.prefix = prefix
        self.repo = repo
        self.number = number
        self.head = "c0ffee" + "0" * 34
        self.head_ref = "feature/QA-12-login"
        self.base_ref = "main"
        self.title = "QA-12: stricter login"
        self.body: str | None = None
        self.author = "alice"
        self.labels = ["release"]
        self.reviews: list[dict[str, Any]] = []
        self.commits: list[dict[str, Any]] = []
        self.files = ["src/app/login.py", "docs/guide.md"]
        self.check_runs: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.contents: dict[str, str] = {}
        self.teams: dict[str, list[str]] = {}
        self.comments: list[dict[str, Any]] = []
        self.created_statuses: list[dict[str, Any]] = []
        self.created_check_runs: list[dict[str, Any]] = []
        self.merged_at: str | None = None
        self.merge_commit_sha: str | None = None
        self.pushed: list[dict[str, Any]] = []  # commits on a branch, not in the PR
        self.associated: dict[str, list[dict[str, Any]]] = {}  # sha -> PRs containing it
        self.closing_issues: list[dict[str, Any]] = []  # closingIssuesReferences nodes
        self._ids = itertools.count(1000)
        self._routes()
        self.add_commit(self.head, "alice", "QA-12 tighten the login check")

    # -- builders ---------------------------------------------------------------------------
    def add_review(
        self, login: str, state: str, *, commit: str | None = None, kind: str = "User"
    ) -> None:
        review = copy.deepcopy(_load("rest_pull_request_reviews.json")[0])
        review.update(
            id=next(self._ids),
            user=_user(login, kind),
            state=state,
            commit_id=commit or self.head,
            submitted_at="2026-11-25T10:00:00Z",
            pull_request_url=f"https://api.github.com/repos/{self.repo}/pulls/{self.number}",
        )
        self.reviews.append(review)

    def add_commit(self, sha: str, login: str, message: str) -> None:
        self.commits.insert(0, self._commit(sha, login, message))

    def push_commit(self, sha: str, login: str, message: str) -> None:
        """A commit on a branch that is not part of the pull request (a merge or direct push)."""
        self.pushed.append(self._commit(sha, login, message))

    def merge(self, sha: str, *, other_open: bool = False) -> None:
        """The pull request was merged as commit `sha` (listed by commits/{sha}/pulls)."""
        self.push_commit(sha, "web-flow", f"Merge pull request #{self.number} from octo/feature")
        self.merged_at = "2026-11-25T11:00:00Z"
        self.merge_commit_sha = sha
        found = []
        if other_open:  # e.g. a still open PR from main into a release branch
            other = self.pull_request()
            other.update(number=self.number + 1, state="open", merged_at=None)
            other["merge_commit_sha"] = "e" * 40
            found.append(_listed(other))
        self.associated[sha] = [*found, _listed(self.pull_request())]

    def _commit(self, sha: str, login: str, message: str) -> dict[str, Any]:
        person = {
            "name": login.title(),
            "email": f"{login}@example.com",
            "date": "2026-11-25T09:00:00Z",
        }
        url = f"https://api.github.com/repos/{self.repo}/commits/{sha}"
        return {
            "sha": sha,
            "node_id": "C_" + sha[:8],
            "url": url,
            "html_url": f"https://github.com/{self.repo}/commit/{sha}",
            "commit": {
                "author": person,
                "committer": person,
                "message": message,
                "tree": {"sha": sha, "url": url},
                "url": url,
                "comment_count": 0,
            },
            "author": _user(login),
            "committer": _user(login),
            "parents": [],
        }

    def add_check_run(
        self,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        *,
        sha: str | None = None,
    ) -> None:
        run = copy.deepcopy(_load("rest_check_runs_for_ref.json")["check_runs"][0])
        text = json.dumps(run).replace("<GITHUB_LOGIN>/<GITHUB_TEST_REPOSITORY>", self.repo)
        run = json.loads(text)
        run.update(
            id=next(self._ids),
            name=name,
            status=status,
            conclusion=conclusion,
            head_sha=sha or self.head,
        )
        self.check_runs.append(run)

    def add_status(self, context: str, state: str) -> None:
        self.statuses.append(
            {
                "url": f"https://api.github.com/repos/{self.repo}/statuses/{self.head}",
                "id": next(self._ids),
                "state": state,
                "description": state,
                "target_url": None,
                "context": context,
                "creator": _user("ci-bot"),
                "created_at": "2026-11-25T10:00:00Z",
                "updated_at": "2026-11-25T10:00:00Z",
            }
        )

    # -- payloads ---------------------------------------------------------------------------
    def pull_request(self) -> dict[str, Any]:
        text = (_DIR / "rest_pull_request.json").read_text(encoding="utf-8")
        text = text.replace("api-playground/<GITHUB_TEST_REPOSITORY>", self.repo)
        text = text.replace("<GITHUB_LOGIN>", self.author)
        pr = json.loads(text)
        url = f"https://api.github.com/repos/{self.repo}"
        pr.update(
            number=self.number,
            title=self.title,
            body=self.body,
            url=f"{url}/pulls/{self.number}",
            issue_url=f"{url}/issues/{self.number}",
            html_url=f"https://github.com/{self.repo}/pull/{self.number}",
            labels=[
                {
                    "id": i,
                    "name": name,
                    "color": "ededed",
                    "default": False,
                    "url": f"{url}/labels/{name}",
                }
                for i, name in enumerate(self.labels)
            ],
        )
        if self.merged_at is not None:
            pr.update(
                state="closed", merged=True, merged_at=self.merged_at, closed_at=self.merged_at
            )
            pr["merge_commit_sha"] = self.merge_commit_sha
        pr["head"].update(ref=self.head_ref, sha=self.head)
        pr["base"].update(ref=self.base_ref)
        pr["user"] = _user(self.author)
        return pr

    def _file(self, name: str) -> dict[str, Any]:
        item = copy.deepcopy(_load("rest_pull_request_files.json")[0])
        item.update(
            filename=name,
            contents_url=f"https://api.github.com/repos/{self.repo}"
            f"/contents/{name}?ref={self.head}",
        )
        return item

    # -- routes -----------------------------------------------------------------------------
    def _routes(self) -> None:
        repo = "/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        pull = repo + r"/pulls/(?P<number>\d+)"
        self.route("GET", pull, self._get_pull)
        self.route("GET", pull + "/reviews", self._list("reviews"))
        self.route("GET", pull + "/commits", self._list("commits"))
        self.route("GET", pull + "/files", self._get_files)
        self.route("GET", repo + "/commits/(?P<sha>[^/]+)/check-runs", self._get_check_runs)
        self.route("GET", repo + "/commits/(?P<sha>[^/]+)/status", self._get_status)
        self.route("GET", repo + "/commits/(?P<sha>[^/]+)/pulls", self._get_commit_pulls)
        self.route("GET", repo + "/commits/(?P<sha>[0-9a-f]+)", self._get_commit)
        self.route("GET", repo + "/contents/(?P<path>.+)", self._get_contents)
        self.route("GET", "/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)/members", self._members)
        self.route("GET", repo + r"/issues/(?P<number>\d+)/comments", self._list("comments"))
        self.route("POST", repo + r"/issues/(?P<number>\d+)/comments", self._post_comment)
        self.route("PATCH", repo + r"/issues/comments/(?P<id>\d+)", self._patch_comment)
        self.route("POST", repo + "/statuses/(?P<sha>[^/]+)", self._post_status)
        self.route("POST", repo + "/check-runs", self._post_check_run)
        self.route("PATCH", repo + r"/check-runs/(?P<id>\d+)", self._patch_check_run)
        self.route("POST", "/graphql", self._graphql)

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> Reply:
        if self.prefix.endswith("/v3") and path == self.prefix.removesuffix("/v3") + "/graphql":
            path = self.prefix + "/graphql"  # GHES serves GraphQL at /api/graphql, REST at /api/v3
        return super()._answer(method, path, query, body, headers)

    def _graphql(self, *, query: dict[str, str], body: Any, **parts: Any) -> Reply:
        """closingIssuesReferences of the pull request, as GitHub's GraphQL API answers it; other
        queries go to the routes registered after this one (the release fake's)."""
        if "closingIssuesReferences" not in str((body or {}).get("query", "")):
            for method, pattern, handler in self.routes:
                if method == "POST" and pattern.match("/graphql") and handler != self._graphql:
                    return handler(query=query, body=body, **parts)
            return 200, {}, {"errors": [{"message": "unknown query"}]}
        nodes = copy.deepcopy(self.closing_issues)
        pull = {"closingIssuesReferences": {"nodes": nodes}}
        return 200, {}, {"data": {"repository": {"pullRequest": pull}}}

    def _get_pull(self, *, query: dict[str, str], **_: Any) -> Reply:
        return 200, {}, self.pull_request()

    def _list(self, attribute: str) -> Any:
        def handler(*, query: dict[str, str], **parts: Any) -> Reply:
            path = self._path_of(attribute, parts)
            return self.page(getattr(self, attribute), path, query)

        return handler

    def _path_of(self, attribute: str, parts: dict[str, Any]) -> str:
        base = f"/repos/{parts['owner']}/{parts['name']}"
        if attribute == "comments":
            return f"{base}/issues/{parts['number']}/comments"
        return f"{base}/pulls/{parts['number']}/{attribute}"

    def _get_files(
        self, *, query: dict[str, str], owner: str, name: str, number: str, **_: Any
    ) -> Reply:
        files = [self._file(f) for f in self.files]
        return self.page(files, f"/repos/{owner}/{name}/pulls/{number}/files", query)

    def _get_check_runs(self, *, query: dict[str, str], sha: str, **_: Any) -> Reply:
        runs = [r for r in self.check_runs if r["head_sha"] == sha]
        return 200, {}, {"total_count": len(runs), "check_runs": runs}

    def _get_status(self, *, query: dict[str, str], sha: str, **_: Any) -> Reply:
        combined = _load("rest_combined_status.json")
        states = {s["state"] for s in self.statuses}
        state = (
            "failure"
            if states & {"failure", "error"}
            else ("pending" if "pending" in states or not states else "success")
        )
        combined.update(
            sha=sha, statuses=self.statuses, state=state, total_count=len(self.statuses)
        )
        return 200, {}, combined

    def _get_commit_pulls(
        self, *, query: dict[str, str], owner: str, name: str, sha: str, **_: Any
    ) -> Reply:
        pulls = self.associated.get(sha, [])
        return self.page(pulls, f"/repos/{owner}/{name}/commits/{sha}/pulls", query)

    def _get_commit(self, *, query: dict[str, str], sha: str, **_: Any) -> Reply:
        for commit in [*self.commits, *self.pushed]:
            if commit["sha"] == sha:
                return 200, {}, {**commit, "files": [], "stats": {}}
        return 404, {}, {"message": "No commit found for SHA: " + sha}

    def _get_contents(self, *, query: dict[str, str], path: str, **_: Any) -> Reply:
        text = self.contents.get(path)
        if text is None:
            return 404, {}, {"message": "Not Found"}
        data = text.encode()
        url = f"https://api.github.com/repos/{self.repo}/contents/{path}"
        return (
            200,
            {},
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": Path(path).name,
                "path": path,
                "content": base64.b64encode(data).decode(),
                "sha": "abc123",
                "url": url,
                "git_url": url,
                "html_url": url,
                "download_url": url,
            },
        )

    def _members(self, *, query: dict[str, str], org: str, slug: str, **_: Any) -> Reply:
        members = self.teams.get(f"{org}/{slug}")
        if members is None:
            return 404, {}, {"message": "Not Found"}
        return self.page([_user(m) for m in members], f"/orgs/{org}/teams/{slug}/members", query)

    def _comment(self, body: str) -> dict[str, Any]:
        number = next(self._ids)
        url = f"https://api.github.com/repos/{self.repo}"
        return {
            "id": number,
            "node_id": f"IC_{number}",
            "body": body,
            "user": _user("gatekeeper"),
            "url": f"{url}/issues/comments/{number}",
            "html_url": f"https://github.com/{self.repo}/pull/{self.number}#issuecomment-{number}",
            "issue_url": f"{url}/issues/{self.number}",
            "created_at": "2026-11-25T10:00:00Z",
            "updated_at": "2026-11-25T10:00:00Z",
        }

    def _post_comment(self, *, body: Any, **_: Any) -> Reply:
        comment = self._comment(body["body"])
        self.comments.append(comment)
        return 201, {}, comment

    def _patch_comment(self, *, body: Any, id: str, **_: Any) -> Reply:
        for comment in self.comments:
            if str(comment["id"]) == id:
                comment["body"] = body["body"]
                return 200, {}, comment
        return 404, {}, {"message": "Not Found"}

    def _post_status(self, *, body: Any, sha: str, **_: Any) -> Reply:
        status = {
            "url": f"https://api.github.com/repos/{self.repo}/statuses/{sha}",
            "id": next(self._ids),
            "sha": sha,
            **body,
            "creator": _user("gatekeeper"),
            "created_at": "2026-11-25T10:00:00Z",
            "updated_at": "2026-11-25T10:00:00Z",
        }
        self.created_statuses.append(status)
        return 201, {}, status

    def _post_check_run(self, *, body: Any, **_: Any) -> Reply:
        run = {
            "id": next(self._ids),
            **body,
            "annotations": list(body.get("output", {}).get("annotations", [])),
        }
        run["html_url"] = f"https://github.com/{self.repo}/runs/{run['id']}"
        run["url"] = f"https://api.github.com/repos/{self.repo}/check-runs/{run['id']}"
        self.created_check_runs.append(run)
        return 201, {}, run

    def _patch_check_run(self, *, body: Any, id: str, **_: Any) -> Reply:
        for run in self.created_check_runs:
            if str(run["id"]) == id:
                run["annotations"].extend(body.get("output", {}).get("annotations", []))
                run["output"] = {**body.get("output", {}), "annotations": []}
                return 200, {}, run
        return 404, {}, {"message": "Not Found"}


class BlobStore(FakeServer):
    """The blob store an artifact download redirects to: another host (port), no token wanted."""

    def __init__(self) -> None:
        super().__init__()
        self.blobs: dict[str, bytes] = {}
        self.route("GET", "/blobs/(?P<key>[^/]+)", self._get)

    def _get(self, *, key: str, **_: Any) -> Reply:
        data = self.blobs.get(key)
        if data is None:
            return 404, {}, b"BlobNotFound"
        return 200, {"Content-Type": "application/zip"}, data

    def authorization_headers(self) -> list[str]:
        """The credentials (Authorization, GitLab's PRIVATE-TOKEN / JOB-TOKEN) the blob store
        received: there must be none."""
        names = ("authorization", "private-token", "job-token")
        return [r.headers[n] for r in self.requests for n in names if n in r.headers]


class RunArtifacts:
    """Workflow runs and their artifacts on a FakeGitHub, downloads served by a BlobStore."""

    def __init__(self, fake: FakeGitHub, blobs: BlobStore) -> None:
        self.fake = fake
        self.blobs = blobs
        self.runs: dict[int, dict[str, Any]] = {}
        self.artifacts: dict[int, list[dict[str, Any]]] = {}
        self._ids = itertools.count(9000)
        repo = "/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        fake.route("GET", repo + r"/actions/runs/(?P<run>\d+)", self._get_run)
        fake.route("GET", repo + r"/actions/runs/(?P<run>\d+)/artifacts", self._list)
        fake.route("GET", repo + r"/actions/artifacts/(?P<artifact>\d+)/zip", self._zip)
        fake.route("GET", repo + "/pulls", self._pulls)

    def add_run(self, run_id: int, *, fork: str | None = None, event: str = "pull_request") -> None:
        """A completed run of the fake's PR head (`fork`: from that owner's fork, no PR listed)."""
        fake = self.fake
        owner = fork or fake.repo.split("/")[0]
        head_repo = {
            "id": 42,
            "name": fake.repo.split("/")[1],
            "full_name": f"{owner}/{fake.repo.split('/')[1]}",
            "owner": _user(owner),
            "private": False,
        }
        pull = {
            "id": 1,
            "number": fake.number,
            "url": f"https://api.github.com/repos/{fake.repo}/pulls/{fake.number}",
            "head": {"ref": fake.head_ref, "sha": fake.head, "repo": head_repo},
            "base": {"ref": fake.base_ref, "sha": "b" * 40, "repo": head_repo},
        }
        self.runs[run_id] = {
            "id": run_id,
            "name": "gate-tests",
            "node_id": f"WFR_{run_id}",
            "head_branch": fake.head_ref,
            "head_sha": fake.head,
            "path": ".github/workflows/gate-tests.yml",
            "run_number": 12,
            "event": event,
            "status": "completed",
            "conclusion": "success",
            "workflow_id": 161335,
            "url": f"https://api.github.com/repos/{fake.repo}/actions/runs/{run_id}",
            "html_url": f"https://github.com/{fake.repo}/actions/runs/{run_id}",
            "pull_requests": [] if fork else [pull],
            "created_at": "2026-11-25T09:00:00Z",
            "updated_at": "2026-11-25T09:05:00Z",
            "artifacts_url": f"https://api.github.com/repos/{fake.repo}/actions/runs/{run_id}/artifacts",
            "head_repository": head_repo,
            "repository": {
                **head_repo,
                "full_name": fake.repo,
                "owner": _user(fake.repo.split("/")[0]),
            },
        }
        self.artifacts.setdefault(run_id, [])

    def add_artifact(
        self, run_id: int, name: str, data: bytes, *, expired: bool = False
    ) -> dict[str, Any]:
        """An artifact of run `run_id` whose zip is `data` (expired: listed, download 410)."""
        number = next(self._ids)
        base = f"https://api.github.com/repos/{self.fake.repo}/actions/artifacts/{number}"
        artifact = {
            "id": number,
            "node_id": f"MDg6QXJ0aWZhY3Q{number}",
            "name": name,
            "size_in_bytes": len(data),
            "url": base,
            "archive_download_url": f"{base}/zip",
            "expired": expired,
            "digest": None,
            "created_at": "2026-11-25T09:04:00Z",
            "expires_at": "2026-11-28T09:04:00Z",
            "updated_at": "2026-11-25T09:04:00Z",
            "workflow_run": {
                "id": run_id,
                "repository_id": 42,
                "head_repository_id": 42,
                "head_branch": self.fake.head_ref,
                "head_sha": self.fake.head,
            },
        }
        self.artifacts[run_id].append(artifact)
        if not expired:
            self.blobs.blobs[str(number)] = data
        return artifact

    def _get_run(self, *, run: str, **_: Any) -> Reply:
        found = self.runs.get(int(run))
        return (200, {}, found) if found else (404, {}, {"message": "Not Found"})

    def _list(self, *, run: str, owner: str, name: str, query: dict[str, str], **_: Any) -> Reply:
        items = self.artifacts.get(int(run), [])
        status, headers, chunk = self.fake.page(
            items, f"/repos/{owner}/{name}/actions/runs/{run}/artifacts", query
        )
        return status, headers, {"total_count": len(items), "artifacts": chunk}

    def _zip(self, *, artifact: str, **_: Any) -> Reply:
        for items in self.artifacts.values():
            for item in items:
                if str(item["id"]) == artifact:
                    if item["expired"]:
                        return 410, {}, {"message": "Artifact has expired"}
                    location = f"{self.blobs.url}/blobs/{artifact}?sig=signed-url"
                    return 302, {"Location": location}, None
        return 404, {}, {"message": "Not Found"}

    def _pulls(self, *, query: dict[str, str], owner: str, name: str, **_: Any) -> Reply:
        fake = self.fake
        pr = _listed(fake.pull_request())
        wanted = query.get("head", "")
        fork_heads = {
            f"{r['head_repository']['owner']['login']}:{r['head_branch']}"
            for r in self.runs.values()
        }
        items = [pr] if wanted in fork_heads else []
        return fake.page(items, f"/repos/{owner}/{name}/pulls", query)
