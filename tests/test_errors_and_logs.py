"""What the user sees of an error and of the logs: one sentence, a hint, CI forms, no secrets."""

from __future__ import annotations

import io

import pytest

from gatekeeper import errors
from gatekeeper.cli._errors import report_error
from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES, TOKEN
from tests.fakes.github import FakeGitHub


def _reported(error: errors.GatekeeperError, env: dict[str, str]) -> str:
    stream = io.StringIO()
    report_error(error, env, stream)
    return stream.getvalue()


def test_error_and_hint_are_each_on_their_own_line() -> None:
    """Outside CI the sentence comes first, the hint on the next line, nothing else."""
    error = errors.UsageError("--facts and --report cannot be combined", hint="drop one of them")
    assert _reported(error, {}) == (
        "error: --facts and --report cannot be combined\nhint: drop one of them\n"
    )


def test_github_actions_also_gets_an_escaped_error_annotation() -> None:
    """In GitHub Actions the error is a `::error::` command whose data cannot start another."""
    error = errors.InputError("r.xml", "bad 100% value\n::warning::injected")
    lines = _reported(error, {"GITHUB_ACTIONS": "true"}).splitlines()
    assert lines[0] == "error: r.xml: bad 100% value ::warning::injected"
    assert lines[1] == "::error title=Gatekeeper::r.xml: bad 100%25 value ::warning::injected"
    assert len(lines) == 2


def test_gitlab_ci_gets_a_collapsed_section_with_the_exit_code() -> None:
    """In GitLab CI the details go into a collapsed section naming the error and its exit code."""
    error = errors.EvidenceNotStoredError("the service answered 503", hint="retry the job")
    text = _reported(error, {"GITLAB_CI": "true"})
    assert text.startswith("error: the service answered 503\nhint: retry the job\n")
    assert "section_start:" in text
    assert "gatekeeper_error[collapsed=true]" in text
    assert "EvidenceNotStoredError, exit code 3" in text
    assert text.rstrip().endswith("section_end:" + text.split("section_start:")[1].split(":")[0]
                                  + ":gatekeeper_error\r\x1b[0K")  # fmt: skip


def test_secrets_are_masked_in_sentence_and_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered token never reaches the terminal, even inside an error's words."""
    from gatekeeper import logs

    monkeypatch.setattr(logs.SECRETS, "_secrets", {TOKEN})
    error = errors.ConnectorError(f"refused {TOKEN}", hint=f"check {TOKEN}")
    assert TOKEN not in _reported(error, {"GITHUB_ACTIONS": "true"})


def test_attest_and_ledger_errors_are_in_the_tree_and_still_value_errors() -> None:
    """The attest and ledger errors belong to the one tree and stay catchable as ValueError."""
    from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads

    with pytest.raises(CanonicalJSONError) as caught:
        strict_json_loads(b'{"a": 1, "a": 2}')
    assert isinstance(caught.value, errors.AttestError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.exit_code == errors.EXIT_BAD_INPUT


def _collect(fake: FakeGitHub, *flags: str) -> str:
    result = run_gatekeeper(
        *flags, "collect", "--provider", "github", "--api-url", fake.url,
        "--repo", fake.repo, "--pr", str(fake.number), "--format", "json",
        env={**FAST_RETRIES, "GITHUB_TOKEN": TOKEN},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert fake.title in result.stdout  # the facts did come from the fake forge
    return result.stderr


def test_verbose_logs_progress_without_headers_or_bodies() -> None:
    """At -v only Gatekeeper's own INFO lines appear: no Authorization, token or response body."""
    with FakeGitHub(token=TOKEN) as fake:
        stderr = _collect(fake, "-v")
    assert "INFO " in stderr
    assert "Authorization" not in stderr
    assert TOKEN not in stderr
    assert fake.title not in stderr
    assert "DEBUG" not in stderr
    assert all(line.split(" ")[1].startswith(("gatekeeper", "connectors")) for line in
               stderr.splitlines() if line.startswith(("INFO ", "WARNING ")))  # fmt: skip


def test_very_verbose_adds_the_sdks_and_still_masks_the_token() -> None:
    """At -vv the SDKs log at DEBUG too, and the token is masked in every line."""
    with FakeGitHub(token=TOKEN) as fake:
        stderr = _collect(fake, "-vv")
    assert "DEBUG " in stderr
    assert any(line.startswith(("DEBUG github", "DEBUG urllib3")) for line in stderr.splitlines())
    assert TOKEN not in stderr


def test_ledger_misuse_is_a_ledger_error_and_a_value_error() -> None:
    """A negative tree size is refused with a LedgerError, which old `except ValueError` catches."""
    from gatekeeper.ledger.merkle_tree import nodes_for_append

    with pytest.raises(ValueError, match="cannot be negative") as caught:
        nodes_for_append(-1, bytes(32), lambda _start, _end: bytes(32))
    assert isinstance(caught.value, errors.LedgerError)
