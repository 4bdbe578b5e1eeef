"""GitHub through PyGithub: facts of a pull request or commit in, the gate's feedback out.

The only module that imports `github`. Requests go through PyGithub's `retry=` hook with a counting,
bounded GithubRetry; `lazy=True` and `per_page=100` keep one PR's collection to ten requests or so.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from importlib.metadata import version

from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubObject import NotSet
from github.NamedUser import NamedUser
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.Repository import Repository
from requests import RequestException

from connectors import _codeowners
from connectors._http import (
    CountingRetry,
    Place,
    WaitBudgetExceededError,
    rate_limit_error,
    status_error,
)
from connectors._reviews import RawReview, count_reviews, is_bot, linked_issues
from connectors.interface import (
    GITHUB_CHECK_SUMMARY_LIMIT,
    GITHUB_COMMENT_LIMIT,
    CollectOptions,
    Feedback,
    ProviderError,
    ProviderPermissionError,
    PublishResult,
    RateLimitError,
    RequestStats,
    RetryPolicy,
    sticky_marker,
)
from gatekeeper.facts import Change, Check, Checks, Commit, Facts, Reviews, Source, Subject
from gatekeeper.logs import SECRETS

_log = logging.getLogger(__name__)

ANNOTATIONS_PER_REQUEST = 50
_OK_CONCLUSIONS = {"success", "neutral", "skipped"}
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

    def collector(
        self,
        number: int | None,
        *,
        commit: str | None = None,
        options: CollectOptions | None = None,
    ) -> GitHubCollector:
        """A collector for pull request `number` (or, without one, for `commit`)."""
        return GitHubCollector(self, number, commit=commit, options=options or CollectOptions())

    def publisher(
        self, *, number: int | None, commit: str, comment: bool = True
    ) -> GitHubPublisher:
        """A publisher on pull request `number` and head `commit` (comment: the sticky one)."""
        return GitHubPublisher(self, number=number, commit=commit, comment=comment)


class GitHubCollector:
    """Facts of one pull request: subject, change, reviews, CODEOWNERS approval, checks."""

    def __init__(
        self, gh: GitHub, number: int | None, *, commit: str | None, options: CollectOptions
    ) -> None:
        if number is None and commit is None:
            raise ProviderError("GitHub: give a pull request number or a commit to collect")
        self._gh = gh
        self._number = number
        self._commit = commit
        self._options = options

    def collect(self) -> Facts:
        """The facts; reviews of a commit without a pull request are missing, with why."""
        if self._number is None:
            return self._collect_commit(str(self._commit))
        gh, number = self._gh, self._number
        with gh.translate(f"reading pull request #{number}", "pull-requests: read"):
            pr = gh.repo.get_pull(number)
            head, base_ref = pr.head.sha, pr.base.ref
            commits = [_commit(c) for c in pr.get_commits()]
            files = tuple(f.filename for f in pr.get_files())
            raw = [_raw_review(r) for r in pr.get_reviews()]
        change = self._change(pr, commits, files)
        excluded = {change.author or ""}
        if self._options.exclude_commit_authors:
            excluded |= {c.author for c in commits if c.author}
        counted = count_reviews(raw, head=head, excluded=excluded)
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
            commit=head,
            ref=pr.head.ref,
            number=number,
            url=pr.html_url,
        )
        return Facts(
            subject=subject,
            reviews=reviews,
            checks=self._checks(head),
            change=change,
            missing=missing,
            sources=(self._source(f"pulls/{number}"),),
        )

    def _change(self, pr: PullRequest, commits: list[Commit], files: tuple[str, ...]) -> Change:
        author = pr.user.login if pr.user else None
        texts = [pr.title, pr.head.ref, *(c.message for c in commits)]
        return Change(
            title=pr.title,
            branch=pr.head.ref,
            base_ref=pr.base.ref,
            labels=tuple(label.name for label in pr.labels),
            author=author,
            linked_issues=linked_issues(self._options.issue_pattern, texts),
            commits=tuple(commits),
            files=files,
        )

    def _collect_commit(self, sha: str) -> Facts:
        gh = self._gh
        with gh.translate(f"reading commit {sha[:12]}", "contents: read"):
            found = gh.repo.get_commit(sha)
            commit = _commit(found)
        message = commit.message
        change = Change(
            title=message.splitlines()[0] if message else None,
            author=commit.author,
            commits=(commit,),
            linked_issues=linked_issues(self._options.issue_pattern, [message]),
        )
        return Facts(
            subject=Subject(provider="github", repo=gh.repo_name, commit=sha),
            checks=self._checks(sha),
            change=change,
            missing={"reviews": "no pull request: reviews exist only on a pull request"},
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


class GitHubPublisher:
    """Commit status, one sticky PR comment and a check run with annotations."""

    def __init__(self, gh: GitHub, *, number: int | None, commit: str, comment: bool) -> None:
        self._gh = gh
        self._number = number
        self._commit = commit
        self._comment = comment

    def publish(self, feedback: Feedback) -> PublishResult:
        """Writes every channel; a channel the token may not write becomes a notice."""
        written: dict[str, str] = {}
        notices: list[str] = []
        channels = [("status", self.status), ("check_run", self.check_run)]
        if self._number is not None and self._comment:
            channels.append(("comment", self.comment))
        for channel, write in channels:
            try:
                written[channel] = write(feedback)
            except ProviderPermissionError as error:
                notices.append(f"{channel} not written: {error}")
        return PublishResult(written=written, notices=tuple(notices))

    def status(self, feedback: Feedback) -> str:
        """Sets the commit status `gatekeeper/<policy>` on the head; returns its URL."""
        gh = self._gh
        with gh.translate("setting the commit status", "statuses: write", write=True):
            status = gh.repo.get_commit(self._commit).create_status(
                state="success" if feedback.verdict == "pass" else "failure",
                description=feedback.summary[:140],
                context=f"{_OWN_PREFIX}{feedback.policy}",
                target_url=feedback.details_url or NotSet,
            )
        return str(status.url)

    def comment(self, feedback: Feedback) -> str:
        """Creates or edits in place the one comment carrying the policy's hidden marker."""
        gh = self._gh
        marker = sticky_marker(feedback.policy)
        body = f"{marker}\n{feedback.markdown(GITHUB_COMMENT_LIMIT - len(marker) - 1)}"
        with gh.translate("writing the pull request comment", "pull-requests: write", write=True):
            issue = gh.repo.get_issue(int(str(self._number)))
            for existing in issue.get_comments():
                if existing.body and existing.body.startswith(marker):
                    existing.edit(body)
                    return str(existing.html_url)
            return str(issue.create_comment(body).html_url)

    def check_run(self, feedback: Feedback) -> str:
        """Creates a completed check run; annotations go 50 per request."""
        gh = self._gh
        annotations: list[dict[str, str | int]] = [
            {
                "path": str(failure.file),
                "start_line": int(str(failure.line)),
                "end_line": int(str(failure.line)),
                "annotation_level": "failure",
                "title": failure.name[:255],
                "message": (failure.message or failure.name)[:4000],
            }
            for failure in feedback.failures
            if failure.file and failure.line and _repo_relative(failure.file)
        ]
        output: dict[str, str | list[dict[str, str | int]]] = {
            "title": feedback.summary[:255],
            "summary": feedback.markdown(GITHUB_CHECK_SUMMARY_LIMIT),
        }
        batches = [
            annotations[i : i + ANNOTATIONS_PER_REQUEST]
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        with gh.translate("creating the check run", "checks: write", write=True):
            run = gh.repo.create_check_run(
                name=f"{_OWN_PREFIX}{feedback.policy}",
                head_sha=self._commit,
                status="completed",
                conclusion="success" if feedback.verdict == "pass" else "failure",
                output={**output, "annotations": batches[0]},
                details_url=feedback.details_url or NotSet,
            )
            for batch in batches[1:]:
                run.edit(output={**output, "annotations": batch})
        return str(run.html_url)


def _repo_relative(path: str) -> bool:
    """Annotations need a path inside the repository; absolute and `..` paths are skipped."""
    return not (path.startswith(("/", "\\")) or ":" in path[:3] or ".." in path.split("/"))
