"""GitHub through PyGithub: facts of a pull request or commit in, the gate's feedback out.

The only module that imports `github`, with `connectors._github_feedback` (the feedback).
Requests go through PyGithub's `retry=` hook with a counting, bounded GithubRetry; `lazy=True`
and `per_page=100` keep one PR's collection to ten requests or so. A commit (push, release) is
collected through the PR that merged it (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubObject import NotSet
from github.NamedUser import NamedUser
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.Repository import Repository
from requests import RequestException

from connectors import _codeowners
from connectors._ci_context import CiContext
from connectors._github_ci import github_context
from connectors._github_feedback import GitHubPublisher
from connectors._github_run import GitHubRunCollector
from connectors._http import (
    CountingRetry,
    Place,
    WaitBudgetExceededError,
    rate_limit_error,
    status_error,
)
from connectors._reviews import (
    RawReview,
    choose_merging,
    count_reviews,
    is_bot,
    linked_issues,
    pushed_without_review,
)
from connectors.interface import (
    CollectOptions,
    IdTokenRequest,
    ProviderError,
    ProviderPermissionError,
    RateLimitError,
    RequestStats,
    RetryPolicy,
)
from gatekeeper.facts import Change, Check, Checks, Commit, Facts, Reviews, Source, Subject
from gatekeeper.logs import SECRETS

__all__ = [
    "PROVIDER",
    "GitHub",
    "GitHubCollector",
    "GitHubProvider",
    "GitHubPublisher",
    "GitHubRunCollector",
]
_log = logging.getLogger(__name__)

_OK_CONCLUSIONS = {"success", "neutral", "skipped"}
_REPO_NAME = re.compile(r"[\w.-]+/[\w.-]+")
_CLOSING_QUERY = (
    "query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, "
    "name: $name) { pullRequest(number: $number) { closingIssuesReferences(first: 50) { "
    "nodes { number repository { nameWithOwner } } } } } }"
)
_OWN_PREFIX = "gatekeeper/"


class _Retry(CountingRetry, GithubRetry):
    """GithubRetry (secondary rate limits, X-RateLimit-Reset) that also counts and bounds waits."""


class GitHub:
    """One repository on github.com or GitHub Enterprise Server (`https://HOST/api/v3`)."""

    def __init__(
        self,
        *,
        api_url: str,
        token: str | None,
        repo: str,
        retry: RetryPolicy | None = None,
        stats: RequestStats | None = None,
    ) -> None:
        SECRETS.add(token)
        policy = retry or RetryPolicy()
        self.api_url = api_url.rstrip("/")
        self.repo_name = repo
        self.token = token
        self.retry_policy = policy
        self.stats = stats or RequestStats()
        counting = _Retry(
            policy=policy,
            stats=self.stats,
            secondary_rate_wait=policy.secondary_rate_wait,
            max_rate_limit_wait=policy.max_wait,
        )
        self.client = Github(
            base_url=self.api_url,
            auth=Auth.Token(token) if token else None,
            per_page=100,
            retry=counting,
            timeout=int(max(1, policy.timeout)),
            seconds_between_requests=None,
            seconds_between_writes=policy.write_interval or None,
            lazy=True,
        )
        self.repo: Repository = self.client.get_repo(repo)

    @contextlib.contextmanager
    def translate(self, doing: str, permission: str, *, write: bool = False) -> Iterator[None]:
        """Turns PyGithub and HTTP failures while `doing` into one clear ConnectorError."""
        try:
            yield
        except (RateLimitExceededExceedsMaxWait, RateLimitExceededException) as error:
            raise RateLimitError(
                f"GitHub rate limit hit while {doing}; try again after the limit resets"
            ) from error
        except WaitBudgetExceededError as error:
            raise rate_limit_error(error, "GitHub") from error
        except GithubException as error:
            raise self._http_error(error, doing, permission, write) from error
        except RequestException as error:
            raise ProviderError(
                f"cannot reach GitHub at {self.api_url} while {doing} "
                f"({type(error).__name__}, {self.stats.requests} attempt(s))"
            ) from error

    def _http_error(
        self, error: GithubException, doing: str, permission: str, write: bool
    ) -> ProviderError:
        message = error.data.get("message", "") if isinstance(error.data, dict) else ""
        place = Place("GitHub", self.repo_name, self.api_url, "set GITHUB_TOKEN to a valid token")
        return status_error(
            place,
            error.status,
            str(message),
            doing=doing,
            permission=permission,
            write=write,
            requests_sent=self.stats.requests,
        )

    @staticmethod
    def unset_if_empty(value: str | None) -> Any:
        """`value`, or PyGithub's NotSet (the argument is left out of the request) when empty."""
        return value or NotSet

    def collector(
        self,
        number: int | None,
        *,
        commit: str | None = None,
        ref: str | None = None,
        options: CollectOptions | None = None,
    ) -> GitHubCollector:
        """A collector for pull request `number` (or, without one, for `commit` on `ref`)."""
        return GitHubCollector(
            self, number, commit=commit, ref=ref, options=options or CollectOptions()
        )

    def run_collector(
        self, run_id: int, *, pattern: str = "*", max_report_bytes: int | None = None
    ) -> GitHubRunCollector:
        """A collector of the reports in the artifacts of workflow run `run_id`."""
        if max_report_bytes is None:
            return GitHubRunCollector(self, run_id, pattern=pattern)
        return GitHubRunCollector(self, run_id, pattern=pattern, max_report_bytes=max_report_bytes)

    def approvers_of(self, number: int, head: str) -> tuple[str, ...]:
        """Who approved `head` of pull request `number`, from one (paginated) review listing."""
        with self.translate(
            f"reading the reviews of pull request #{number}", "pull-requests: read"
        ):
            pull = self.repo.get_pull(number)
            raw = [_raw_review(r) for r in pull.get_reviews()]
        return count_reviews(raw, head=head, excluded=()).approvers

    def publisher(
        self, *, number: int | None, commit: str, comment: bool = True, dotenv: Path | None = None
    ) -> GitHubPublisher:
        """A publisher on pull request `number` and head `commit` (comment: the sticky one)."""
        return GitHubPublisher(self, number=number, commit=commit, comment=comment)


class GitHubCollector:
    """Facts of one pull request (or of a commit and the PR that merged it): subject, change,
    reviews, CODEOWNERS approval, checks."""

    def __init__(
        self,
        gh: GitHub,
        number: int | None,
        *,
        commit: str | None,
        options: CollectOptions,
        ref: str | None = None,
    ) -> None:
        if number is None and commit is None:
            raise ProviderError("GitHub: give a pull request number or a commit to collect")
        self._gh = gh
        self._number = number
        self._commit = commit
        self._ref = ref
        self._options = options

    def collect(self) -> Facts:
        """The facts; a commit no pull request merged has reviews missing, with why."""
        if self._number is None:
            return self._collect_commit(str(self._commit))
        with self._gh.translate(f"reading pull request #{self._number}", "pull-requests: read"):
            pr = self._gh.repo.get_pull(self._number)
        return self._collect_pull(pr, gated=None)

    def _collect_pull(self, pr: PullRequest, *, gated: str | None) -> Facts:
        """Facts of `pr`; with `gated`, the subject and checks are that commit (a push/release)."""
        gh, number = self._gh, pr.number
        with gh.translate(f"reading pull request #{number}", "pull-requests: read"):
            head, base_ref = pr.head.sha, pr.base.ref
            commits = [_commit(c) for c in pr.get_commits()]
            files = tuple(f.filename for f in pr.get_files())
            raw = [_raw_review(r) for r in pr.get_reviews()]
        change = self._change(pr, commits, files)
        excluded = {change.author or ""}
        if self._options.exclude_commit_authors:
            excluded |= {c.author for c in commits if c.author}
        counted = count_reviews(raw, head=head, excluded=excluded)  # the PR's own head
        missing: dict[str, str] = {}
        owners_ok = self._codeowners(base_ref, files, counted.approvers, missing)
        reviews = Reviews(
            approvals=len(counted.approvers),
            changes_requested=counted.changes_requested,
            approvers=counted.approvers,
            codeowners_approved=owners_ok,
            stale_approvals=counted.stale_approvals,
        )
        subject = Subject(
            provider="github",
            repo=gh.repo_name,
            commit=gated or head,
            ref=self._ref if gated else pr.head.ref,
            number=number,
            url=pr.html_url,
        )
        sources = (self._source(f"commits/{gated}/pulls"),) if gated else ()
        return Facts(
            subject=subject,
            reviews=reviews,
            checks=self._checks(gated or head),
            change=change,
            missing=missing,
            sources=(*sources, self._source(f"pulls/{number}")),
        )

    def _closing_issues(self, number: int) -> tuple[str, ...]:
        """The issues GitHub links to the PR (`closingIssuesReferences`: closing keywords and the
        Development sidebar), as `#12`, or `owner/repo#12` in another repository."""
        gh = self._gh
        owner, name = gh.repo_name.split("/", 1)
        variables = {"owner": owner, "name": name, "number": number}
        with gh.translate(f"reading the linked issues of #{number}", "pull-requests: read"):
            try:
                _, data = gh.client.requester.graphql_query(_CLOSING_QUERY, variables)
            except GithubException as error:
                if isinstance(error, RateLimitExceededException):
                    raise
                # an old GHES without the field, a token GraphQL refuses: the issues the texts
                # name still count, and fewer linked issues can only fail a rule, never pass it
                _log.warning(
                    "GitHub's linked issues of #%d are unreadable (HTTP %s); using the texts only",
                    number,
                    error.status,
                )
                return ()
        repository = (data.get("data") or {}).get("repository") or {}
        pull = repository.get("pullRequest") or {}
        nodes = (pull.get("closingIssuesReferences") or {}).get("nodes") or []
        found: list[str] = []
        for node in nodes:
            if not isinstance(node, dict) or not isinstance(node.get("number"), int):
                continue
            where = (node.get("repository") or {}).get("nameWithOwner")
            if isinstance(where, str) and where.lower() != gh.repo_name.lower():
                if _REPO_NAME.fullmatch(where):
                    found.append(f"{where}#{node['number']}")
            else:
                found.append(f"#{node['number']}")
        return tuple(found)

    def _change(self, pr: PullRequest, commits: list[Commit], files: tuple[str, ...]) -> Change:
        # the stubs say always a user; a deleted account ("ghost") comes back as null
        author = pr.user.login if pr.user else None  # type: ignore[truthy-bool]
        texts = [pr.title, pr.body, pr.head.ref, *(c.message for c in commits)]
        linked = linked_issues(self._options.issue_pattern, texts)
        closing = self._closing_issues(pr.number)
        return Change(
            title=pr.title,
            branch=pr.head.ref,
            base_ref=pr.base.ref,
            labels=tuple(label.name for label in pr.labels),
            author=author,
            linked_issues=tuple(dict.fromkeys((*linked, *closing))),
            commits=tuple(commits),
            files=files,
        )

    def _collect_commit(self, sha: str) -> Facts:
        gh = self._gh
        with gh.translate(f"reading the pull requests of commit {sha[:12]}", "pull-requests: read"):
            found = gh.repo.get_commit(sha)
            pr = choose_merging(
                found.get_pulls(),
                sha,
                merged=lambda p: p.merged_at is not None,
                shas=lambda p: {p.merge_commit_sha or ""},
            )
        if pr is not None:
            _log.info("commit %s was merged by pull request #%d", sha[:12], pr.number)
            return self._collect_pull(pr, gated=sha)
        with gh.translate(f"reading commit {sha[:12]}", "contents: read"):
            commit = _commit(found)
        message = commit.message
        change = Change(
            title=message.splitlines()[0] if message else None,
            author=commit.author,
            commits=(commit,),
            linked_issues=linked_issues(self._options.issue_pattern, [message]),
        )
        return Facts(
            subject=Subject(provider="github", repo=gh.repo_name, commit=sha, ref=self._ref),
            checks=self._checks(sha),
            change=change,
            missing={"reviews": pushed_without_review(sha, "pull request")},
            sources=(self._source(f"commits/{sha}"),),
        )

    def _checks(self, sha: str) -> Checks:
        gh = self._gh
        commit = gh.repo.get_commit(sha)
        runs: list[Check] = []
        with gh.translate(f"reading check runs of {sha[:12]}", "checks: read"):
            for run in commit.get_check_runs():
                runs.append(Check(name=run.name, status=run.status, conclusion=run.conclusion))
        with gh.translate(f"reading commit statuses of {sha[:12]}", "statuses: read"):
            for status in commit.get_combined_status().statuses:
                done = status.state != "pending"
                runs.append(
                    Check(
                        name=status.context,
                        status="completed" if done else "pending",
                        conclusion=status.state if done else None,
                    )
                )
        runs = [run for run in runs if not run.name.startswith(_OWN_PREFIX)]
        failed = tuple(r for r in runs if r.conclusion and r.conclusion not in _OK_CONCLUSIONS)
        return Checks(runs=tuple(runs), failed=failed)

    def _codeowners(
        self, ref: str, files: tuple[str, ...], approvers: tuple[str, ...], missing: dict[str, str]
    ) -> bool | None:
        text = self._codeowners_text(ref)
        if text is None:
            missing["reviews.codeowners_approved"] = (
                f"no CODEOWNERS file in .github/, the root or docs/ at {ref}"
            )
            return None
        lacking = _codeowners.unapproved_paths(
            text, files, approvers, resolve_team=self._team_members
        )
        if lacking:
            _log.info("files without an owner's approval: %s", ", ".join(lacking[:20]))
        return not lacking

    def _codeowners_text(self, ref: str) -> str | None:
        gh = self._gh
        for path in _codeowners.GITHUB_LOCATIONS:
            try:
                with gh.translate(f"reading {path} at {ref}", "contents: read"):
                    found = gh.repo.get_contents(path, ref=ref)
            except ProviderPermissionError as error:
                if error.status == 404:
                    continue
                raise
            if isinstance(found, list):
                continue
            return found.decoded_content.decode("utf-8", errors="replace")
        return None

    def _team_members(self, name: str) -> frozenset[str] | None:
        org, _, slug = name.partition("/")
        gh = self._gh
        url = f"/orgs/{org}/teams/{slug}/members"
        try:
            with gh.translate(f"reading members of team @{name}", "members: read (read:org)"):
                members = PaginatedList(NamedUser, gh.client.requester, url, None)
                return frozenset(member.login.lower() for member in members)
        except ProviderPermissionError as error:
            _log.warning("%s; the team counts as not approving", error)
            return None

    def _source(self, what: str) -> Source:
        return Source(
            kind="provider",
            location=f"{self._gh.api_url}/repos/{self._gh.repo_name}/{what}",
            format="github-rest",
            producer=f"PyGithub {version('PyGithub')}",
        )


def _commit(found: object) -> Commit:
    author = getattr(found, "author", None)
    git = getattr(found, "commit", None)
    login = author.login if author is not None else None
    if login is None and git is not None and git.author is not None:
        login = git.author.name
    return Commit(
        sha=str(getattr(found, "sha", "")),
        author=login,
        message=git.message if git is not None else "",
    )


def _raw_review(review: object) -> RawReview:
    user = getattr(review, "user", None)
    login = user.login if user is not None else ""
    return RawReview(
        login=login,
        state=str(getattr(review, "state", "")),
        commit=getattr(review, "commit_id", None),
        bot=not login or is_bot(login, getattr(user, "type", None)),
    )


class GitHubProvider:
    """GitHub's entry in the provider table (`connectors.providers.PROVIDERS`)."""

    name = "github"
    title = "GitHub"
    default_api_url = "https://api.github.com"
    token_variables: tuple[str, ...] = ("GITHUB_TOKEN",)
    ci_dotenv = False
    workflow_notices = True
    id_token_request: IdTokenRequest | None = IdTokenRequest(
        ci_title="GitHub Actions",
        url_variable="ACTIONS_ID_TOKEN_REQUEST_URL",
        token_variable="ACTIONS_ID_TOKEN_REQUEST_TOKEN",  # noqa: S106 - a variable's name
    )

    def changed_lines_url(
        self, change_url: str, commit: str | None, path: str, first: int, last: int
    ) -> str | None:
        """The line in the pull request's "Files changed" tab (anchored by the path's SHA-256)."""
        anchor = hashlib.sha256(path.encode("utf-8")).hexdigest()
        return f"{change_url}/files#diff-{anchor}R{first}"

    def ci_context(self, env: Mapping[str, str]) -> CiContext | None:
        """The job's context when `env` is this provider's CI, else None."""
        return github_context(
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
    ) -> GitHub:
        """A connection to `repo` (GITHUB_TOKEN is a full token: `job_token` does not apply)."""
        return GitHub(api_url=api_url, token=token, repo=repo, retry=retry, stats=stats)


PROVIDER = GitHubProvider()
