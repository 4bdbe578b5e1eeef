"""The connector boundary: protocols for collecting facts and publishing feedback, their values.

Implementations live in one module each (`connectors.github`, `connectors.gitlab`); the CLI builds
them and hands them in. Errors::

    gatekeeper.errors.ConnectorError
    └── ProviderError                a provider API failed after retries or answered nonsense
        ├── RateLimitError           the provider asked us to wait longer than we may
        └── ProviderPermissionError  401/403/404 (also a gatekeeper.errors.ProviderAuthError)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from connectors._ci_context import CiContext
from gatekeeper.errors import ConnectorError, ProviderAuthError
from gatekeeper.facts import Facts, TestFailure, UncoveredLines

GITHUB_COMMENT_LIMIT = 65_536
GITHUB_CHECK_SUMMARY_LIMIT = 65_535
GITHUB_STEP_SUMMARY_LIMIT = 1024 * 1024
GITLAB_NOTE_LIMIT = 1_000_000

Renderer = Callable[[int | None], str]
"""`render(limit)`: the Markdown verdict, cut to at most `limit` characters (None: no limit)."""


class ProviderError(ConnectorError):
    """A provider API failed after retries, or answered something we cannot use."""


class RateLimitError(ProviderError):
    """The provider asked us to wait longer than the retry policy allows."""


class ProviderPermissionError(ProviderError, ProviderAuthError):
    """The provider refused the token (401/403) or cannot see the repository (404)."""

    def __init__(self, message: str, *, status: int, write: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.write = write


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetryPolicy(_Frozen):
    """How hard a connector retries connection errors, 5xx, 429 and rate limits."""

    attempts: int = Field(default=5, ge=1, description="Tries per request, the first included.")
    base_delay: float = Field(default=0.5, ge=0, description="Backoff base in seconds.")
    max_delay: float = Field(default=30.0, ge=0, description="Longest backoff between tries.")
    jitter: float = Field(default=0.5, ge=0, description="Random extra wait, 0..jitter seconds.")
    max_wait: float = Field(
        default=120.0, ge=0, description="Longest single wait a server may ask for (Retry-After)."
    )
    max_total_wait: float = Field(default=300.0, ge=0, description="Bound on all waits together.")
    secondary_rate_wait: float = Field(
        default=60.0, ge=0, description="Wait after a GitHub secondary rate limit without headers."
    )
    timeout: float = Field(default=30.0, gt=0, description="Socket timeout per request.")
    write_interval: float = Field(
        default=1.0,
        ge=0,
        description="Pause between writes (GitHub's advice against abuse limits).",
    )
    sleep: Callable[[float], None] = time.sleep


ISSUE_PATTERN = r"\b[A-Z][A-Z0-9]+-\d+\b|(?<![\w/#&.:-])(?:[A-Za-z0-9][\w.-]*/[\w.-]+)?#\d+\b"
"""Jira-style keys (QA-12), and issue references as GitHub and GitLab write them: `#123`,
`owner/repo#123` (so `Fixes #123`, `Closes #12` too); not URL fragments or `&#123;`."""


class CollectOptions(_Frozen):
    """Choices shared by the provider collectors."""

    issue_pattern: str = Field(
        default=ISSUE_PATTERN,
        description="Regex over title, description, branch and commit messages that finds "
        "linked issues (default: Jira keys, #123, owner/repo#123).",
    )
    exclude_commit_authors: bool = Field(
        default=False, description="Nobody who authored a commit in the change may approve it."
    )


class RequestStats:
    """Counts HTTP requests (every attempt) and records the waits between retries."""

    def __init__(self) -> None:
        self.requests = 0
        self.by_method: dict[str, int] = {}
        self.waits: list[float] = []

    def record_request(self, method: str) -> None:
        """Counts one request sent (or attempted) with `method`."""
        self.requests += 1
        key = method.upper()
        self.by_method[key] = self.by_method.get(key, 0) + 1

    @property
    def waited(self) -> float:
        """Seconds waited between retries so far."""
        return sum(self.waits)


class Feedback(_Frozen):
    """What the gate tells the pull/merge request: the verdict and how to render it."""

    verdict: Literal["pass", "fail"]
    policy: str = Field(min_length=1)
    summary: str = Field(description="One line, e.g. '3 of 4 rules passed'.")
    render: Renderer = Field(description="`render(limit) -> Markdown` for a channel's size limit.")
    failures: tuple[TestFailure, ...] = ()
    uncovered: tuple[UncoveredLines, ...] = Field(
        default=(), description="Changed lines no test ran, for line annotations."
    )
    details_url: str | None = None

    def markdown(self, limit: int | None) -> str:
        """The rendered body, guaranteed to fit `limit` even if the renderer overshoots."""
        return fit(self.render(limit), limit)


class PublishResult(_Frozen):
    """What a publisher wrote (channel -> id or URL) and what it could not (notices)."""

    written: dict[str, str] = Field(default_factory=dict)
    notices: tuple[str, ...] = ()


_CUT_LINE = "\n\n_(cut: the full text is longer than this channel allows)_\n"


def sticky_marker(policy: str) -> str:
    """The hidden marker by which the policy's PR comment / MR note is found again."""
    return f"<!-- gatekeeper:{policy} -->"


def fit(text: str, limit: int | None) -> str:
    """`text` if it fits `limit` characters, else its head plus a line saying it was cut."""
    if limit is None or len(text) <= limit:
        return text
    keep = max(0, limit - len(_CUT_LINE))
    return text[:keep] + _CUT_LINE[: limit - keep]


@runtime_checkable
class FactsCollector(Protocol):
    """Collects the facts of one pull/merge request (or one commit) from a provider."""

    def collect(self) -> Facts:
        """The facts; sections the provider cannot give are listed in `Facts.missing`."""
        ...


@runtime_checkable
class FeedbackPublisher(Protocol):
    """Writes the gate's verdict back where reviewers see it."""

    def publish(self, feedback: Feedback) -> PublishResult:
        """Writes every channel; a channel refused for lack of permission becomes a notice."""
        ...


Channel = tuple[str, Callable[["Feedback"], str]]


def publish_channels(
    channels: Sequence[Channel], feedback: Feedback
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Writes each (name, writer) channel in order: what was written where, and a notice for
    each channel the token may not write (a fork's read-only token), never an error."""
    written: dict[str, str] = {}
    notices: list[str] = []
    for channel, write in channels:
        try:
            written[channel] = write(feedback)
        except ProviderPermissionError as error:
            notices.append(f"{channel} not written: {error}")
    return written, tuple(notices)


def repo_relative(path: str) -> bool:
    """Line annotations need a path inside the repository; absolute and `..` paths are not."""
    return not (path.startswith(("/", "\\")) or ":" in path[:3] or ".." in path.split("/"))


def lines_words(first: int, last: int) -> str:
    """'lines 12-14', or 'line 31'."""
    return f"lines {first}-{last}" if last > first else f"line {first}"


def sticky_body(feedback: Feedback, limit: int) -> tuple[str, str]:
    """The hidden marker that finds the one comment/note again, and its body within `limit`."""
    marker = sticky_marker(feedback.policy)
    return marker, f"{marker}\n{feedback.markdown(limit - len(marker) - 1)}"


@runtime_checkable
class Connection(Protocol):
    """One repository on one provider: collectors of its changes and publishers of feedback."""

    stats: RequestStats

    def collector(
        self,
        number: int | None,
        *,
        commit: str | None = None,
        ref: str | None = None,
        options: CollectOptions | None = None,
    ) -> FactsCollector:
        """A collector of PR/MR `number`, or of `commit` (reviews from the PR/MR that merged it)."""
        ...

    def publisher(
        self, *, number: int | None, commit: str, comment: bool = True, dotenv: Path | None = None
    ) -> FeedbackPublisher:
        """A publisher on PR/MR `number` and head `commit`; `dotenv` where the CI reads one."""
        ...

    def approvers_of(self, number: int, head: str) -> tuple[str, ...] | None:
        """Who approved PR/MR `number` on `head` (None when the provider cannot tell)."""
        ...


class IdTokenRequest(_Frozen):
    """How a CI hands a job an OIDC ID token on request: the variables holding the request URL
    (to which `audience=` is added) and the bearer token for it."""

    ci_title: str
    url_variable: str
    token_variable: str


class Provider(Protocol):
    """One entry of the provider table (`connectors.providers.PROVIDERS`): what the CLI and the
    service need to know of a code host without naming it. Adding a host is one module that
    defines its connection and one of these, and one line in the table."""

    name: str
    """The `--provider` value and `subject.provider` of its facts, e.g. `github`."""
    title: str
    """How sentences name it, e.g. `GitHub`."""
    default_api_url: str
    token_variables: tuple[str, ...]
    """Environment variables holding its API token, first found wins; any after the first is a
    CI job's own token, with fewer rights (GitLab's CI_JOB_TOKEN)."""
    ci_dotenv: bool
    """Its CI reads a dotenv report, which the publisher writes with the feedback."""
    workflow_notices: bool
    """In its CI, notices are workflow commands (GitHub Actions' `::notice::`)."""
    id_token_request: IdTokenRequest | None
    """How its CI hands out an ID token on request; None when it gives one in a variable
    (`GATEKEEPER_ID_TOKEN`, GitLab's `id_tokens:`)."""

    def changed_lines_url(
        self, change_url: str, commit: str | None, path: str, first: int, last: int
    ) -> str | None:
        """Where lines `first`-`last` of `path` are shown for the change at `change_url`
        (its web page), or None when it cannot say."""
        ...

    def ci_context(self, env: Mapping[str, str]) -> CiContext | None:
        """The context of its CI job described by `env`, or None when `env` is not its CI."""
        ...

    def connect(
        self,
        *,
        api_url: str,
        token: str | None,
        repo: str,
        job_token: bool = False,
        retry: RetryPolicy | None = None,
        stats: RequestStats | None = None,
    ) -> Connection:
        """A connection to `repo` at `api_url`."""
        ...
