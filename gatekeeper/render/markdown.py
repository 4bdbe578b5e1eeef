"""A Verdict as Markdown: job summaries, PR comments and MR notes.

With `limit`, the text never exceeds that many characters: failed rules are kept first, then test
failures, then the other rules, and a last line says what was cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gatekeeper.facts import Facts, Finding, TestFailure
from gatekeeper.policy.verdict import RuleResult, Verdict
from gatekeeper.render._common import MARKS, ordered, short_digest, summary
from gatekeeper.render.escape import markdown_code, markdown_text

CELL_LIMIT = 300
FAILURE_LIMIT = 200
FAILURES_LISTED = 50
UNCOVERED_LISTED = 20
UNCOVERED_RANGES_LISTED = 15
FINDINGS_LISTED = 10
_LEVEL_ORDER = {"error": 0, "warning": 1, "note": 2}
_URGENT = ("fail", "error")
_WRAPPERS = 140  # table head, the failures <details> block and blank lines


def _row(rule: RuleResult) -> str:
    title = markdown_text(rule.title, CELL_LIMIT)
    clause = markdown_text(rule.clause or "", CELL_LIMIT)
    return (
        f"| {MARKS[rule.outcome]} {rule.outcome} | {markdown_code(rule.id, in_table=True)} "
        f"{title} | {markdown_text(rule.message, CELL_LIMIT)} | {clause} |"
    )


def _failure_line(failure: TestFailure) -> str:
    ident = ".".join(part for part in (failure.classname, failure.name) if part)
    where = (
        f" ({markdown_code(f'{failure.file}:{failure.line}', FAILURE_LIMIT)})"
        if failure.file and failure.line
        else ""
    )
    message = markdown_text(failure.message, FAILURE_LIMIT)
    return f"- {failure.kind} {markdown_code(ident, FAILURE_LIMIT)}{where}" + (
        f": {message}" if message else ""
    )


def _facts_line(facts: Facts | None) -> str:
    if facts is None:
        return ""
    parts: list[str] = []
    if facts.tests is not None:
        t = facts.tests
        parts.append(f"tests {t.total} total, {t.failed} failed, {t.errors} errors")
    if facts.coverage is not None and facts.coverage.line_rate is not None:
        delta = facts.coverage.delta
        change = "" if delta is None else f" ({delta * 100:+.1f} against the base)"
        parts.append(f"line coverage {facts.coverage.line_rate * 100:.1f}%{change}")
    if facts.tests is not None and facts.tests.new_failures is not None:
        count = len(facts.tests.new_failures)
        parts.append(f"{count} new {'failure' if count == 1 else 'failures'} against the base")
    if facts.tests is not None and facts.tests.newly_skipped is not None:
        parts.append(f"{facts.tests.newly_skipped} newly skipped")
    if facts.coverage is not None and facts.coverage.patch is not None:
        rate = facts.coverage.patch.rate
        parts.append("patch coverage " + ("n/a" if rate is None else f"{rate * 100:.1f}%"))
    return " · ".join(parts)


NAMED_TESTS = 10
"""At most this many flaky tests / new failures are named in the comment."""


def _named(title: str, ids: tuple[str, ...]) -> list[str]:
    if not ids:
        return []
    shown = ", ".join(markdown_code(i, FAILURE_LIMIT) for i in ids[:NAMED_TESTS])
    more = f", … and {len(ids) - NAMED_TESTS} more" if len(ids) > NAMED_TESTS else ""
    return [f"**{title} ({len(ids)})**: {shown}{more}", ""]


def _named_tests(facts: Facts | None) -> list[str]:
    """The new failures against the base and the flaky tests, by name."""
    tests = facts.tests if facts is not None else None
    if tests is None:
        return []
    return _named("New failures against the base", tests.new_failures or ()) + _named(
        "Flaky tests (failed, then passed)", tests.flaky_tests
    )


def _uncovered_lines(facts: Facts | None, links: Links | None) -> list[str]:
    patch = facts.coverage.patch if facts and facts.coverage else None
    if patch is None or not patch.uncovered:
        return []
    lines = []
    for item in patch.uncovered[:UNCOVERED_LISTED]:
        ranges = []
        for first, last in item.ranges[:UNCOVERED_RANGES_LISTED]:
            words = f"{first}-{last}" if last > first else str(first)
            url = links.lines_url(item.file, first, last) if links else None
            ranges.append(f"[{words}](<{url}>)" if url and _web_url(url) else words)
        more = len(item.ranges) - UNCOVERED_RANGES_LISTED
        tail = f", … {more} more" if more > 0 else ""
        lines.append(f"- {markdown_code(item.file, FAILURE_LIMIT)}: {', '.join(ranges)}{tail}")
    if patch.uncovered_files > UNCOVERED_LISTED:
        lines.append(f"- … and {patch.uncovered_files - UNCOVERED_LISTED} more files")
    return lines


def _finding_line(item: Finding) -> str:
    where = ""
    if item.file:
        place = f"{item.file}:{item.line}" if item.line else item.file
        where = f" {markdown_code(place, FAILURE_LIMIT)}"
    message = markdown_text(item.message, FAILURE_LIMIT)
    rule = f" {markdown_code(item.rule_id, FAILURE_LIMIT)}" if item.rule_id else ""
    return f"- {item.level}{rule}{where}" + (f": {message}" if message else "")


def _findings(facts: Facts | None) -> tuple[str, list[str], int]:
    """The findings' headline (totals by level, new ones on changed lines) and the top items,
    errors first."""
    findings = facts.findings if facts is not None else None
    if findings is None:
        return "", [], 0
    levels = findings.by_level
    headline = (
        f"**Findings: {findings.total}** ({levels.error} error, {levels.warning} warning, "
        f"{levels.note} note)"
    )
    if findings.new is not None:
        headline += f" · {findings.new} new on changed lines"
    ranked = sorted(findings.items, key=lambda item: _LEVEL_ORDER[item.level])
    return headline, [_finding_line(item) for item in ranked[:FINDINGS_LISTED]], findings.total


@dataclass
class _Parts:
    """The lines of each section; `cut_rules` and `cut_failures` count what was left out."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    waivers: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failures_total: int = 0
    uncovered: list[str] = field(default_factory=list)
    findings_headline: str = ""
    findings: list[str] = field(default_factory=list)
    findings_total: int = 0
    foot: list[str] = field(default_factory=list)
    cut_rules: int = 0
    cut_failures: int = 0


def _assemble(parts: _Parts, limit: int | None) -> str:
    lines = list(parts.head)
    if parts.rows:
        lines += ["| | Rule | Why | Clause |", "| --- | --- | --- | --- |", *parts.rows, ""]
    if parts.waivers:
        lines += ["**Waivers**", "", *parts.waivers, ""]
    if parts.failures:
        summary_line = f"<details><summary>Test failures ({parts.failures_total})</summary>"
        lines += [summary_line, "", *parts.failures, "", "</details>", ""]
    if parts.uncovered:
        lines += ["**Changed lines no test ran**", "", *parts.uncovered, ""]
    if parts.findings_headline:
        lines += [parts.findings_headline, ""]
    if parts.findings:
        more = parts.findings_total - len(parts.findings)
        rest = [f"- … and {more} more"] if more > 0 else []
        summary_line = f"<details><summary>Top findings ({len(parts.findings)})</summary>"
        lines += [summary_line, "", *parts.findings, *rest, "", "</details>", ""]
    lines += parts.foot
    if parts.cut_rules or parts.cut_failures:
        lines.append(
            f"_Cut to fit {limit} characters: {parts.cut_rules} rules and "
            f"{parts.cut_failures} test failures not shown; the job log has the full verdict._"
        )
    return "\n".join(lines) + "\n"


LinesLink = Callable[[str, int, int], "str | None"]
"""The provider's address of lines `first`-`last` of a path in the change (handed in by the CLI)."""


@dataclass(frozen=True)
class Links:
    """Where the reader goes next: the CI run, the stored evidence record's page, and changed
    lines of the change, through the provider's `lines_link` (the diff on GitHub, the file at
    the head commit on GitLab)."""

    run_url: str | None = None
    record_url: str | None = None
    lines_link: LinesLink | None = None

    def lines_url(self, path: str, first: int, last: int) -> str | None:
        """Where lines `first`-`last` of `path` are shown, if the change is known."""
        return self.lines_link(path, first, last) if self.lines_link is not None else None

    def line(self) -> str:
        """'[CI run](…) · [evidence record](…)' for the URLs that are web addresses."""
        named = (("CI run", self.run_url), ("evidence record", self.record_url))
        parts = [f"[{name}](<{url}>)" for name, url in named if url and _web_url(url)]
        return " · ".join(parts)


def _web_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c in url for c in "<> \n\r")


def _parts(
    verdict: Verdict, facts: Facts | None, links: Links | None
) -> tuple[_Parts, list[RuleResult], list[str]]:
    mark = "✓" if verdict.passed else "✗"
    policy = markdown_code(verdict.policy.name)
    head = [f"### {mark} Gatekeeper: **{verdict.verdict}** · policy {policy}", ""]
    head += [summary(verdict) + (f" · {_facts_line(facts)}" if _facts_line(facts) else ""), ""]
    head += _named_tests(facts)
    link_line = links.line() if links is not None else ""
    foot = [link_line, ""] if link_line else []
    foot += [
        f"<sub>policy sha256 `{short_digest(verdict.policy.digest)}` · evaluated "
        f"{verdict.evaluated_at.strftime('%Y-%m-%dT%H:%M:%SZ')}</sub>"
    ]
    parts = _Parts(head=head, foot=foot, uncovered=_uncovered_lines(facts, links))
    parts.findings_headline, parts.findings, parts.findings_total = _findings(facts)
    parts.waivers = [
        f"- {markdown_code(use.rule)} {use.status.replace('_', ' ')}: "
        f"{markdown_text(use.message, CELL_LIMIT)}"
        for use in verdict.waivers
    ]
    failures = list(facts.tests.failures) if facts and facts.tests else []
    parts.failures_total = len(failures)
    lines = [_failure_line(f) for f in failures[:FAILURES_LISTED]]
    if len(failures) > FAILURES_LISTED:
        lines.append(f"- … and {len(failures) - FAILURES_LISTED} more")
    return parts, ordered(verdict.rules), lines


def verdict_markdown(
    verdict: Verdict,
    facts: Facts | None,
    *,
    limit: int | None = None,
    links: Links | None = None,
) -> str:
    """The Verdict as Markdown, at most `limit` characters when given, ending with `links`."""
    parts, rules, failure_lines = _parts(verdict, facts, links)
    if limit is None:
        parts.rows = [_row(rule) for rule in rules]
        parts.failures = failure_lines
        return _assemble(parts, limit)
    return _fit(parts, rules, failure_lines, limit)


def _fit(parts: _Parts, rules: list[RuleResult], failure_lines: list[str], limit: int) -> str:
    """Keep failed rules, then test failures, then other rules, within `limit` characters."""
    parts.cut_rules, parts.cut_failures = len(rules), len(failure_lines)
    while parts.uncovered and len(_assemble(parts, limit)) > limit // 2:
        parts.uncovered.pop()  # the uncovered lines may take at most half of the channel
    while parts.findings and len(_assemble(parts, limit)) > limit // 2:
        parts.findings.pop()  # so may the findings, with the uncovered lines
    budget = limit - len(_assemble(parts, limit)) - _WRAPPERS
    urgent = [rule for rule in rules if rule.outcome in _URGENT]
    other = [rule for rule in rules if rule.outcome not in _URGENT]
    kept_rules: set[str] = set()
    for group in (urgent, failure_lines, other):
        for item in group:
            line = _row(item) if isinstance(item, RuleResult) else item
            if len(line) + 1 > budget:
                break
            budget -= len(line) + 1
            if isinstance(item, RuleResult):
                kept_rules.add(item.id)
            else:
                parts.failures.append(line)
    parts.rows = [_row(rule) for rule in rules if rule.id in kept_rules]
    parts.cut_rules = len(rules) - len(kept_rules)
    parts.cut_failures = len(failure_lines) - len(parts.failures)
    text = _assemble(parts, limit)
    if len(text) > limit:
        parts.waivers = []
        text = _assemble(parts, limit)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ("\n" if limit else "")
