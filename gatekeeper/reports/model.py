"""What one parsed report holds, as plain mutable values (pydantic models are built at the end)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

MAX_COUNT = 2**62
"""Largest hit count or line number stored; larger hit counts are clamped."""

Block = tuple[int, int, int, int]
"""A Go coverprofile block: start line, start column, end line, end column."""


@dataclass(slots=True)
class FailureRecord:
    """One failed or errored test as the report gives it (message already capped)."""

    suite: str
    name: str
    classname: str
    file: str | None
    line: int | None
    message: str
    kind: str  # "failure" | "error"

    @property
    def test_id(self) -> str:
        """The identity used to spot the same test across files: classname and name."""
        return f"{self.classname}::{self.name}"


@dataclass(slots=True)
class TestResult:
    """Counts over every testcase of one or more JUnit files; every case has one outcome."""

    __test__ = False

    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    duration_s: float = 0.0
    failures: list[FailureRecord] = field(default_factory=list)
    flaky_tests: list[str] = field(default_factory=list)  # classname::name
    skipped_tests: list[str] = field(default_factory=list)  # classname::name, when named
    warnings: list[str] = field(default_factory=list)


class FileCoverage:
    """Per-line hits and branches of one source file, stored compactly (sorted arrays).

    Go coverprofiles give statement blocks instead of lines (`blocks`); gcovr's JaCoCo gives only
    a per-file counter for some files (`summary`).
    """

    __slots__ = ("_hits", "_numbers", "blocks", "branches", "summary")

    def __init__(self, lines: dict[int, int] | None = None) -> None:
        self._numbers: array[int] = array("q")
        self._hits: array[int] = array("q")
        self.branches: dict[int, tuple[int, int]] = {}
        self.blocks: dict[Block, list[int]] = {}
        self.summary: tuple[int, int] | None = None
        if lines:
            self.set_lines(lines)

    def set_lines(self, lines: dict[int, int]) -> None:
        """Replace the per-line hits (hits above 2**62 are clamped; such counts mean nothing)."""
        numbers = sorted(lines)
        if numbers and (numbers[0] < 0 or numbers[-1] > MAX_COUNT):
            raise ValueError(
                f"line number {numbers[-1] if numbers[0] >= 0 else numbers[0]} out of range"
            )
        self._numbers = array("q", numbers)
        hits = list(map(lines.__getitem__, numbers))
        if hits and max(hits) > MAX_COUNT:
            hits = [min(h, MAX_COUNT) for h in hits]
        self._hits = array("q", hits)

    def lines(self) -> dict[int, int]:
        """Line number -> hits (a fresh dict)."""
        return dict(zip(self._numbers, self._hits, strict=True))

    def iter_lines(self) -> Iterator[tuple[int, int]]:
        """(line, hits) pairs in line order."""
        return zip(self._numbers, self._hits, strict=True)

    def line_hits(self) -> dict[int, int]:
        """Hits per line, derived from statement blocks when the file has no line data."""
        if self._numbers or not self.blocks:
            return self.lines()
        hits: dict[int, int] = {}
        for (start, _, end, _), (_, count) in self.blocks.items():
            for number in range(start, end + 1):
                hits[number] = max(hits.get(number, 0), count)
        return hits

    def totals(self) -> tuple[int, int, int, int]:
        """lines_valid, lines_covered, branches_valid, branches_covered."""
        if self.blocks:
            valid = sum(n for n, _ in self.blocks.values())
            covered = sum(n for n, c in self.blocks.values() if c > 0)
        elif self._numbers:
            valid = len(self._numbers)
            covered = sum(1 for h in self._hits if h > 0)
        elif self.summary is not None:
            valid, covered = self.summary
        else:
            valid = covered = 0
        b_covered = sum(c for c, _ in self.branches.values())
        b_valid = sum(v for _, v in self.branches.values())
        return valid, covered, b_valid, b_covered

    def same_lines(self, other: FileCoverage) -> bool:
        """Whether both measure the same lines with the same hits (one run read twice)."""
        if self.blocks or other.blocks:
            return self.blocks == other.blocks
        return self._numbers == other._numbers and self._hits == other._hits

    def merge_from(self, other: FileCoverage, *, same_report: bool) -> None:
        """Add another measurement of this file: hits summed, or max within one report."""
        combine = max if same_report else _add
        if other._numbers:
            mine = self.lines()
            for number, hits in other.iter_lines():
                mine[number] = combine(mine[number], hits) if number in mine else hits
            self.set_lines(mine)
        for number, (covered, valid) in other.branches.items():
            old = self.branches.get(number)
            self.branches[number] = (
                (covered, valid) if old is None else (max(old[0], covered), max(old[1], valid))
            )
        for block, (statements, count) in other.blocks.items():
            old_block = self.blocks.get(block)
            if old_block is None:
                self.blocks[block] = [statements, count]
            else:
                old_block[1] = combine(old_block[1], count)
        if other.summary is not None and self.summary is None:
            self.summary = other.summary


def _add(left: int, right: int) -> int:
    return left + right


@dataclass(slots=True)
class CoverageResult:
    """Coverage of one or more reports: file key -> FileCoverage."""

    files: dict[str, FileCoverage] = field(default_factory=dict)

    def add(self, path: str, coverage: FileCoverage, *, same_report: bool = True) -> None:
        """Add a file's coverage, merging with what is known of the same path."""
        known = self.files.get(path)
        if known is None:
            self.files[path] = coverage
        else:
            known.merge_from(coverage, same_report=same_report)

    def totals(self) -> tuple[int, int, int, int]:
        """lines_valid, lines_covered, branches_valid, branches_covered over every file."""
        sums = [0, 0, 0, 0]
        for coverage in self.files.values():
            for index, value in enumerate(coverage.totals()):
                sums[index] += value
        return sums[0], sums[1], sums[2], sums[3]


@dataclass(slots=True)
class FindingRecord:
    """One SARIF result of level error, warning or note (message already capped)."""

    rule_id: str
    level: Literal["error", "warning", "note"]
    file: str | None
    line: int | None
    message: str


@dataclass(slots=True)
class FindingsResult:
    """Every counted SARIF result of one or more files, in document order."""

    results: list[FindingRecord] = field(default_factory=list)
    not_counted: int = 0  # results of level "none"
    tools: list[str] = field(default_factory=list)  # tool.driver.name of each run


@dataclass(slots=True)
class ParsedReport:
    """One report file: its format, producer where known, and what it measured."""

    location: str
    format: str
    producer: str | None = None
    tests: TestResult | None = None
    coverage: CoverageResult | None = None
    has_branches: bool = False
    findings: FindingsResult | None = None


def iter_numbers(values: Iterable[object]) -> Iterator[int]:
    """Integers from a JSON list, skipping anything else."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            yield value
