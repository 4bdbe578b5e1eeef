"""The evidence model: what the gate knows about one change or release.

Every section is optional. A section (or a single fact) that no source provided is *missing*,
and `Facts.missing` says why, keyed by the dotted fact name policies use. Missing is never 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MESSAGE_LIMIT = 4096
"""Failure messages are capped at this many characters; counts never are."""

SKIPPED_IDS_KEPT = 10_000
"""`tests.skipped_tests` names at most this many tests; with more it is left empty."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """One input the facts came from: a report file or a provider API (ISO 9001 7.1.5)."""

    kind: Literal["report", "provider", "facts-file"]
    location: str
    format: str
    producer: str | None = None


class Subject(_Frozen):
    """What is judged: repository, commit and ref, and the PR/MR when there is one."""

    provider: str | None = None
    repo: str | None = None
    commit: str | None = None
    ref: str | None = None
    number: int | None = None
    url: str | None = None


class TestFailure(_Frozen):
    """One test that failed or errored, as a reviewer needs to find it."""

    __test__ = False  # not a pytest test class

    suite: str = ""
    name: str
    classname: str = ""
    file: str | None = None
    line: int | None = None
    message: str = ""
    kind: Literal["failure", "error"] = "failure"


class TestSummary(_Frozen):
    """Counts over every test case; a failed-then-passed test is passed and flaky."""

    __test__ = False

    total: int = Field(ge=0)
    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    errors: int = Field(ge=0)
    skipped: int = Field(ge=0)
    flaky: int = Field(ge=0, default=0)
    duration_s: float = Field(ge=0, default=0.0)
    failures: tuple[TestFailure, ...] = ()
    flaky_tests: tuple[str, ...] = ()
    """The tests that failed and then passed (on rerun, or in another file), as classname::name."""
    skipped_tests: tuple[str, ...] = ()
    """The skipped tests as classname::name, sorted; complete only when it holds `skipped` ids
    (formats that do not name them, or more than SKIPPED_IDS_KEPT, leave it short)."""
    new_failures: tuple[str, ...] | None = None
    """Base-aware: the tests failing here that did not fail on the base, as classname::name."""
    removed: int | None = Field(default=None, ge=0)
    """Base-aware: tests the base ran that this change no longer has."""
    newly_skipped: int | None = Field(default=None, ge=0)
    """Base-aware: tests skipped here that the base did not skip."""


class UncoveredLines(_Frozen):
    """Changed lines of one file that no test ran, as (first, last) line ranges."""

    file: str
    ranges: tuple[tuple[int, int], ...]

    def text(self) -> str:
        """The ranges as people write them: `12-14, 31`."""
        return ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in self.ranges)


class PatchCoverage(_Frozen):
    """Coverage on the lines a diff adds or changes; `rate` is None when nothing is measurable.

    `uncovered` lists the measured changed lines no test ran, per file (at most
    UNCOVERED_FILES_KEPT files; `uncovered_files` counts them all)."""

    lines_valid: int = Field(ge=0)
    lines_covered: int = Field(ge=0)
    rate: float | None = None
    unmatched_paths: tuple[str, ...] = ()
    uncovered: tuple[UncoveredLines, ...] = ()
    uncovered_files: int = Field(default=0, ge=0)


class Coverage(_Frozen):
    """Line and branch coverage recomputed from per-line data."""

    lines_valid: int | None = Field(default=None, ge=0)  # None: only a rate is known (GitLab)
    lines_covered: int | None = Field(default=None, ge=0)
    line_rate: float | None = None
    branches_valid: int | None = Field(default=None, ge=0)
    branches_covered: int | None = Field(default=None, ge=0)
    branch_rate: float | None = None
    patch: PatchCoverage | None = None
    delta: float | None = None
    """Base-aware: line_rate minus the base's line_rate (-0.02: two points lower)."""


class Finding(_Frozen):
    """One static-analysis result (SARIF), as a reviewer needs to find it."""

    rule_id: str = ""
    level: Literal["error", "warning", "note"]
    file: str | None = None
    line: int | None = None
    message: str = ""


class FindingLevels(_Frozen):
    """Results per SARIF level; results of level `none` are in no count."""

    error: int = Field(ge=0)
    warning: int = Field(ge=0)
    note: int = Field(ge=0)


class Findings(_Frozen):
    """Static-analysis results of every SARIF run merged (summed over runs and files).

    `total` counts results of level error, warning or note; `new` those of them on a line the
    diff adds (None without a diff); `items` keeps the first FINDINGS_KEPT of them."""

    total: int = Field(ge=0)
    by_level: FindingLevels
    new: int | None = Field(default=None, ge=0)
    items: tuple[Finding, ...] = ()


class Reviews(_Frozen):
    """Approvals as Gatekeeper counts them: on the head commit, never the author's own."""

    approvals: int = Field(ge=0)
    changes_requested: int = Field(ge=0, default=0)
    approvers: tuple[str, ...] = ()
    codeowners_approved: bool | None = None
    stale_approvals: int = Field(ge=0, default=0)


class Check(_Frozen):
    """A CI check run, commit status or pipeline job on the head commit."""

    name: str
    status: str
    conclusion: str | None = None


class Checks(_Frozen):
    """Every check on the head commit, and those that did not succeed."""

    runs: tuple[Check, ...] = ()
    failed: tuple[Check, ...] = ()


class Commit(_Frozen):
    sha: str
    author: str | None = None
    message: str = ""


class Change(_Frozen):
    """The PR/MR as the change record (ISO 9001 8.5.6)."""

    title: str | None = None
    branch: str | None = None
    base_ref: str | None = None
    labels: tuple[str, ...] = ()
    author: str | None = None
    linked_issues: tuple[str, ...] = ()
    commits: tuple[Commit, ...] = ()
    files: tuple[str, ...] = ()
    event: str | None = None


class ReleaseChange(_Frozen):
    """One change a release ships: a merged PR/MR, or a commit pushed without one.

    `record_id` and `verdict` name the passing (else latest) evidence record of its head or merge
    commit, None when the service has none; `gated` is true only with a passing record."""

    kind: Literal["pr", "mr", "direct push"]
    number: int | None = None
    title: str = ""
    head_commit: str | None = None
    merge_commit: str
    author: str | None = None
    record_id: str | None = None
    verdict: Literal["pass", "fail"] | None = None
    gated: bool = False


class ReleaseApproval(_Frozen):
    """One person who authorised the release: a deployment environment review or approval."""

    who: str
    when: str | None = None
    comment: str = ""
    environment: str | None = None


class Release(_Frozen):
    """The release under judgement (ISO 9001 8.6): every change since the previous release tag.

    `since` and `limit` are set on a first release, whose changes start at `--since REF` or are
    capped at `limit` commits; `previous_record` names an earlier record of the same release (a
    rerun), which this record supersedes nothing of."""

    tag: str
    tag_author: str | None = None
    previous_tag: str | None = None
    changes: tuple[ReleaseChange, ...] = ()
    changes_total: int = Field(ge=0, default=0)
    changes_ungated: int = Field(ge=0, default=0)
    changes_failed: int = Field(ge=0, default=0)
    direct_pushes: int = Field(ge=0, default=0)
    approvals: tuple[ReleaseApproval, ...] = ()
    approvers_not_author: int = Field(ge=0, default=0)
    since: str | None = None
    limit: int | None = None
    previous_record: str | None = None


def make_release(
    tag: str,
    changes: tuple[ReleaseChange, ...],
    approvals: tuple[ReleaseApproval, ...],
    **fields: Any,
) -> Release:
    """A Release whose counts are computed from its changes and approvals, never given."""
    author = fields.get("tag_author")
    return Release(
        tag=tag,
        changes=changes,
        approvals=approvals,
        changes_total=len(changes),
        changes_ungated=sum(1 for c in changes if not c.gated),
        changes_failed=sum(1 for c in changes if c.verdict == "fail"),
        direct_pushes=sum(1 for c in changes if c.kind == "direct push"),
        approvers_not_author=len({a.who for a in approvals if a.who != author}),
        **fields,
    )


SECTIONS = (
    "subject",
    "tests",
    "coverage",
    "findings",
    "reviews",
    "checks",
    "change",
    "release",
)


class Facts(_Frozen):
    """Everything the sources gave; absent sections and facts are listed in `missing` with why."""

    subject: Subject | None = None
    tests: TestSummary | None = None
    coverage: Coverage | None = None
    findings: Findings | None = None
    reviews: Reviews | None = None
    checks: Checks | None = None
    change: Change | None = None
    release: Release | None = None
    missing: dict[str, str] = Field(default_factory=dict)
    sources: tuple[Source, ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON shape of `--format json`: sections present only when a source gave them."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)

    def missing_reason(self, name: str) -> str | None:
        """Why fact `name` (or the section holding it) is missing, or None if it is not recorded."""
        parts = name.split(".")
        for depth in range(len(parts), 0, -1):
            reason = self.missing.get(".".join(parts[:depth]))
            if reason is not None:
                return reason
        return None


# Which input provides which section: used in the sentences for missing facts.
PROVIDED_BY: Mapping[str, str] = {
    "subject": "the CI context or --provider",
    "tests": "a test report (JUnit XML, go test -json; --report) or a GitLab pipeline test report",
    "coverage.patch": "a coverage report plus --diff FILE or --base REF",
    "coverage": "a coverage report (Cobertura, LCOV, JaCoCo, coverage.py JSON, Go coverprofile)",
    "findings.new": "a SARIF report plus --diff FILE or --base REF",
    "findings": "a SARIF 2.1.0 report (--report), from ruff, bandit, semgrep, CodeQL, ...",
    "coverage.delta": "a base measurement (--base-facts FILE, or --base-from URL / --submit)",
    "tests.new_failures": "a base measurement (--base-facts FILE, or --base-from URL / --submit)",
    "tests.removed": "a base measurement (--base-facts FILE, or --base-from URL / --submit)",
    "tests.newly_skipped": "a base measurement (--base-facts FILE, or --base-from URL / --submit)",
    "reviews": "--provider github|gitlab",
    "checks": "--provider github|gitlab",
    "change": "--provider github|gitlab",
    "release": "a tag or release pipeline with --provider github|gitlab",
}


def provided_by(name: str) -> str:
    """The input a user should add to provide fact `name`."""
    parts = name.split(".")
    for depth in range(len(parts), 0, -1):
        hint = PROVIDED_BY.get(".".join(parts[:depth]))
        if hint is not None:
            return hint
    return "a source that provides it"


def _leaf_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for field_name, info in model.model_fields.items():
        name = f"{prefix}.{field_name}"
        yield name
        annotation = info.annotation
        for candidate in getattr(annotation, "__args__", (annotation,)):
            if isinstance(candidate, type) and issubclass(candidate, _Frozen):
                if candidate in (
                    TestFailure,
                    Check,
                    Commit,
                    UncoveredLines,
                    Finding,
                    ReleaseChange,
                    ReleaseApproval,
                ):
                    continue
                yield from _leaf_names(candidate, name)


def fact_names() -> tuple[str, ...]:
    """Every dotted fact name a policy may address (sections and their fields)."""
    names: list[str] = []
    for section in SECTIONS:
        names.append(section)
        model = Facts.model_fields[section].annotation
        for candidate in getattr(model, "__args__", (model,)):
            if isinstance(candidate, type) and issubclass(candidate, _Frozen):
                names.extend(_leaf_names(candidate, section))
    return tuple(names)
