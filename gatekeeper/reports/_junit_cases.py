"""The JUnit parser's testcase model: one case's records, its outcome, the running tally."""

from __future__ import annotations

from gatekeeper.facts import MESSAGE_LIMIT
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

    def key(self) -> tuple[int, str | None, str | None]:
        """Same parent element, classname and name: a rerun record of the same test."""
        return (id(self.parent), self.attrib.get("classname"), self.attrib.get("name"))


class Tally:
    """Counts of the testcases that need a closer look (children, status, a rerun to match)."""

    __slots__ = ("failed_run", "flaky", "parent", "passed", "previous_failed", "result", "skipped")

    def __init__(self, result: TestResult) -> None:
        self.result = result
        self.passed = self.skipped = self.flaky = self.failed_run = 0
        self.previous_failed: tuple[int, str | None, str | None] | None = None
        self.parent: object = None  # keeps the id in `previous_failed` unique

    def _drop_failed_attempts(self, case: Case) -> bool:
        """Drop the failed records just before a passing record of the same test."""
        if case.key() != self.previous_failed:
            return False
        for _ in range(self.failed_run):
            dropped = self.result.failures.pop()
            self.result.total -= 1
            if dropped.kind == "error":
                self.result.errors -= 1
            else:
                self.result.failed -= 1
        return True

    def add(self, case: Case, suite: str) -> None:
        """Count one testcase that has children, a status, or follows a failure."""
        outcome, explain = case.classify()
        if outcome in PASSING:
            self.passed += 1
            rerun = self.previous_failed is not None and self._drop_failed_attempts(case)
            if outcome == "flaky" or rerun:
                self.flaky += 1
            self.previous_failed = self.parent = None
        elif outcome == "skipped":
            self.skipped += 1
            self.previous_failed = self.parent = None
        else:
            self.result.failures.append(failure_record(case, outcome, explain, suite))
            if outcome == "error":
                self.result.errors += 1
            else:
                self.result.failed += 1
            key = case.key()
            self.failed_run = self.failed_run + 1 if key == self.previous_failed else 1
            self.previous_failed, self.parent = key, case.parent


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
