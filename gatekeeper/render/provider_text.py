"""The provider sections of Facts (subject, change, reviews, checks) as plain text."""

from __future__ import annotations

from gatekeeper.facts import Facts
from gatekeeper.render.escape import terminal_text


def provider_text(facts: Facts) -> str:
    """Subject, change, reviews and checks, one short block each, for `gatekeeper collect`."""
    lines: list[str] = []
    if facts.subject is not None:
        s = facts.subject
        number = f" #{s.number}" if s.number is not None else ""
        lines.append(
            f"subject   {s.provider} {terminal_text(s.repo or '')}{number} "
            f"at {terminal_text(s.commit or '')} "
            f"({terminal_text(s.ref or '')})"
        )
        if s.url:
            lines.append(f"          {terminal_text(s.url)}")
    if facts.change is not None:
        c = facts.change
        lines.append(
            f"change    {terminal_text(c.title or '')!r} by {terminal_text(c.author or '')}, "
            f"{terminal_text(c.branch or '')} -> {terminal_text(c.base_ref or '')}"
        )
        lines.append(
            f"          {len(c.commits)} commit(s), {len(c.files)} file(s), labels: "
            f"{terminal_text(', '.join(c.labels)) or '-'}, "
            f"linked issues: {terminal_text(', '.join(c.linked_issues)) or '-'}"
        )
    if facts.reviews is not None:
        r = facts.reviews
        owners = {True: "yes", False: "no", None: "unknown"}[r.codeowners_approved]
        approvers = terminal_text(", ".join(r.approvers)) or "-"
        lines.append(
            f"reviews   {r.approvals} approval(s) on the head ({approvers}), "
            f"{r.changes_requested} changes requested, {r.stale_approvals} stale, "
            f"code owners approved: {owners}"
        )
    if facts.checks is not None:
        ch = facts.checks
        lines.append(f"checks    {len(ch.runs)} check(s), {len(ch.failed)} failed")
        for check in ch.failed:
            lines.append(
                f"  failed  {terminal_text(check.name)} ({terminal_text(check.conclusion or '')})"
            )
    return "\n".join(lines)
