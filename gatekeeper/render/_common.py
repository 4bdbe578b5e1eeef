"""What the text and Markdown renderers share: outcome marks, order, and rule ordering."""

from __future__ import annotations

from gatekeeper.policy.verdict import OUTCOMES, Outcome, RuleResult, Verdict

MARKS: dict[Outcome, str] = {
    "fail": "✗",
    "error": "✗",
    "warn": "!",
    "waived": "~",
    "pass": "✓",
    "skipped": "-",
}
WORDS: dict[Outcome, tuple[str, str]] = {
    "fail": ("failed", "failed"),
    "error": ("error", "errors"),
    "warn": ("warning", "warnings"),
    "waived": ("waived", "waived"),
    "pass": ("passed", "passed"),
    "skipped": ("skipped", "skipped"),
}


def ordered(rules: tuple[RuleResult, ...]) -> list[RuleResult]:
    """Rules most urgent first (fail, error, warn, waived, pass, skipped), policy order within."""
    rank = {outcome: index for index, outcome in enumerate(OUTCOMES)}
    return sorted(rules, key=lambda rule: rank[rule.outcome])


def summary(verdict: Verdict) -> str:
    """'2 failed, 1 warning, 5 passed' over the outcomes that occur."""
    counts = verdict.counts()
    parts = [f"{n} {WORDS[outcome][n != 1]}" for outcome, n in counts.items() if n]
    return ", ".join(parts) if parts else "no rules"


def short_digest(digest: str) -> str:
    """The first 12 hex digits of a digest, as people quote it."""
    return digest[:12]
