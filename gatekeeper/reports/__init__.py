"""Report ingestion: detection by content, one hardened streaming parser per format, merging of
several reports, and patch coverage from a unified diff.

Formats: JUnit XML (every common dialect), Cobertura XML, LCOV, JaCoCo XML, Clover XML,
coverage.py JSON and Go coverprofiles. Counts always come from the elements, never from the totals
a report declares about itself.
"""

from gatekeeper.reports.detect import FORMATS, detect_format, read_head
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
from gatekeeper.reports.summary import reports_to_facts

__all__ = [
    "FORMATS",
    "ChangedLines",
    "CoverageResult",
    "FileCoverage",
    "ParsedReport",
    "PatchResult",
    "TestResult",
    "changed_lines",
    "detect_format",
    "git_changed_lines",
    "merge_coverage",
    "merge_tests",
    "parse_report",
    "patch_coverage",
    "read_diff",
    "read_head",
    "reports_to_facts",
]
