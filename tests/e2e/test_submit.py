"""`gatekeeper evaluate --submit`: the statement stored, its receipt printed, exit 2 and 3 cases."""

from __future__ import annotations

import json
from pathlib import Path

from gatekeeper import __version__
from tests.e2e._harness import EXAMPLES, Evidence, gatekeeper, stored_record
from tests.service.live import free_port

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOCAL = ("--repo", "example/shop", "--commit", COMMIT)
POLICY = str(EXAMPLES / "local-policy.yml")


def _record_id(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.startswith("Evidence stored: record ")]
    return line.split()[3].rstrip(",")


def test_failed_gate_is_stored_with_ci_run_and_tool_versions(
    evidence: Evidence, tmp_path: Path
) -> None:
    """A failing local gate exits 1 and is still stored: verdict, facts, policy digest, tools."""
    result = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "failing"), *LOCAL,
        "--submit", evidence.url,
        env={"GATEKEEPER_TOKEN": evidence.ingest}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "log index" in result.stdout
    record = stored_record(evidence, _record_id(result.stdout))
    assert record["project"] == "example/shop"
    statement = record["statement"]
    assert statement["subject"] == [{"name": "example/shop", "digest": {"gitCommit": COMMIT}}]
    predicate = statement["predicate"]
    assert predicate["verdict"] == "fail"
    assert len(predicate["policy"]["digest"]) == 64
    assert predicate["facts"]["tests"]["failed"] == 1
    assert predicate["run"] == {"provider": "local"}
    assert predicate["tools"]["gatekeeper"] == __version__
    assert {report["format"] for report in predicate["tools"]["reports"]} == {"junit", "jacoco"}
    assert evidence.ingest not in result.stdout + result.stderr


def test_submit_url_from_the_environment_keeps_json_output_clean(
    evidence: Evidence, tmp_path: Path
) -> None:
    """GATEKEEPER_SUBMIT_URL stores the evidence; with --format json the receipt goes to stderr.

    A second evaluation is a second record: the predicate carries its evaluation time."""
    env = {"GATEKEEPER_TOKEN": evidence.ingest, "GATEKEEPER_SUBMIT_URL": evidence.url}
    args = ("evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "passing"), *LOCAL)
    first = gatekeeper(*args, "--format", "json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["verdict"] == "pass"
    assert "Evidence stored: record " in first.stderr
    again = gatekeeper(*args, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Evidence stored: record " in again.stdout
    assert _record_id(again.stdout) != _record_id(first.stderr)


def test_submit_without_a_commit_is_refused(evidence: Evidence, tmp_path: Path) -> None:
    """A plain local run names no commit: --submit is refused with exit 2 naming --commit."""
    result = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "passing"),
        "--submit", evidence.url,
        env={"GATEKEEPER_TOKEN": evidence.ingest}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "--commit" in line
    assert "--repo" in line
    assert result.stdout == ""


def test_submit_without_a_token_is_refused(evidence: Evidence, tmp_path: Path) -> None:
    """--submit without GATEKEEPER_TOKEN is exit 2 before any work, naming the variable."""
    result = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "passing"), *LOCAL,
        "--submit", evidence.url, env={}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "GATEKEEPER_TOKEN" in result.stderr
    assert result.stdout == ""


def test_unreachable_service_is_exit_3_in_one_line(tmp_path: Path) -> None:
    """A service that never answers: after the (small) retries, exit 3 with one sentence."""
    result = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "passing"), *LOCAL,
        "--submit", f"http://127.0.0.1:{free_port()}",
        env={"GATEKEEPER_TOKEN": "gk_unused_token"}, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert "did not store the evidence after 3 attempts" in line
    assert "Traceback" not in result.stderr


def _git(cwd: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_base_facts_come_from_the_merge_base_record(evidence: Evidence, tmp_path: Path) -> None:
    """The merge-base commit's stored record is the base: the JSON verdict carries
    coverage.delta and tests.new_failures; without a record the facts are missing with why."""
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "base")
    base = _git(tmp_path, "rev-parse", "HEAD")
    _git(tmp_path, "checkout", "-q", "-b", "topic")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "head")
    head = _git(tmp_path, "rev-parse", "HEAD")
    stored = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "passing"),
        "--repo", "example/shop", "--commit", base, "--submit", evidence.url,
        env={"GATEKEEPER_TOKEN": evidence.ingest}, cwd=tmp_path,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    args = ("evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "failing"), "--format")
    result = gatekeeper(
        *args, "json", "--repo", "example/shop", "--commit", head,
        "--base", "main", "--base-from", evidence.url,
        env={"GATEKEEPER_TOKEN": evidence.read}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    facts = json.loads(result.stdout)["facts"]
    assert len(facts["tests"]["new_failures"]) == 2  # a failure and an error, both new
    assert "delta" in facts["coverage"]
    unknown = gatekeeper(
        *args, "json", "--repo", "example/other", "--commit", head,
        "--base", "main", "--base-from", evidence.url,
        env={"GATEKEEPER_TOKEN": evidence.read}, cwd=tmp_path,
    )  # fmt: skip
    missing = json.loads(unknown.stdout)["facts"]["missing"]
    assert missing["tests.new_failures"].startswith("no base measurement")
