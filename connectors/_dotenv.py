"""The report files a GitLab CI job hands on: the dotenv report for later jobs
(`artifacts: reports: dotenv:`) and the code-quality report the merge request's diff shows
(`artifacts: reports: codequality:`, a JSON list of Code Climate issues)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from connectors.interface import Feedback, lines_words, repo_relative
from gatekeeper.errors import InputError

CODE_QUALITY_NAME = "gatekeeper-codequality.json"
"""Written beside the dotenv report; the component's `reports: codequality:` names it."""
CODE_QUALITY_LIMIT = 1000


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


def write_code_quality(path: Path, feedback: Feedback) -> Path:
    """Writes one minor issue per run of changed lines no test ran (paths inside the repository,
    at most CODE_QUALITY_LIMIT), for GitLab's merge request widget and diff."""
    issues = [
        {
            "description": f"No test ran {lines_words(first, last)} of this change.",
            "check_name": "gatekeeper/uncovered-lines",
            "fingerprint": hashlib.sha256(f"{item.file}:{first}-{last}".encode()).hexdigest(),
            "severity": "minor",
            "location": {"path": item.file, "lines": {"begin": first, "end": last}},
        }
        for item in feedback.uncovered
        if repo_relative(item.file)
        for first, last in item.ranges
    ][:CODE_QUALITY_LIMIT]
    try:
        path.write_text(json.dumps(issues, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(path, f"cannot write ({error.strerror})") from error
    return path
