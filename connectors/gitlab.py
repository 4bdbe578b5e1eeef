"""GitLab through python-gitlab: facts of a merge request in, the gate's feedback out.

The only module that imports `gitlab`. A commit (tag or branch pipeline) is collected through the
MR that merged it (`GET /projects/:id/repository/commits/:sha/merge_requests`). Requests go
through a `requests.Session` whose adapters retry and count (see `connectors._http`);
python-gitlab's own retry loop is off because it has neither jitter nor a bound on the total wait.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import gitlab
from gitlab.exceptions import GitlabError
from requests import RequestException
from requests.exceptions import RetryError

from connectors import _codeowners, _gitlab_artifacts, _gitlab_facts
from connectors._artifacts import ZipLimits
from connectors._ci_context import CiContext
from connectors._dotenv import CODE_QUALITY_NAME, write_code_quality, write_dotenv
from connectors._gitlab_ci import gitlab_context
from connectors._http import (
    Place,
    WaitBudgetExceededError,
    counting_session,
    rate_limit_error,
    status_error,
)
from connectors._reviews import choose_merging, pushed_without_review
from connectors.interface import (
    GITLAB_NOTE_LIMIT,
    CollectOptions,
    Feedback,
    IdTokenRequest,
    ProviderError,
    ProviderPermissionError,
    PublishResult,
    RequestStats,
    RetryPolicy,
    publish_channels,
    sticky_body,
)
from gatekeeper.facts import Facts, Source
from gatekeeper.logs import SECRETS

_log = logging.getLogger(__name__)
_OWN_PREFIX = "gatekeeper/"
_MERGE_SHAS = ("merge_commit_sha", "squash_commit_sha", "sha")  # merge, squash, fast-forward


class GitLab:
    """One project on gitlab.com or a self-managed GitLab (`api_url` without `/api/v4`)."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str | None,
        repo: str,
        job_token: bool = False,
        retry: RetryPolicy | None = None,
        stats: RequestStats | None = None,
    ) -> None:
        SECRETS.add(token)
        policy = retry or RetryPolicy()
        self.api_url = api_url.rstrip("/").removesuffix("/api/v4")
        self.repo_name = repo
        self.token = token
        self.job_token = job_token
        self.retry_policy = policy
        self.stats = stats or RequestStats()
        session = counting_session(policy, self.stats, raise_on_status=True)
        self.client = gitlab.Gitlab(
            url=self.api_url,
            private_token=None if job_token else token,
            job_token=token if job_token else None,
            session=session,
            per_page=100,
            timeout=policy.timeout,
            retry_transient_errors=False,
            keep_base_url=True,
        )
        self.project = self.client.projects.get(repo, lazy=True)

    @contextlib.contextmanager
    def translate(self, doing: str, permission: str, *, write: bool = False) -> Iterator[None]:
        """Turns python-gitlab and HTTP failures while `doing` into one clear ConnectorError."""
        try:
            yield
        except WaitBudgetExceededError as error:
            raise rate_limit_error(error, "GitLab") from error
        except GitlabError as error:
            raise self._http_error(error, doing, permission, write) from error
        except RetryError as error:
            raise ProviderError(
                f"GitLab kept failing while {doing} ({_reason(error)}) "
                f"after {self.stats.requests} request(s) with retries"
            ) from error
        except RequestException as error:
            raise ProviderError(
                f"cannot reach GitLab at {self.api_url} while {doing} ({type(error).__name__})"
            ) from error

    def _http_error(
        self, error: GitlabError, doing: str, permission: str, write: bool
    ) -> ProviderError:
        hint = "set GITLAB_TOKEN to a valid token (personal, project or group access token)"
        place = Place("GitLab", self.repo_name, self.api_url, hint, noun="project")
        return status_error(
            place,
            error.response_code or 0,
            "",
            doing=doing,
            permission=permission,
            write=write,
            requests_sent=self.stats.requests,
        )

    def collector(
        self,
        number: int | None,
        *,
        commit: str | None = None,
        ref: str | None = None,
        options: CollectOptions | None = None,
        pipeline: int | None = None,
        max_report_bytes: int = 512 * 1024 * 1024,
    ) -> GitLabCollector:
        """A collector for merge request `number` (its iid), or else for `commit` on `ref`;
        with `pipeline`, that pipeline's test report and its jobs' report artifacts."""
        if number is None and commit is None:
            raise ProviderError("GitLab: give a merge request iid or a commit to collect")
        collector = GitLabCollector(
            self, number, options or CollectOptions(), commit=commit, ref=ref
        )
        collector.pipeline_id = pipeline
        collector.max_report_bytes = max_report_bytes
        return collector

    def approvers_of(self, number: int, head: str) -> tuple[str, ...] | None:
        """Who approved merge request `number` (two requests), or None when its head is not
        `head` (GitLab's approvals carry no commit)."""
        with self.translate(f"reading the approvals of merge request !{number}", "read_api"):
            mr = self.project.mergerequests.get(number)
            if str(mr.attributes.get("sha", "")).lower() != head.lower():
                return None
            approved = mr.approvals.get().attributes.get("approved_by") or []
        users = [entry.get("user") or {} for entry in approved]
        names = [str(u.get("username")) for u in users if u.get("username") and not u.get("bot")]
        return tuple(sorted(names, key=str.lower))

    def publisher(
        self, *, number: int | None, commit: str, dotenv: Path | None = None, comment: bool = True
    ) -> GitLabPublisher:
        """A publisher on merge request `number` and head `commit` (note only with `comment`)."""
        return GitLabPublisher(
            self, number=number if comment else None, commit=commit, dotenv=dotenv
        )


class _Optional(contextlib.AbstractContextManager[None]):
    def __init__(self, gl: GitLab, doing: str, permission: str) -> None:
        self._inner = gl.translate(doing, permission)
        self.missed = False

    def __enter__(self) -> None:
        self._inner.__enter__()

    def __exit__(self, *exc: Any) -> bool:
        try:
            return bool(self._inner.__exit__(*exc))
        except ProviderPermissionError as error:
            if error.status in (403, 404):
                _log.info("%s", error)
                self.missed = True
                return True
            raise


def _reason(error: RetryError) -> str:
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return str(reason or error)


class GitLabCollector:
    """Facts of one merge request (or of a commit and the MR that merged it): subject, change,
    approvals, CODEOWNERS, pipeline, tests."""

    def __init__(
        self,
        gl: GitLab,
        number: int | None,
        options: CollectOptions,
        *,
        commit: str | None = None,
        ref: str | None = None,
    ) -> None:
        self._gl = gl
        self._number = number
        self._options = options
        self._commit = commit
        self._ref = ref
        self.pipeline_id: int | None = None
        self.max_report_bytes = 512 * 1024 * 1024
        self._jobs: list[dict[str, Any]] = []

    def collect(self) -> Facts:
        """The facts; what this GitLab cannot give is listed in `Facts.missing` with why."""
        if self._number is None:
            facts = self._collect_commit(str(self._commit))
        else:
            facts = self._collect_mr(self._number, pipeline=None)
        if self.pipeline_id is None:
            return facts
        found, reasons = _gitlab_artifacts.job_report_facts(
            self._gl, self._jobs, limits=ZipLimits(), max_report_bytes=self.max_report_bytes
        )
        for reason in reasons:
            _log.warning("%s", reason)
        return facts if found is None else _gitlab_artifacts.with_job_reports(facts, found)

    def _chosen(self, default: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """The pipeline given by `pipeline_id` (read from the API), else `default`."""
        if self.pipeline_id is None:
            return default
        with self._gl.translate(f"reading pipeline {self.pipeline_id}", "read_api"):
            return dict(self._gl.project.pipelines.get(self.pipeline_id).attributes)

    def _collect_commit(self, sha: str) -> Facts:
        """A tag/branch pipeline: approvals from the MR that merged `sha`, checks from `sha`."""
        gl = self._gl
        with gl.translate(f"reading commit {sha[:12]} and its merge requests", "read_api"):
            commit = gl.project.commits.get(sha)
            found = [dict(m) for m in commit.merge_requests(iterator=True)]
        mr = choose_merging(
            found,
            sha,
            merged=lambda m: m.get("state") == "merged",
            shas=lambda m: {
                str(m.get(k)) for k in ("merge_commit_sha", "squash_commit_sha", "sha")
            },
        )
        pipeline = self._pipeline(self._chosen(commit.attributes.get("last_pipeline")))
        if mr is not None:
            _log.info("commit %s was merged by merge request !%s", sha[:12], mr.get("iid"))
            return self._collect_mr(int(mr["iid"]), pipeline=pipeline)
        raw = {"mr": {}, "commits": [commit.attributes], **pipeline}
        builder = _gitlab_facts.Builder(raw, self._options, repo=gl.repo_name, gated=sha)
        return builder.commit_facts(
            self._source(f"-/commit/{sha}"),
            ref=self._ref,
            reason=pushed_without_review(sha, "merge request"),
        )

    def _collect_mr(self, number: int, *, pipeline: dict[str, Any] | None) -> Facts:
        """Facts of MR `number`; with `pipeline` (the gated commit's), subject is that commit."""
        gl = self._gl
        raw: dict[str, Any] = {}
        with gl.translate(f"reading merge request !{number}", "read_api"):
            mr = gl.project.mergerequests.get(number)
            raw["mr"] = mr.attributes
            raw["approvals"] = mr.approvals.get().attributes
            raw["commits"] = [c.attributes for c in mr.commits(per_page=100)]
            raw["files"] = self._files(number)
        raw["approval_state"] = self._optional_get(mr.approval_state, "approval rules")
        raw["settings"] = self._optional_get(gl.project.approvals, "approval settings")
        raw["reviewers"] = self._reviewers(mr)
        if raw["settings"].get("reset_approvals_on_push"):
            with gl.translate(f"reading the pushes of !{number}", "read_api"):
                raw["versions"] = [v.attributes for v in mr.diffs.list(iterator=True)]
        if pipeline is None:
            raw.update(self._pipeline(self._chosen(raw["mr"].get("head_pipeline"))))
        else:
            raw.update(pipeline)
        gated = self._commit if pipeline is not None else None
        builder = _gitlab_facts.Builder(
            raw, self._options, repo=gl.repo_name, gated=gated, ref=self._ref
        )
        builder.apply_codeowners(
            self._codeowners_text(raw["mr"]["target_branch"]), self._group_members
        )
        return builder.facts(self._source(f"-/merge_requests/{number}"))

    def _source(self, what: str) -> Source:
        return Source(
            kind="provider",
            location=f"{self._gl.api_url}/{self._gl.repo_name}/{what}",
            format="gitlab-rest",
            producer=f"python-gitlab {version('python-gitlab')}",
        )

    def _files(self, number: int) -> list[str]:
        path = f"/projects/{self._gl.project.encoded_id}/merge_requests/{number}/diffs"
        try:
            return [
                d["new_path"] for d in self._gl.client.http_list(path, iterator=True, per_page=100)
            ]
        except GitlabError as error:
            if error.response_code != 404:
                raise
        changes: Any = self._gl.project.mergerequests.get(number, lazy=True).changes()
        return [d["new_path"] for d in changes.get("changes", [])]  # GitLab before 15.7

    def _optional_get(self, manager: Any, what: str) -> dict[str, Any]:
        guard = _Optional(self._gl, f"reading the {what}", "read_api")
        with guard:
            return dict(manager.get().attributes)
        return {}

    def _reviewers(self, mr: Any) -> list[dict[str, Any]] | None:
        guard = _Optional(self._gl, "reading the reviewers", "read_api")
        with guard:
            return [r.attributes for r in mr.reviewer_details.list(iterator=True)]
        return None

    def _pipeline(self, head: Mapping[str, Any] | None) -> dict[str, Any]:
        if not head:
            return {}
        pipeline = self._gl.project.pipelines.get(head["id"], lazy=True)
        with self._gl.translate(f"reading pipeline {head['id']}", "read_api"):
            jobs = [j.attributes for j in pipeline.jobs.list(iterator=True)]
        self._jobs = jobs
        report: dict[str, Any] = {}
        guard = _Optional(self._gl, f"reading the test report of pipeline {head['id']}", "read_api")
        with guard:
            report = dict(pipeline.test_report.get().attributes)
        return {"pipeline": dict(head), "jobs": jobs, "test_report": report}

    def _codeowners_text(self, ref: str) -> str | None:
        for path in _codeowners.GITLAB_LOCATIONS:
            guard = _Optional(self._gl, f"reading {path} at {ref}", "read_repository")
            with guard:
                data = self._gl.project.files.raw(file_path=path, ref=ref)
                return bytes(data).decode("utf-8", errors="replace")
        return None

    def _group_members(self, name: str) -> frozenset[str] | None:
        guard = _Optional(self._gl, f"reading members of group @{name}", "read_api")
        with guard:
            group = self._gl.client.groups.get(name, lazy=True)
            return frozenset(m.username.lower() for m in group.members_all.list(iterator=True))
        return None


class GitLabPublisher:
    """One sticky MR note, a commit status on the head, a dotenv file for later jobs and the
    code-quality report of the uncovered changed lines beside it."""

    def __init__(self, gl: GitLab, *, number: int | None, commit: str, dotenv: Path | None) -> None:
        self._gl = gl
        self._number = number
        self._commit = commit
        self._dotenv = dotenv

    def publish(self, feedback: Feedback) -> PublishResult:
        """Writes every channel; a channel the token may not write becomes a notice."""
        channels = [("status", self.status)]
        if self._number is not None:
            channels.append(("note", self.note))
        written, notices = publish_channels(channels, feedback)
        if self._dotenv is not None:
            written["dotenv"] = str(write_dotenv(self._dotenv, feedback))
            quality = self._dotenv.with_name(CODE_QUALITY_NAME)
            written["codequality"] = str(write_code_quality(quality, feedback))
        return PublishResult(written=written, notices=notices)

    def status(self, feedback: Feedback) -> str:
        """Sets the commit status `gatekeeper/<policy>` on the head commit."""
        gl = self._gl
        data = {
            "state": "success" if feedback.verdict == "pass" else "failed",
            "name": f"{_OWN_PREFIX}{feedback.policy}",
            "description": feedback.summary[:255],
        }
        if feedback.details_url:
            data["target_url"] = feedback.details_url
        with gl.translate("setting the commit status", "api", write=True):
            commit = gl.project.commits.get(self._commit, lazy=True)
            status = commit.statuses.create(data)
        return str(status.attributes.get("id", ""))

    def note(self, feedback: Feedback) -> str:
        """Creates, or updates in place, the one MR note carrying the policy's hidden marker."""
        gl = self._gl
        marker, body = sticky_body(feedback, GITLAB_NOTE_LIMIT)
        with gl.translate("writing the merge request note", "api", write=True):
            mr = gl.project.mergerequests.get(int(str(self._number)), lazy=True)
            for note in mr.notes.list(iterator=True):
                if str(note.attributes.get("body", "")).startswith(marker):
                    note.body = body
                    note.save()
                    return str(note.get_id())
            return str(mr.notes.create({"body": body}).get_id())


class GitLabProvider:
    """GitLab's entry in the provider table (`connectors.providers.PROVIDERS`)."""

    name = "gitlab"
    title = "GitLab"
    default_api_url = "https://gitlab.com"
    token_variables: tuple[str, ...] = ("GITLAB_TOKEN", "CI_JOB_TOKEN")
    ci_dotenv = True
    workflow_notices = False
    id_token_request: IdTokenRequest | None = None

    def changed_lines_url(
        self, change_url: str, commit: str | None, path: str, first: int, last: int
    ) -> str | None:
        """The lines in the file at the head commit (GitLab's MR diff has no stable anchor)."""
        if commit is None or "/-/" not in change_url:
            return None
        project = change_url.split("/-/", 1)[0]
        return f"{project}/-/blob/{commit}/{urllib.parse.quote(path)}#L{first}-{last}"

    def ci_context(self, env: Mapping[str, str]) -> CiContext | None:
        """The job's context when `env` is this provider's CI, else None."""
        return gitlab_context(
            env, default_api_url=self.default_api_url, token_variables=self.token_variables
        )

    def connect(
        self,
        *,
        api_url: str,
        token: str | None,
        repo: str,
        job_token: bool = False,
        retry: RetryPolicy | None = None,
        stats: RequestStats | None = None,
    ) -> GitLab:
        """A connection to `repo`; `job_token` when the token is the job's CI_JOB_TOKEN."""
        return GitLab(
            api_url=api_url, token=token, repo=repo, job_token=job_token, retry=retry, stats=stats
        )


PROVIDER = GitLabProvider()
