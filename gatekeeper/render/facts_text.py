"""Facts as plain text for a terminal."""

from __future__ import annotations

from gatekeeper.facts import Facts, Findings, TestSummary
from gatekeeper.render.escape import terminal_text

_SHOWN_PATHS = 10
_SHOWN_FINDINGS = 20


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _tests_lines(t: TestSummary) -> list[str]:
    lines = [
        f"tests     {t.total} total, {t.passed} passed, {t.failed} failed, {t.errors} errors, "
        f"{t.skipped} skipped, {t.flaky} flaky, {t.duration_s:.3f}s"
    ]
    for failure in t.failures[:20]:
        where = (
            f" ({terminal_text(failure.file)}:{failure.line})"
            if failure.file and failure.line
            else ""
        )
        ident = terminal_text(".".join(p for p in (failure.classname, failure.name) if p))
        lines.append(f"  {failure.kind:<8}{ident}{where}")
        message = (
            terminal_text(failure.message.strip().splitlines()[0], 160)
            if failure.message.strip()
            else ""
        )
        if message:
            lines.append(f"          {message}")
    if len(t.failures) > 20:
        lines.append(f"  ... and {len(t.failures) - 20} more")
    return lines


def _findings_lines(findings: Findings) -> list[str]:
    levels = findings.by_level
    new = f", {findings.new} new" if findings.new is not None else ""
    lines = [
        f"findings  {findings.total} total: {levels.error} error, {levels.warning} warning, "
        f"{levels.note} note{new}"
    ]
    for item in findings.items[:_SHOWN_FINDINGS]:
        where = f" {terminal_text(item.file)}" if item.file else ""
        where += f":{item.line}" if item.file and item.line else ""
        first = item.message.strip().splitlines()[0] if item.message.strip() else ""
        message = f" {terminal_text(first, 160)}" if first else ""
        lines.append(f"  {item.level:<8}{terminal_text(item.rule_id)}{where}{message}")
    if findings.total > _SHOWN_FINDINGS:
        lines.append(f"  ... and {findings.total - _SHOWN_FINDINGS} more")
    return lines


def facts_as_text(
    facts: Facts, *, verbose: bool = False, uncovered_changes: tuple[str, ...] | None = None
) -> str:
    """A short, readable summary of every section that is present, and why others are missing.

    Report paths the diff does not touch (most of a repository) are one count line unless
    `verbose`; `uncovered_changes` (changed files no coverage report names) are each listed."""
    lines: list[str] = []
    if facts.tests is not None:
        lines.extend(_tests_lines(facts.tests))
    if facts.coverage is not None:
        c = facts.coverage
        counted = f"{c.lines_covered}/{c.lines_valid} " if c.lines_valid is not None else ""
        lines.append(f"coverage  lines {counted}({_percent(c.line_rate)})")
        if c.branches_valid is not None:
            lines.append(
                f"          branches {c.branches_covered}/{c.branches_valid} "
                f"({_percent(c.branch_rate)})"
            )
        if c.patch is not None:
            p = c.patch
            lines.append(f"          patch {p.lines_covered}/{p.lines_valid} ({_percent(p.rate)})")
            for item in p.uncovered[:_SHOWN_PATHS]:
                lines.append(f"          not run: {terminal_text(item.file)}: {item.text()}")
            for path in (uncovered_changes or ())[:_SHOWN_PATHS]:
                lines.append(f"          changed, in no coverage report: {terminal_text(path)}")
            if len(uncovered_changes or ()) > _SHOWN_PATHS:
                more = len(uncovered_changes or ()) - _SHOWN_PATHS
                lines.append(f"          ... and {more} more")
            if verbose:
                lines.extend(
                    f"          report path not in the diff: {terminal_text(path)}"
                    for path in p.unmatched_paths
                )
            elif p.unmatched_paths:
                lines.append(
                    f"          {len(p.unmatched_paths)} report paths not in the diff "
                    "(unchanged files; -v lists them)"
                )
    if facts.findings is not None:
        lines.extend(_findings_lines(facts.findings))
    for name, reason in sorted(facts.missing.items()):
        lines.append(f"missing   {name}: {terminal_text(reason)}")
    for source in facts.sources:
        producer = f" ({source.producer})" if source.producer else ""
        lines.append(
            f"source    {source.format}{terminal_text(producer)}: {terminal_text(source.location)}"
        )
    return "\n".join(lines) if lines else "no facts"
