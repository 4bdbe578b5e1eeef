"""A Verdict as a table for a terminal (Rich), readable at a glance."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gatekeeper.facts import Facts
from gatekeeper.policy.verdict import Outcome, Verdict
from gatekeeper.render._common import MARKS, ordered, short_digest, summary
from gatekeeper.render.escape import terminal_text

_STYLES: dict[Outcome, str] = {
    "fail": "bold red",
    "error": "bold red",
    "warn": "yellow",
    "waived": "magenta",
    "pass": "green",
    "skipped": "dim",
}
FAILURES_SHOWN = 10


def _rules_table(verdict: Verdict) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("Outcome", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Title", overflow="fold")
    table.add_column("Clause", no_wrap=True)
    table.add_column("Why", overflow="fold")
    for rule in ordered(verdict.rules):
        style = _STYLES[rule.outcome]
        table.add_row(
            Text(f"{MARKS[rule.outcome]} {rule.outcome}", style=style),
            rule.id,
            terminal_text(rule.title),
            terminal_text(rule.clause or ""),
            terminal_text(rule.message),
        )
    return table


def _failures(facts: Facts | None) -> list[RenderableType]:
    if facts is None or facts.tests is None or not facts.tests.failures:
        return []
    failures = facts.tests.failures
    lines: list[RenderableType] = [Text(f"Test failures ({len(failures)})", style="bold")]
    for failure in failures[:FAILURES_SHOWN]:
        ident = terminal_text(".".join(part for part in (failure.classname, failure.name) if part))
        where = (
            f" ({terminal_text(failure.file)}:{failure.line})"
            if failure.file and failure.line
            else ""
        )
        lines.append(Text(f"  {failure.kind:<8}{ident}{where}", no_wrap=True, overflow="ellipsis"))
        first = (
            terminal_text(failure.message.strip().splitlines()[0])
            if failure.message.strip()
            else ""
        )
        if first:
            lines.append(Text(f"          {first}", no_wrap=True, overflow="ellipsis"))
    if len(failures) > FAILURES_SHOWN:
        lines.append(Text(f"  ... and {len(failures) - FAILURES_SHOWN} more"))
    return lines


def _findings(facts: Facts | None) -> list[RenderableType]:
    findings = facts.findings if facts is not None else None
    if findings is None:
        return []
    levels = findings.by_level
    new = f", {findings.new} new on changed lines" if findings.new is not None else ""
    return [
        Text(
            f"Findings: {findings.total} ({levels.error} error, {levels.warning} warning, "
            f"{levels.note} note){new}",
            style="bold",
        )
    ]


def render_verdict(verdict: Verdict, facts: Facts | None = None) -> RenderableType:
    """The Verdict as a Rich renderable: headline, rule table, waivers, failing tests."""
    word = "PASS" if verdict.passed else "FAIL"
    headline = Text.assemble(
        ("Gatekeeper: ", "bold"),
        (word, "bold green" if verdict.passed else "bold red"),
        f"  policy {terminal_text(verdict.policy.name)} "
        f"(sha256 {short_digest(verdict.policy.digest)})",
    )
    when = verdict.evaluated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    footer = Text(f"{summary(verdict)} · evaluated {when}")
    parts: list[RenderableType] = [headline, _rules_table(verdict), footer]
    for use in verdict.waivers:
        if use.status != "applied":
            parts.append(
                Text(
                    f"waiver for {use.rule} {use.status}: {terminal_text(use.message)}",
                    style="yellow",
                )
            )
    parts.extend(_failures(facts))
    parts.extend(_findings(facts))
    return Group(*parts)


def verdict_text(
    verdict: Verdict, facts: Facts | None = None, *, width: int = 100, color: bool = False
) -> str:
    """The Verdict as terminal text of at most `width` columns (ANSI colours when `color`)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    console.print(render_verdict(verdict, facts))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
