"""GitHub feedback through the `connectors.github` connection (which alone imports PyGithub):
commit status, sticky PR comment, check run, annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.interface import (
    GITHUB_CHECK_SUMMARY_LIMIT,
    GITHUB_COMMENT_LIMIT,
    Feedback,
    PublishResult,
    lines_words,
    publish_channels,
    repo_relative,
    sticky_body,
)
from gatekeeper.render.escape import annotation_text

if TYPE_CHECKING:
    from connectors.github import GitHub

ANNOTATIONS_PER_REQUEST = 50
UNCOVERED_ANNOTATIONS = 50
_OWN_PREFIX = "gatekeeper/"


class GitHubPublisher:
    """Commit status; on a pull request also one sticky comment and a check run with annotations."""

    def __init__(self, gh: GitHub, *, number: int | None, commit: str, comment: bool) -> None:
        self._gh = gh
        self._number = number
        self._commit = commit
        self._comment = comment

    def publish(self, feedback: Feedback) -> PublishResult:
        """Writes every channel; a channel the token may not write becomes a notice."""
        channels = [("status", self.status)]
        if self._number is not None:  # a push or release gets the commit status only
            channels.append(("check_run", self.check_run))
            if self._comment:
                channels.append(("comment", self.comment))
        written, notices = publish_channels(channels, feedback)
        return PublishResult(written=written, notices=notices)

    def status(self, feedback: Feedback) -> str:
        """Sets the commit status `gatekeeper/<policy>` on the head; returns its URL."""
        gh = self._gh
        link = {"target_url": feedback.details_url} if feedback.details_url else {}
        with gh.translate("setting the commit status", "statuses: write", write=True):
            status = gh.repo.get_commit(self._commit).create_status(
                state="success" if feedback.verdict == "pass" else "failure",
                description=feedback.summary[:140],
                context=f"{_OWN_PREFIX}{feedback.policy}",
                **link,
            )
        return str(status.url)

    def comment(self, feedback: Feedback) -> str:
        """Creates or edits in place the one comment carrying the policy's hidden marker."""
        gh = self._gh
        marker, body = sticky_body(feedback, GITHUB_COMMENT_LIMIT)
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
        annotations = failure_annotations(feedback) + _uncovered_annotations(feedback)
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
                details_url=gh.unset_if_empty(feedback.details_url),
            )
            for batch in batches[1:]:
                run.edit(output={**output, "annotations": batch})
        return str(run.html_url)


def failure_annotations(feedback: Feedback) -> list[dict[str, str | int]]:
    """One failure annotation per failed test with a file and line in the repository; title
    and message through the annotation channel's escaping."""
    return [
        {
            "path": str(failure.file),
            "start_line": int(str(failure.line)),
            "end_line": int(str(failure.line)),
            "annotation_level": "failure",
            "title": annotation_text(failure.name, 255),
            "message": annotation_text(failure.message or failure.name, 4000),
        }
        for failure in feedback.failures
        if failure.file and failure.line and repo_relative(failure.file)
    ]


def _uncovered_annotations(feedback: Feedback) -> list[dict[str, str | int]]:
    """One warning per run of changed lines no test ran, at most UNCOVERED_ANNOTATIONS."""
    found: list[dict[str, str | int]] = [
        {
            "path": item.file,
            "start_line": first,
            "end_line": last,
            "annotation_level": "warning",
            "title": "Changed lines not covered by tests",
            "message": f"No test ran {lines_words(first, last)} of this change.",
        }
        for item in feedback.uncovered
        if repo_relative(item.file)
        for first, last in item.ranges
    ]
    return found[:UNCOVERED_ANNOTATIONS]
