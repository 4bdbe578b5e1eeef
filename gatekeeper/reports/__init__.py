"""Report ingestion: detection by content, one hardened streaming parser per format, merging of
several reports, and patch coverage from a unified diff.

Formats are registered by their modules (`gatekeeper.reports.registry`); `formats()` lists
them. Counts always come from the elements, never from the totals a report declares about itself.
"""

from gatekeeper.reports.detect import detect_format, detect_report, read_head
from gatekeeper.reports.diff import (
    ChangedLines,
    PatchResult,
    changed_lines,
    git_changed_lines,
    patch_coverage,
    read_diff,
)
from gatekeeper.reports.merge import merge_coverage, merge_tests
from gatekeeper.reports.model import CoverageResult, FileCoverage, ParsedReport, TestResult
from gatekeeper.reports.parse import parse_report
from gatekeeper.reports.registry import ReportFormat, format_names, formats, lookup
from gatekeeper.reports.summary import reports_to_facts

__all__ = [
    "ChangedLines",
    "CoverageResult",
    "FileCoverage",
    "ParsedReport",
    "PatchResult",
    "ReportFormat",
    "TestResult",
    "changed_lines",
    "detect_format",
    "detect_report",
    "format_names",
    "formats",
    "git_changed_lines",
    "lookup",
    "merge_coverage",
    "merge_tests",
    "parse_report",
    "patch_coverage",
    "read_diff",
    "read_head",
    "reports_to_facts",
]
