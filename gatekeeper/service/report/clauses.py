"""The ISO 9001 clause table of the report: each clause, what Gatekeeper keeps for it (DESIGN,
"ISO 9001 clauses the evidence serves") and the evidence of this period that serves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatekeeper.service.report.model import ClauseLine, EvidenceLine

__all__ = ["CLAUSE_TITLES", "PeriodCounts", "clause_table"]

CLAUSE_TITLES: dict[str, str] = {
    "7.1.5": "Monitoring and measuring resources",
    "7.5.3": "Control of documented information",
    "8.3.4": "Design and development controls",
    "8.5.2": "Identification and traceability",
    "8.5.6": "Control of changes (and 8.3.6 design and development changes)",
    "8.6": "Release of products and services",
    "8.7": "Control of nonconforming outputs",
    "9.1.3": "Analysis and evaluation",
    "9.2": "Internal audit",
    "10.2": "Nonconformity and corrective action",
}


@dataclass
class PeriodCounts:
    """What the period's records hold, counted once for the clause table and the cover."""

    records: int = 0
    passed: int = 0
    failed: int = 0
    waived: int = 0
    with_tools: int = 0
    with_tests: int = 0
    with_coverage: int = 0
    with_approvers: int = 0
    with_run_link: int = 0
    changes: int = 0
    reviews_confirmed: int = 0
    releases: int = 0
    releases_approved: int = 0
    nonconformities: int = 0
    corrected: int = 0
    concessions: int = 0
    weeks: int = 0
    sampled: int = 0
    key_ids: int = 0

    def add(self, line: EvidenceLine, predicate: dict[str, Any]) -> None:
        """Counts one record of the period."""
        record = line.record
        self.records += 1
        self.passed += record.verdict == "pass"
        self.failed += record.verdict == "fail"
        self.waived += record.waived
        self.with_tools += bool(predicate.get("tools"))
        self.with_tests += record.tests_total is not None
        self.with_coverage += record.line_rate is not None
        self.with_approvers += bool(record.approvers)
        self.with_run_link += line.run_url is not None
        self.changes += record.kind == "pr"
        self.reviews_confirmed += any(
            text.startswith("reviews: confirmed") for text in line.confirmed
        )


def clause_table(counts: PeriodCounts, bundle_digest: str | None) -> tuple[ClauseLine, ...]:
    """The ten clauses with this period's evidence for each, in clause order."""
    c = counts
    bundle = (
        f"export bundle SHA-256 {bundle_digest[:16]}…"
        if bundle_digest
        else "no export bundle yet (the log has no signed checkpoint)"
    )
    sample = f"a seeded sample of {c.sampled} records; " if c.sampled else ""
    rows = (
        ("7.1.5", "tool versions (test runner, coverage tool, Gatekeeper) and the policy digest "
         "in every record", f"{c.with_tools} of {c.records} records name their tool versions; "
         "every policy version in force with its digest", "policies"),
        ("7.5.3", "signed, append-only, tamper-evident records; access by scoped tokens",
         f"{c.records} records signed by the service (DSSE, Ed25519) in its Merkle log; {bundle}",
         "verify"),
        ("8.3.4", "review approvals, verification (tests), coverage",
         f"tests in {c.with_tests}, coverage in {c.with_coverage}, approvers in "
         f"{c.with_approvers} of {c.records} records", "changes"),
        ("8.5.2", "subject = repository + commit + ref; CI run link",
         f"every record names its commit and ref; {c.with_run_link} link their CI run",
         "changes"),
        ("8.5.6", "PR/MR as the change record: approvals on the head commit, re-verification",
         f"{c.changes} pull/merge request records; reviews confirmed by the service with the "
         f"provider in {c.reviews_confirmed}", "changes"),
        ("8.6", "(a) the verdict against the policy; (b) the approvers",
         f"{c.passed} passed, {c.failed} failed; {c.releases} releases, "
         f"{c.releases_approved} with release approvals", "releases"),
        ("8.7", "failed gates kept as records; waivers with reason, approver, expiry",
         f"{c.failed} failed gates kept; {c.concessions} concessions, {c.waived} records passed "
         "through a waiver", "concessions"),
        ("9.1.3", "trends: pass rate, coverage, flaky tests over time",
         f"{c.weeks} weeks of pass rate, line coverage, tests and flaky tests", "trends"),
        ("9.2", "query API, export bundle, offline verification",
         f"this report; {sample}the export bundle and `gatekeeper verify`", "verify"),
        ("10.2", "failed gate followed by the passing record that fixed it",
         f"{c.nonconformities} nonconformities, {c.corrected} corrected, "
         f"{c.nonconformities - c.corrected} open", "nonconformities"),
    )  # fmt: skip
    return tuple(
        ClauseLine(
            clause=clause, title=CLAUSE_TITLES[clause], kept=kept, evidence=ev, section=section
        )
        for clause, kept, ev, section in rows
    )
