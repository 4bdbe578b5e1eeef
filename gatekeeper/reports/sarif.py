"""SARIF 2.1.0 (static analysis results): every result of every run, with its level.

A result's level is its `level`; else `none` when its `kind` is not `fail`; else the
`defaultConfiguration.level` of its rule (found by `ruleIndex`, else `ruleId`, among the run's
`tool.driver.rules`); else `warning`. Results of level `none` are in no count. The file of a
result is its first location's `artifactLocation.uri` (a `file:` URI reduced to its path), the
line that location's `region.startLine`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from gatekeeper.errors import ReportError
from gatekeeper.facts import MESSAGE_LIMIT
from gatekeeper.reports._json import decode_json
from gatekeeper.reports.model import FindingRecord, FindingsResult, ParsedReport
from gatekeeper.reports.registry import Head, ReportFormat, register

MAX_SARIF_BYTES = 256 * 1024 * 1024
"""SARIF is read whole (JSON has no streaming form here): larger files are refused."""

LEVELS = ("error", "warning", "note", "none")
KINDS = ("fail", "pass", "open", "informational", "notApplicable", "review")
_COUNTED: dict[str, Literal["error", "warning", "note"]] = {
    "error": "error",
    "warning": "warning",
    "note": "note",
}

_VERSION = re.compile(rb'"version"\s*:\s*"2\.1\.0"')
_PLACEHOLDER = re.compile(r"\{(\d{1,4})\}")
_SCHEMA = re.compile(rb'"\$schema"\s*:\s*"[^"]*sarif', re.IGNORECASE)


def _load(path: Path, max_bytes: int) -> Any:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise ReportError(path, f"cannot be read: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise ReportError(path, f"over the SARIF size limit of {max_bytes} bytes")
    return decode_json(path, data)


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Run:
    """One run's rules, to find a result's rule and its default level."""

    def __init__(self, path: Path, run: dict[str, Any]) -> None:
        self.path = path
        rules = _object(_object(run.get("tool")).get("driver")).get("rules")
        self.rules = [_object(rule) for rule in rules] if isinstance(rules, list) else []
        self.by_id: dict[str, dict[str, Any]] = {}
        for rule in self.rules:
            if isinstance(rule.get("id"), str):
                self.by_id.setdefault(rule["id"], rule)

    def rule(self, result: dict[str, Any]) -> dict[str, Any] | None:
        index = _integer(result.get("ruleIndex"))
        if index is not None and 0 <= index < len(self.rules):
            return self.rules[index]
        rule_id = result.get("ruleId")
        return self.by_id.get(rule_id) if isinstance(rule_id, str) else None

    def level(self, result: dict[str, Any], rule: dict[str, Any] | None, where: str) -> str:
        if "level" in result:
            return self._checked(result["level"], f"{where}.level")
        kind = result.get("kind", "fail")
        if kind not in KINDS:
            shown = json.dumps(kind)[:40]
            raise ReportError(self.path, f"{where}.kind is {shown}, not one of {', '.join(KINDS)}")
        if kind != "fail":
            return "none"
        if rule is not None:
            configured = _object(rule.get("defaultConfiguration")).get("level")
            if configured is not None:
                return self._checked(configured, f"{where} (its rule's defaultConfiguration.level)")
        return "warning"

    def _checked(self, level: object, where: str) -> str:
        if level not in LEVELS:
            shown = json.dumps(level)[:40]
            raise ReportError(
                self.path, f"{where} is {shown}, not one of error, warning, note, none"
            )
        return str(level)


def _file(location: dict[str, Any]) -> str | None:
    uri = _object(_object(location.get("physicalLocation")).get("artifactLocation")).get("uri")
    if not isinstance(uri, str) or not uri:
        return None
    if uri.startswith("file:"):
        uri = urlsplit(uri).path
    return unquote(uri)[:MESSAGE_LIMIT] or None


def _message(result: dict[str, Any], rule: dict[str, Any] | None) -> str:
    message = _object(result.get("message"))
    text = message.get("text")
    if not isinstance(text, str) and rule is not None and isinstance(message.get("id"), str):
        text = _object(_object(rule.get("messageStrings")).get(message["id"])).get("text")
    if not isinstance(text, str):
        return ""
    arguments = message.get("arguments")
    if isinstance(arguments, list) and arguments:
        text = _PLACEHOLDER.sub(lambda m: _argument(arguments, m), text[: MESSAGE_LIMIT * 2])
    return text[:MESSAGE_LIMIT]


def _argument(arguments: list[Any], placeholder: re.Match[str]) -> str:
    index = int(placeholder.group(1))
    value = arguments[index] if index < len(arguments) else None
    return value[:MESSAGE_LIMIT] if isinstance(value, str) else placeholder.group(0)


def _record(run: _Run, result: dict[str, Any], where: str) -> FindingRecord | None:
    rule = run.rule(result)
    level = run.level(result, rule, where)
    counted = _COUNTED.get(level)
    if counted is None:
        return None
    rule_id = result.get("ruleId")
    if not isinstance(rule_id, str) and rule is not None:
        rule_id = rule.get("id")
    locations = result.get("locations")
    first = _object(locations[0]) if isinstance(locations, list) and locations else {}
    line = _integer(_object(_object(first.get("physicalLocation")).get("region")).get("startLine"))
    return FindingRecord(
        rule_id=rule_id[:MESSAGE_LIMIT] if isinstance(rule_id, str) else "",
        level=counted,
        file=_file(first),
        line=line if line is not None and line > 0 else None,
        message=_message(result, rule),
    )


def parse_sarif(path: Path, *, max_bytes: int = MAX_SARIF_BYTES) -> FindingsResult:
    """The counted results (and how many were of level `none`) of one SARIF 2.1.0 file."""
    document = _load(path, max_bytes)
    if not isinstance(document, dict) or document.get("version") != "2.1.0":
        version = document.get("version") if isinstance(document, dict) else None
        shown = json.dumps(version)[:40] if version is not None else "absent"
        raise ReportError(path, f'SARIF "version" is {shown}: Gatekeeper reads SARIF 2.1.0 only')
    runs = document.get("runs")
    if not isinstance(runs, list):
        raise ReportError(path, 'SARIF without a "runs" list')
    found = FindingsResult()
    for run_index, run in enumerate(runs):
        where = f"runs[{run_index}]"
        if not isinstance(run, dict):
            raise ReportError(path, f"{where} is not an object")
        name = _object(_object(run.get("tool")).get("driver")).get("name")
        if isinstance(name, str) and name and name[:100] not in found.tools:
            found.tools.append(name[:100])
        results = run.get("results", [])
        if results is None:
            continue  # null: the tool did not run to the end; no results to count
        if not isinstance(results, list):
            raise ReportError(path, f"{where}.results is not a list")
        reader = _Run(path, run)
        for index, result in enumerate(results):
            place = f"{where}.results[{index}]"
            if not isinstance(result, dict):
                raise ReportError(path, f"{place} is not an object")
            record = _record(reader, result, place)
            if record is None:
                found.not_counted += 1
            else:
                found.results.append(record)
    return found


def _is_sarif(head: Head) -> bool:
    """SARIF: a JSON object with a SARIF "$schema", or with "version": "2.1.0" and "runs".

    Some tools (ruff) write "version" last, beyond the head; the version is checked on parsing.
    """
    body = head.body
    return body.startswith(b"{") and (
        _SCHEMA.search(body) is not None
        or (_VERSION.search(body) is not None and b'"runs"' in body)
    )


def _read(path: Path, report: ParsedReport) -> None:
    report.findings = parse_sarif(path)
    if report.findings.tools:
        report.producer = ", ".join(report.findings.tools[:5])


register(
    ReportFormat(
        name="sarif",
        kind="findings",
        title="SARIF 2.1.0",
        detect=_is_sarif,
        parse=_read,
    )
)
