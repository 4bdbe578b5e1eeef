"""SARIF 2.1.0 findings: the level rules one by one, real tools' files, merging, new findings on a
diff, hostile input, and the facts as policies and the terminal see them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.errors import ReportError
from gatekeeper.facts import fact_names
from gatekeeper.render.facts_text import facts_as_text
from gatekeeper.reports import parse_report, reports_to_facts
from gatekeeper.reports.sarif import parse_sarif
from gatekeeper.reports.summary import FINDINGS_KEPT
from tests.cli import run_gatekeeper
from tests.policy._helpers import facts, outcome, policy_of, run

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PEERS = ASSETS / "sarif-peers"
GOLDEN = ASSETS / "reports"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _sarif(
    tmp_path: Path, results: list[Any], rules: list[Any] | None = None, name: str = "r.sarif"
) -> Path:
    driver: dict[str, Any] = {"name": "tool"}
    if rules is not None:
        driver["rules"] = rules
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _levels(path: Path) -> dict[str, Any]:
    findings = reports_to_facts([parse_report(path)]).to_json_dict()["findings"]
    return {"total": findings["total"], **findings["by_level"]}


def _level_of(tmp_path: Path, result: dict[str, Any], rules: list[Any] | None = None) -> str:
    found = parse_sarif(_sarif(tmp_path, [{"message": {"text": "m"}, **result}], rules))
    if found.not_counted:
        return "none"
    return found.results[0].level


RULES = [
    {"id": "R0", "defaultConfiguration": {"level": "error"}},
    {"id": "R1", "defaultConfiguration": {"level": "note"}},
    {"id": "R2"},
]


@pytest.mark.parametrize(
    ("result", "level"),
    [
        ({"level": "note", "kind": "pass", "ruleIndex": 0}, "note"),  # level wins over all
        ({"level": "none", "ruleIndex": 0}, "none"),
        ({"kind": "pass", "ruleIndex": 0}, "none"),  # kind not fail: none, rule not read
        ({"kind": "informational", "ruleIndex": 0}, "none"),
        ({"kind": "notApplicable"}, "none"),
        ({"kind": "review", "ruleId": "R0"}, "none"),
        ({"kind": "fail", "ruleIndex": 0}, "error"),  # explicit fail: the rule's default
        ({"ruleIndex": 1, "ruleId": "R0"}, "note"),  # ruleIndex before ruleId
        ({"ruleId": "R0"}, "error"),  # by ruleId when there is no ruleIndex
        ({"ruleIndex": 7, "ruleId": "R1"}, "note"),  # an index out of range: by ruleId
        ({"ruleIndex": 2}, "warning"),  # the rule has no defaultConfiguration.level
        ({"ruleId": "unknown"}, "warning"),  # no such rule
        ({}, "warning"),  # no rule at all
    ],
)
def test_a_results_level_follows_the_sarif_rules(
    tmp_path: Path, result: dict[str, Any], level: str
) -> None:
    """level, else none when kind is not fail, else the rule's default level, else warning."""
    assert _level_of(tmp_path, result, RULES) == level


def test_rules_are_looked_up_within_the_results_own_run(tmp_path: Path) -> None:
    """A rule of another run does not give a result its level."""
    document = {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "a", "rules": RULES}}, "results": []},
            {"tool": {"driver": {"name": "b"}}, "results": [{"ruleId": "R0", "message": {}}]},
        ],
    }
    path = tmp_path / "two.sarif"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert _levels(path) == {"total": 1, "error": 0, "warning": 1, "note": 0}
    assert parse_report(path).producer == "a, b"


PEER_COUNTS = {
    # sarif-sdk's own expectations are written into each result's message ("Level should be ...").
    "sarif-sdk-NoRuleDefaultConfiguration.sarif": (3, 1, 1, 1),
    # C2001 has no default level (warning); C2002 by ruleId and C2003 by ruleIndex are error.
    "sarif-sdk-OneRunWithRules.sarif": (4, 2, 2, 0),
    "sarif-sdk-msbuild-SomeErrors.sarif": (7, 4, 2, 1),
    # two runs, CodeQL rules with defaultConfiguration.level note, results without a level.
    "codeql-action-valid-sarif.sarif": (3, 0, 0, 3),
}


@pytest.mark.parametrize("name", sorted(PEER_COUNTS))
def test_peer_sarif_files_count_as_their_producers_meant(name: str) -> None:
    """Each SARIF file of other projects' test suites gives the counts its levels define."""
    total, error, warning, note = PEER_COUNTS[name]
    assert _levels(PEERS / name) == {
        "total": total,
        "error": error,
        "warning": warning,
        "note": note,
    }


def test_sarif_sdk_messages_by_id_are_filled_from_the_rule() -> None:
    """A message given by id takes the rule's messageStrings text with its arguments."""
    found = parse_sarif(PEERS / "sarif-sdk-OneRunWithRules.sarif")
    assert found.results[0].message == 'Variable "someVariable" was used without being initialized.'
    assert [r.rule_id for r in found.results] == ["C2001", "C2001", "C2002", "C2003"]


def test_ruff_sarif_is_read_with_files_and_lines() -> None:
    """ruff writes "version" last (beyond the detection head on big files) and file: URIs."""
    report = parse_report(GOLDEN / "sarif-ruff.sarif")
    assert (report.format, report.producer) == ("sarif", "ruff")
    findings = reports_to_facts([report]).findings
    assert findings is not None
    assert findings.total == findings.by_level.error == 8
    first = findings.items[0]
    assert (first.rule_id, first.file, first.line) == ("E401", "/tmp/sarifwork/proj/src/bad.py", 1)


def test_several_files_and_runs_merge_by_summing(tmp_path: Path) -> None:
    """Findings of every SARIF file add up; other report kinds are untouched."""
    one = _sarif(tmp_path, [{"level": "error", "message": {}}], name="a.sarif")
    two = _sarif(tmp_path, [{"level": "note"}, {"level": "none"}], name="b.sarif")
    result = reports_to_facts([parse_report(one), parse_report(two)])
    assert result.findings is not None
    assert (result.findings.total, result.findings.by_level.error) == (2, 1)
    assert result.findings.by_level.note == 1
    assert "findings" not in result.missing
    assert result.missing["findings.new"].startswith("new findings need --diff")


def test_no_sarif_means_findings_are_missing_not_zero() -> None:
    """Without a SARIF report the section is missing with a reason."""
    result = reports_to_facts([parse_report(GOLDEN / "lcov-branches.info")])
    assert result.findings is None
    assert result.missing["findings"] == "no SARIF report among the inputs"


def _located(file: str, line: int, level: str = "warning") -> dict[str, Any]:
    region = {"startLine": line}
    location = {"physicalLocation": {"artifactLocation": {"uri": file}, "region": region}}
    return {"level": level, "message": {"text": "m"}, "locations": [location]}


def test_new_findings_are_those_on_lines_the_diff_adds(tmp_path: Path) -> None:
    """findings.new counts results whose file and start line the diff adds or changes."""
    path = _sarif(
        tmp_path,
        [
            _located("file:///build/repo/src/app.py", 3),  # absolute URI, changed line
            _located("src/app.py", 4),  # relative, changed line
            _located("src/app.py", 9),  # unchanged line
            _located("src/other.py", 3),  # file not in the diff
            _located("src/app%20x.py", 1, "error"),  # percent-escaped name
            {"level": "error", "message": {"text": "no location"}},
        ],
    )
    changed = {"src/app.py": {3, 4}, "src/app x.py": {1}}
    findings = reports_to_facts([parse_report(path)], changed=changed).findings
    assert findings is not None
    assert (findings.total, findings.new) == (6, 3)


def test_items_are_capped_and_the_counts_are_not(tmp_path: Path) -> None:
    """At most FINDINGS_KEPT items are kept; total and levels count every result."""
    results = [{"level": "note", "message": {"text": "x" * 10_000}}] * (FINDINGS_KEPT + 5)
    findings = reports_to_facts([parse_report(_sarif(tmp_path, results))]).findings
    assert findings is not None
    assert (findings.total, findings.by_level.note) == (FINDINGS_KEPT + 5, FINDINGS_KEPT + 5)
    assert len(findings.items) == FINDINGS_KEPT
    assert len(findings.items[0].message) == 4096


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"$schema": "' + SCHEMA + '", "version": "2.0.0", "runs": []}', '"version" is "2.0.0"'),
        ('{"$schema": "' + SCHEMA + '", "version": "2.1.0"}', 'without a "runs" list'),
        ('{"version": "2.1.0", "runs": [1]}', "runs[0] is not an object"),
        ('{"version": "2.1.0", "runs": [{"results": {}}]}', "runs[0].results is not a list"),
        ('{"version": "2.1.0", "runs": [{"results": ["x"]}]}', "runs[0].results[0] is not an"),
        (
            '{"version": "2.1.0", "runs": [{"results": [{}, {"level": "fatal"}]}]}',
            'runs[0].results[1].level is "fatal", not one of error, warning, note, none',
        ),
        (
            '{"version": "2.1.0", "runs": [{"results": [{"kind": "failed"}]}]}',
            'runs[0].results[0].kind is "failed", not one of fail, pass, open, informational',
        ),
        (
            '{"version": "2.1.0", "runs": [{"tool": {"driver": {"rules": [{"defaultConfiguration":'
            ' {"level": 3}}]}}, "results": [{"ruleIndex": 0}]}]}',
            "runs[0].results[0] (its rule's defaultConfiguration.level) is 3",
        ),
        ('{"$schema": "' + SCHEMA + '", "version": "2.1.0", "runs": [', "invalid JSON"),
        ('{"$schema": "' + SCHEMA + '", "runs": ' + "[" * 100_000, "invalid JSON"),
    ],
)
def test_hostile_sarif_is_one_line_naming_the_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Broken SARIF is a ReportError naming the file and what is wrong, never a traceback."""
    path = tmp_path / "bad.sarif"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as raised:
        parse_report(path)
    message = str(raised.value)
    assert "\n" not in message
    assert "bad.sarif" in message
    assert expected in message


def test_invalid_utf8_and_oversized_files_are_refused(tmp_path: Path) -> None:
    """Bytes that are not UTF-8, and files over the size limit, give one line each."""
    path = tmp_path / "latin.sarif"
    path.write_bytes(b'{"$schema": "sarif", "version": "2.1.0", "runs": [], "x": "\xff"}')
    with pytest.raises(ReportError, match="not UTF-8"):
        parse_report(path)
    big = _sarif(tmp_path, [{"level": "note"}] * 100)
    with pytest.raises(ReportError, match="over the SARIF size limit of 100 bytes"):
        parse_sarif(big, max_bytes=100)


def test_null_results_add_nothing(tmp_path: Path) -> None:
    """A run whose results is null (the tool did not finish) counts no finding."""
    path = tmp_path / "null.sarif"
    path.write_text('{"version": "2.1.0", "runs": [{"results": null}]}', encoding="utf-8")
    assert _levels(path) == {"total": 0, "error": 0, "warning": 0, "note": 0}


def test_cli_inspect_reads_sarif_and_refuses_bad_sarif_with_exit_2(tmp_path: Path) -> None:
    """`gatekeeper inspect` shows the findings; a broken SARIF is one line and exit code 2."""
    shown = run_gatekeeper("inspect", str(GOLDEN / "sarif-bandit.sarif"))
    assert shown.returncode == 0, shown.stderr
    assert "findings  1 total: 0 error, 1 warning, 0 note" in shown.stdout
    assert "B307" in shown.stdout
    bad = tmp_path / "bad.sarif"
    bad.write_text('{"version": "2.1.0", "runs": [{"results": [{"level": 1}]}]}')
    refused = run_gatekeeper("inspect", str(bad))
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "runs[0].results[0].level is 1" in refused.stderr


def test_terminal_summary_escapes_foreign_strings(tmp_path: Path) -> None:
    """Rule ids, files and messages from a SARIF file cannot drive the terminal."""
    result = _located("src/\x1b[31mred.py", 2, "error")
    result["ruleId"] = "R\x1b]0;title\x07"
    result["message"] = {"text": "first line\x1b[2J\nsecond line"}
    text = facts_as_text(reports_to_facts([parse_report(_sarif(tmp_path, [result]))]))
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "second line" not in text
    assert "findings  1 total: 1 error, 0 warning, 0 note" in text


def test_policies_address_the_findings_facts(tmp_path: Path) -> None:
    """findings.* are fact names; a rule on them passes, fails, and fails closed when missing."""
    names = set(fact_names())
    assert {"findings.total", "findings.by_level.error", "findings.new", "findings.items"} <= names
    path = _sarif(tmp_path, [{"level": "error"}, {"level": "warning"}])
    found = reports_to_facts([parse_report(path)]).findings
    policy = policy_of(
        tmp_path,
        """
        - id: no-errors
          title: No error findings
          expr: findings.by_level.error == 0
        - id: few-warnings
          title: At most one warning
          metric: findings.by_level.warning
          op: "<="
          threshold: 1
        """,
    )
    verdict = run(policy, facts(findings=found))
    assert outcome(verdict, "no-errors") == "fail"
    assert outcome(verdict, "few-warnings") == "pass"
    assert outcome(run(policy, facts()), "no-errors") == "fail"  # missing: fails closed


_RESULT = st.fixed_dictionaries(
    {},
    optional={
        "level": st.sampled_from(["error", "warning", "note", "none"]),
        "kind": st.sampled_from(["fail", "pass", "open", "informational", "review"]),
        "ruleIndex": st.integers(-1, 4),
        "ruleId": st.sampled_from(["R0", "R1", "R2", "other"]),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_RESULT, max_size=30))
def test_every_result_is_counted_once_or_is_of_level_none(results: list[dict[str, Any]]) -> None:
    """total is the sum of the levels; counted plus level-none results are all the results."""
    with tempfile.TemporaryDirectory() as folder:
        path = _sarif(Path(folder), results, RULES)
        found = parse_sarif(path)
        findings = reports_to_facts([parse_report(path)]).findings
    assert findings is not None
    levels = findings.by_level
    assert findings.total == levels.error + levels.warning + levels.note == len(found.results)
    assert findings.total + found.not_counted == len(results)
    explicit_none = sum(1 for r in results if r.get("level") == "none")
    not_fail = sum(1 for r in results if "level" not in r and r.get("kind", "fail") != "fail")
    assert found.not_counted == explicit_none + not_fail
