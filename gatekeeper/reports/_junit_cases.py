"""The JUnit parser's testcase model: one case's records, its outcome, the running tally."""

from __future__ import annotations

from gatekeeper.facts import MESSAGE_LIMIT, SKIPPED_IDS_KEPT
from gatekeeper.reports.model import FailureRecord, TestResult

Attributes = dict[str, str]

MAX_SECONDS = 1e15
PASSING = ("passed", "flaky")
# googletest writes status="notrun" result="suppressed" for DISABLED_ tests; CTest "disabled".
_NOT_RUN = frozenset({"disabled", "notrun", "suppressed", "skipped"})
_EXPLAINING = frozenset({"failure", "error", "rerunFailure", "rerunError"})


def seconds(text: str) -> float:
    """A testcase time in seconds, leniently: commas as thousands separators, junk as 0."""
    try:
        value = float(text)
    except ValueError:
        try:
            value = float(text.replace(",", "").strip())
        except ValueError:
            return 0.0
    return value if 0.0 < value < MAX_SECONDS else 0.0


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


class Text:
    """The text of an element before its first child, stripped and capped at MESSAGE_LIMIT,
    gathered in bounded memory however long it is."""

    __slots__ = ("beyond", "parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.beyond = False  # text (not only whitespace) found past the cap

    def add(self, chunk: str) -> None:
        """One chunk of character data."""
        if not self.size:
            chunk = chunk.lstrip()
        if self.size < MESSAGE_LIMIT:
            self.parts.append(chunk)
            self.size += len(chunk)
        elif not self.beyond and chunk and not chunk.isspace():
            self.beyond = True

    def value(self) -> str:
        """Equal to ``text.strip()[:MESSAGE_LIMIT]`` of the whole text."""
        text = "".join(self.parts)
        beyond = self.beyond or (len(text) > MESSAGE_LIMIT and not text[MESSAGE_LIMIT:].isspace())
        return text[:MESSAGE_LIMIT] if beyond else text[:MESSAGE_LIMIT].rstrip()


class Explain:
    """A failure, error or rerun child: its tag, attributes and (when it has no message) text."""

    __slots__ = ("attrib", "tag", "text")

    def __init__(self, tag: str, attrib: Attributes) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text = None if attrib.get("message") else Text()

    def message(self) -> str:
        text = self.attrib.get("message")
        if not text:
            text = self.text.value() if self.text is not None else ""
        return str(text)[:MESSAGE_LIMIT]


class Case:
    """One open testcase: its attributes, parent, and what its direct children say."""

    __slots__ = (
        "attrib",
        "children",
        "depth",
        "error",
        "failure",
        "flaky",
        "parent",
        "rerun",
        "skipped",
    )

    def __init__(self, depth: int, attrib: Attributes, parent: object) -> None:
        self.depth = depth
        self.attrib = attrib
        self.parent = parent  # the parent element's entry, compared by identity
        self.children = self.skipped = self.flaky = False
        self.failure: Explain | None = None
        self.error: Explain | None = None
        self.rerun: Explain | None = None

    def child(self, tag: str, attrib: Attributes) -> Text | None:
        """A direct child opens; the explaining element whose text is wanted, if any."""
        self.children = True
        if tag in _EXPLAINING:
            slot = tag if tag in ("failure", "error") else "rerun"
            if getattr(self, slot) is not None:
                return None
            explain = Explain(tag, attrib)
            setattr(self, slot, explain)
            return explain.text
        if tag == "skipped":
            self.skipped = True
        elif tag in ("flakyFailure", "flakyError"):
            self.flaky = True
        return None

    def classify(self) -> tuple[str, Explain | None]:
        """The outcome, and the element that explains a failure."""
        if self.error is not None:
            return "error", self.error
        if self.failure is not None:
            return "failure", self.failure
        if self.rerun is not None:
            return ("error" if self.rerun.tag == "rerunError" else "failure"), self.rerun
        attrib = self.attrib
        if self.skipped or attrib.get("status") in _NOT_RUN or attrib.get("result") in _NOT_RUN:
            return "skipped", None
        return ("flaky" if self.flaky else "passed"), None

    def test_id(self, suite: str) -> tuple[str, str | None, str | None]:
        """Suite, classname and name: records with the same id in one report are runs of one
        test."""
        return (suite, self.attrib.get("classname"), self.attrib.get("name"))


TestId = tuple[str, str | None, str | None]
"""A test's suite, classname and name: records with the same id in one report are runs of one
test."""


class Tally:
    """Counts of the testcases that need a closer look (children, status, a rerun to match).

    A passing record of a test that failed earlier in the same report (next to it, as TestNG
    and Surefire write reruns, or later, as gotestsum ``--rerun-fails`` writes every failure
    before every pass) makes the test passed and flaky: its failed records are dropped.
    """

    __slots__ = (
        "dropped",
        "failed_ids",
        "failed_names",
        "flaky",
        "flaky_tests",
        "passed",
        "result",
        "skipped",
    )

    def __init__(self, result: TestResult) -> None:
        self.result = result
        self.passed = self.skipped = self.flaky = 0
        self.failed_ids: dict[TestId, list[int]] = {}  # unresolved failures, by index
        self.failed_names: set[str | None] = set()  # their names: a quick first filter
        self.dropped: set[int] = set()
        self.flaky_tests: list[str] = []

    def resolve(self, test_id: TestId) -> bool:
        """A passing record of `test_id`: drop its earlier failed records, if any."""
        indices = self.failed_ids.pop(test_id, None)
        if not indices:
            return False
        result = self.result
        for index in indices:
            self.dropped.add(index)
            result.total -= 1
            if result.failures[index].kind == "error":
                result.errors -= 1
            else:
                result.failed -= 1
        self.flaky_tests.append(result.failures[indices[0]].test_id)
        return True

    def add(self, case: Case, suite: str) -> None:
        """Count one testcase that has children, a status, or may be a rerun of a failure."""
        outcome, explain = case.classify()
        if outcome in PASSING:
            self.passed += 1
            rerun = bool(self.failed_ids) and self.resolve(case.test_id(suite))
            if outcome == "flaky" or rerun:
                self.flaky += 1
                if not rerun:
                    self.flaky_tests.append(failure_record(case, "", None, suite).test_id)
        elif outcome == "skipped":
            self.skipped += 1
            skipped = self.result.skipped_tests
            if len(skipped) <= SKIPPED_IDS_KEPT:
                attrib = case.attrib
                skipped.append(f"{attrib.get('classname') or ''}::{attrib.get('name') or ''}")
        else:
            self.result.failures.append(failure_record(case, outcome, explain, suite))
            if outcome == "error":
                self.result.errors += 1
            else:
                self.result.failed += 1
            index = len(self.result.failures) - 1
            self.failed_ids.setdefault(case.test_id(suite), []).append(index)
            self.failed_names.add(case.attrib.get("name"))

    def finish(self) -> None:
        """Remove the dropped failure records (once, at the end)."""
        if self.dropped:
            dropped = self.dropped
            self.result.failures = [
                f for i, f in enumerate(self.result.failures) if i not in dropped
            ]
            dropped.clear()


def failure_record(case: Case, kind: str, explain: Explain | None, suite: str) -> FailureRecord:
    attrib = case.attrib
    return FailureRecord(
        suite=suite,
        name=str(attrib.get("name") or ""),
        classname=str(attrib.get("classname") or ""),
        file=attrib.get("file"),
        line=_int_or_none(attrib.get("line")),
        message=explain.message() if explain is not None else "",
        kind=kind,
    )
