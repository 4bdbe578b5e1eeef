"""The period's records as CSV for spreadsheets: one row per record, every cell safe to open
(a cell a spreadsheet would read as a formula is prefixed with an apostrophe)."""

from __future__ import annotations

import csv
import io

from gatekeeper.service.report.model import AuditReport, EvidenceLine

__all__ = ["CSV_COLUMNS", "render_csv", "spreadsheet_safe"]

CSV_COLUMNS = (
    "record_id",
    "log_index",
    "integrated_at",
    "project",
    "kind",
    "ref",
    "commit",
    "change",
    "title",
    "author",
    "verdict",
    "waived",
    "waived_rules",
    "failed_rules",
    "approvers",
    "confirmed",
    "policy",
    "policy_version",
    "policy_digest",
    "line_rate",
    "tests_total",
    "tests_failed",
    "tests_flaky",
    "sampled",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """`value`, with a leading apostrophe when a spreadsheet would take it for a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _row(line: EvidenceLine) -> list[str]:
    r = line.record
    cells: list[object] = [
        r.record_id, r.log_index, r.integrated_at, r.project, r.kind, r.ref, r.commit,
        r.change_id, line.title, r.author, r.verdict, "yes" if r.waived else "no",
        " ".join(r.waived_rules), " ".join(r.failed_rules), " ".join(r.approvers),
        "; ".join(line.confirmed), r.policy_name, r.policy_version, r.policy_digest,
        r.line_rate, r.tests_total, r.tests_failed, r.tests_flaky,
        "yes" if line.sampled else "no",
    ]  # fmt: skip
    return [spreadsheet_safe("" if cell is None else str(cell)) for cell in cells]


def render_csv(report: AuditReport) -> str:
    """Header, then every record of the report in log order (changes and releases)."""
    lines = [*report.changes, *(release.evidence for release in report.releases)]
    lines.sort(key=lambda line: line.record.log_index)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row(line) for line in lines)
    return out.getvalue()
