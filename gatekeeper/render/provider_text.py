"""The provider sections of Facts (subject, change, reviews, checks) as plain text."""

from __future__ import annotations

from gatekeeper.facts import Facts


def provider_text(facts: Facts) -> str:
    """Subject, change, reviews and checks, one short block each, for `gatekeeper collect`."""
    lines: list[str] = []
    if facts.subject is not None:
        s = facts.subject
        number = f" #{s.number}" if s.number is not None else ""
        lines.append(f"subject   {s.provider} {s.repo}{number} at {s.commit} ({s.ref})")
        if s.url:
            lines.append(f"          {s.url}")
    if facts.change is not None:
        c = facts.change
        lines.append(f"change    {c.title!r} by {c.author}, {c.branch} -> {c.base_ref}")
        lines.append(
            f"          {len(c.commits)} commit(s), {len(c.files)} file(s), labels: "
            f"{', '.join(c.labels) or '-'}, linked issues: {', '.join(c.linked_issues) or '-'}"
        )
    if facts.reviews is not None:
        r = facts.reviews
        owners = {True: "yes", False: "no", None: "unknown"}[r.codeowners_approved]
        lines.append(
            f"reviews   {r.approvals} approval(s) on the head ({', '.join(r.approvers) or '-'}), "
            f"{r.changes_requested} changes requested, {r.stale_approvals} stale, "
            f"code owners approved: {owners}"
        )
    if facts.checks is not None:
        ch = facts.checks
        lines.append(f"checks    {len(ch.runs)} check(s), {len(ch.failed)} failed")
        for check in ch.failed:
            lines.append(f"  failed  {check.name} ({check.conclusion})")
    return "\n".join(lines)
