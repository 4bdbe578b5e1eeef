"""The dotenv report a CI reads after the job (GitLab's `artifacts: reports: dotenv:`)."""

from __future__ import annotations

from pathlib import Path

from connectors.interface import Feedback
from gatekeeper.errors import InputError


def write_dotenv(path: Path, feedback: Feedback) -> Path:
    """Writes GATEKEEPER_VERDICT, _POLICY and _SUMMARY for a `reports: dotenv:` artifact."""
    summary = " ".join(feedback.summary.split())[:1000]
    lines = [
        f"GATEKEEPER_VERDICT={feedback.verdict}",
        f"GATEKEEPER_POLICY={feedback.policy}",
        f"GATEKEEPER_SUMMARY={summary}",
    ]
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(path, f"cannot write ({error.strerror})") from error
    return path
