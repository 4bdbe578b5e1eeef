"""The facts summary of the record page: one section per fact group, with its ISO 9001 clause."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ISSUE_NUMBER = re.compile(r"^#([0-9]{1,9})$")
_GITHUB_PR = re.compile(r"^(https?://[^\s/]+/[^\s]+?)/pull/[0-9]+/?$")
_GITLAB_MR = re.compile(r"^(https?://[^\s/]+/[^\s]+?)/-/merge_requests/[0-9]+/?$")
_HTTP_URL = re.compile(r"^https?://[^\s\"'<>]+$")


@dataclass(frozen=True)
class FactItem:
    """One line of a section: label, value, and an optional http(s) link."""

    label: str
    value: str
    href: str | None = None


@dataclass(frozen=True)
class FactSection:
    """A group of facts and the ISO 9001 clause it gives evidence for."""

    title: str
    clause: str
    items: list[FactItem] = field(default_factory=list)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> str:
    items = _l(value)
    return ", ".join(str(item) for item in items) or "—"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rate(value: Any) -> str:
    return f"{value * 100:.1f} %" if isinstance(value, int | float) else "—"


def issue_link(issue: str, change_url: str | None) -> str | None:
    """A link to a linked issue: itself when a URL, else beside the PR/MR URL for `#N`."""
    if _HTTP_URL.match(issue):
        return issue
    number = _ISSUE_NUMBER.match(issue)
    if number is None or change_url is None:
        return None
    if github := _GITHUB_PR.match(change_url):
        return f"{github.group(1)}/issues/{number.group(1)}"
    if gitlab := _GITLAB_MR.match(change_url):
        return f"{gitlab.group(1)}/-/issues/{number.group(1)}"
    return None


def _failure(failure: dict[str, Any]) -> str:
    where = failure.get("classname") or failure.get("suite") or ""
    return f"{where} {failure.get('name', '')}".strip()


def _tests(tests: dict[str, Any]) -> FactSection:
    names = ("total", "passed", "failed", "errors", "skipped", "flaky", "duration_s")
    items = [FactItem(name.replace("_s", " (s)"), _show(tests.get(name))) for name in names]
    failures = _l(tests.get("failures"))
    items += [FactItem("failure", _failure(_d(failure))) for failure in failures[:20]]
    return FactSection("Tests", "8.3.4", items)


def _coverage(coverage: dict[str, Any]) -> FactSection:
    patch = _d(coverage.get("patch"))
    items = [
        FactItem("line rate", _rate(coverage.get("line_rate"))),
        FactItem("lines covered", _show(coverage.get("lines_covered"))),
        FactItem("lines valid", _show(coverage.get("lines_valid"))),
        FactItem("branch rate", _rate(coverage.get("branch_rate"))),
    ]
    if patch:
        items.append(FactItem("patch rate", _rate(patch.get("rate"))))
    return FactSection("Coverage", "8.3.4", items)


def _reviews(reviews: dict[str, Any]) -> FactSection:
    return FactSection(
        "Reviews",
        "8.3.4 / 8.6 (b)",
        [
            FactItem("approvals", _show(reviews.get("approvals"))),
            FactItem("approvers", _names(reviews.get("approvers"))),
            FactItem("changes requested", _show(reviews.get("changes_requested"))),
            FactItem("code owners approved", _show(reviews.get("codeowners_approved"))),
            FactItem("stale approvals", _show(reviews.get("stale_approvals"))),
        ],
    )


def _checks(checks: dict[str, Any]) -> FactSection:
    runs = _l(checks.get("runs"))
    failed = _l(checks.get("failed"))
    return FactSection(
        "Checks",
        "8.3.4",
        [
            FactItem("runs", str(len(runs))),
            FactItem("failed", ", ".join(str(_d(c).get("name")) for c in failed) or "none"),
        ],
    )


def _change(change: dict[str, Any], change_url: str | None) -> FactSection:
    items = [
        FactItem("title", _show(change.get("title")), change_url),
        FactItem("branch", _show(change.get("branch"))),
        FactItem("author", _show(change.get("author"))),
        FactItem("labels", _names(change.get("labels"))),
    ]
    issues = _l(change.get("linked_issues"))
    items += [FactItem("linked issue", str(i), issue_link(str(i), change_url)) for i in issues]
    if not issues:
        items.append(FactItem("linked issue", "none"))
    return FactSection("Change", "8.3.6 / 8.5.6", items)


def _subject(subject: dict[str, Any], change_url: str | None) -> FactSection:
    names = ("provider", "repo", "commit", "ref", "number")
    items = [FactItem(name, _show(subject.get(name))) for name in names]
    items.append(FactItem("url", _show(subject.get("url")), change_url))
    return FactSection("Subject", "8.5.2", items)


def fact_sections(facts: dict[str, Any]) -> list[FactSection]:
    """The sections of the facts present in `facts`, in a fixed order."""
    subject = _d(facts.get("subject"))
    url = subject.get("url")
    change_url = url if isinstance(url, str) and _HTTP_URL.match(url) else None
    sections = []
    if subject:
        sections.append(_subject(subject, change_url))
    for name, build in (("tests", _tests), ("coverage", _coverage), ("reviews", _reviews)):
        if _d(facts.get(name)):
            sections.append(build(_d(facts.get(name))))
    if _d(facts.get("checks")):
        sections.append(_checks(_d(facts.get("checks"))))
    if _d(facts.get("change")):
        sections.append(_change(_d(facts.get("change")), change_url))
    return sections
