"""Provider facts and feedback for the commands: target from flags/CI, request count, notices."""

from __future__ import annotations

import enum
import functools
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from connectors import providers
from connectors.ci_env import (
    append_step_summary,
    detect_ci,
    write_dotenv,
    write_github_output,
)
from connectors.interface import CollectOptions, Connection, Feedback, RequestStats, RetryPolicy
from connectors.providers import Target
from gatekeeper.cli import _log_guard
from gatekeeper.config import Settings
from gatekeeper.errors import UsageError
from gatekeeper.facts import Facts
from gatekeeper.policy import Outcome, Verdict
from gatekeeper.render import verdict_markdown
from gatekeeper.render.escape import terminal_text
from gatekeeper.render.markdown import LinesLink, Links

_log = logging.getLogger(__name__)
DOTENV_NAME = "gatekeeper.env"


if TYPE_CHECKING:
    ProviderChoice = str
else:  # the values of --provider: the names in the provider table
    ProviderChoice = enum.StrEnum("ProviderChoice", {name: name for name in providers.PROVIDERS})


def _lines_link(facts: Facts) -> LinesLink | None:
    """The subject's provider's link to changed lines, when the facts name the change's page."""
    subject = facts.subject
    entry = providers.PROVIDERS.get(subject.provider or "") if subject is not None else None
    if subject is None or entry is None or not subject.url:
        return None
    return functools.partial(entry.changed_lines_url, subject.url, subject.commit)


def retry_policy(settings: Settings) -> RetryPolicy:
    """The connectors' retry policy from the settings."""
    return RetryPolicy(
        attempts=settings.provider_attempts,
        base_delay=settings.provider_base_delay,
        max_total_wait=settings.provider_max_total_wait,
        write_interval=settings.provider_write_interval,
    )


def optional_target(
    provider: str | None,
    *,
    api_url: str | None,
    repo: str | None,
    number: int | None,
    env: Mapping[str, str],
    commit: str | None = None,
) -> Target | None:
    """The provider target when one is named or the job runs in GitHub Actions / GitLab CI."""
    named = provider is not None or repo is not None or number is not None or commit is not None
    if not named and detect_ci(env) is None:
        return None
    return providers.resolve_target(
        provider,
        api_url=api_url,
        repo=repo,
        number=number,
        commit=commit,
        env=env,
        require_number=False,
    )


class Session:
    """One connection to a provider for the length of a command, counting its requests."""

    def __init__(self, target: Target, settings: Settings) -> None:
        self.target = target
        self.stats = RequestStats()
        self._issue_pattern = settings.issue_pattern
        self.connection: Connection = providers.connect(
            target, retry=retry_policy(settings), stats=self.stats
        )

    @property
    def can_collect(self) -> bool:
        """Whether there is a PR/MR, or a commit (whose merging PR/MR is found), to collect."""
        return self.target.number is not None or self.target.commit is not None

    def collect(self, options: CollectOptions | None = None) -> Facts:
        """The provider's facts of the target's PR/MR (or commit), request count logged."""
        options = options or CollectOptions()
        if self._issue_pattern and "issue_pattern" not in options.model_fields_set:
            options = options.model_copy(update={"issue_pattern": self._issue_pattern})
        try:
            return providers.collector(self.connection, self.target, options).collect()
        finally:
            self.log_count()

    def log_count(self) -> None:
        """Logs (shown with --verbose) how many HTTP requests went to the provider so far."""
        _log.info(
            "%d HTTP request(s) to %s at %s",
            self.stats.requests,
            self.target.provider,
            self.target.api_url,
        )

    def publish(
        self, feedback: Feedback, *, head: str | None, comment: bool, dotenv: Path | None
    ) -> None:
        """Posts feedback where the target's provider shows it; refused writes become notices."""
        target, ci, entry = self.target, self.target.ci, self.target.entry
        commit = head or target.commit
        if entry.ci_dotenv and ci is not None and dotenv is None:
            dotenv = Path(DOTENV_NAME)
        if commit is not None:
            publisher = providers.publisher(
                self.connection, target, head=commit, comment=comment, dotenv=dotenv
            )
            result = publisher.publish(feedback)
            for channel, where in result.written.items():
                _log.info("feedback: %s %s", channel, where)
            for notice in result.notices:
                _notice(notice, workflow_command=entry.workflow_notices and ci is not None)
        if dotenv is not None and (not entry.ci_dotenv or commit is None):
            write_dotenv(dotenv, feedback)
        if ci is not None and ci.step_summary is not None:
            append_step_summary(ci.step_summary, feedback.render)
        if ci is not None and ci.output is not None:
            write_github_output(
                ci.output, {"verdict": feedback.verdict, "summary": feedback.summary}
            )
        self.log_count()


@dataclass(frozen=True)
class FeedbackChoices:
    """What `evaluate` writes back: --no-feedback, --no-comment, --dotenv, --summary-file."""

    enabled: bool = True
    comment: bool = True
    dotenv: Path | None = None
    summary_file: Path | None = None


def report_back(
    session: Session | None, feedback: Feedback, choices: FeedbackChoices, *, head: str | None
) -> None:
    """Writes the requested local files, and the provider/CI feedback unless turned off."""
    if choices.summary_file is not None:
        try:
            choices.summary_file.write_text(feedback.render(None), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {choices.summary_file}: {error.strerror}") from error
    if session is not None and choices.enabled:
        session.publish(feedback, head=head, comment=choices.comment, dotenv=choices.dotenv)
    elif choices.dotenv is not None:
        write_dotenv(choices.dotenv, feedback)


def verdict_feedback(
    verdict: Verdict, facts: Facts, *, details_url: str | None, record_url: str | None = None
) -> Feedback:
    """The Feedback for `verdict`: Markdown rendered per channel limit, failed tests, links to
    the run and to the stored record."""
    counts = verdict.counts()
    labels: tuple[tuple[Outcome, str], ...] = (
        ("fail", "failed"),
        ("error", "errors"),
        ("warn", "warnings"),
        ("waived", "waived"),
        ("pass", "passed"),
        ("skipped", "skipped"),
    )
    parts = [f"{counts[outcome]} {label}" for outcome, label in labels if counts[outcome]]
    summary = f"Gatekeeper {verdict.policy.name}: {verdict.verdict} ({', '.join(parts)})"
    links = Links(run_url=details_url, record_url=record_url, lines_link=_lines_link(facts))

    def render(limit: int | None) -> str:
        return verdict_markdown(verdict, facts, limit=limit, links=links)

    return Feedback(
        verdict=verdict.verdict,
        policy=verdict.policy.name,
        summary=summary,
        render=render,
        failures=facts.tests.failures if facts.tests else (),
        uncovered=facts.coverage.patch.uncovered
        if facts.coverage is not None and facts.coverage.patch is not None
        else (),
        details_url=details_url,
    )


def _notice(text: str, *, workflow_command: bool) -> None:
    if workflow_command:
        _log_guard.workflow_command("notice", text, title="Gatekeeper feedback")
    else:
        print("notice: " + terminal_text(text), file=sys.stderr)
