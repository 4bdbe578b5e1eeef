"""The VSAs an export bundle carries (vsa.jsonl): checked offline against their records."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.attest.statement import Statement
from gatekeeper.ledger import BundleReport, verify_bundle
from gatekeeper.ledger.testing import write_sample_bundle

KEY = SigningKey.from_seed(b"\x21" * 32)
COUNT = 9


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("summaries") / "bundle.zip"
    write_sample_bundle(path, COUNT, KEY, summaries=True)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_summaries(source: Path, target: Path, lines: list[bytes]) -> Path:
    """A copy of `source` whose vsa.jsonl is `lines` (the manifest is left as it was)."""
    members = _members(source)
    members["vsa.jsonl"] = b"".join(line + b"\n" for line in lines)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _vsa_failures(report: BundleReport) -> list[str]:
    return [f.message for f in report.failures if f.member == "vsa.jsonl"]


def test_a_bundle_with_summaries_verifies(bundle: Path) -> None:
    """Each record's VSA is in vsa.jsonl, listed in the manifest, and verifies."""
    members = _members(bundle)
    lines = members["vsa.jsonl"].splitlines()
    assert len(lines) == COUNT
    manifest = json.loads(base64.b64decode(json.loads(members["manifest.json"])["payload"]))
    assert "vsa.jsonl" in manifest["files"]
    report = verify_bundle(bundle, pinned_key_pem=KEY.public.public_pem().encode())
    assert report.ok, report.failures


def test_a_vsa_that_contradicts_its_record_is_named(bundle: Path, tmp_path: Path) -> None:
    """A VSA saying PASSED for a failed gate, re-signed by the key, is still caught."""
    lines = _members(bundle)["vsa.jsonl"].splitlines()
    line = json.loads(lines[0])  # record 0 is a failed gate in the sample
    statement = json.loads(base64.b64decode(line["envelope"]["payload"]))
    assert statement["predicate"]["verificationResult"] == "FAILED"
    statement["predicate"]["verificationResult"] = "PASSED"
    line["envelope"] = sign_envelope(canonical_json(statement), KEY).to_json_dict()
    path = _with_summaries(bundle, tmp_path / "b.zip", [canonical_json(line), *lines[1:]])
    failures = _vsa_failures(verify_bundle(path))
    assert any("line 1" in m and "'PASSED'" in m and "FAILED" in m for m in failures), failures


def test_a_vsa_signed_by_another_key_or_for_no_record_is_named(
    bundle: Path, tmp_path: Path
) -> None:
    """A VSA by an unknown key, one for a record not in the bundle, and a duplicate are named."""
    lines = _members(bundle)["vsa.jsonl"].splitlines()
    stranger = json.loads(lines[1])
    payload = base64.b64decode(stranger["envelope"]["payload"])
    stranger["envelope"] = sign_envelope(payload, SigningKey.from_seed(b"\x22" * 32)).to_json_dict()
    orphan = json.loads(lines[2])
    orphan["log_index"] = 999
    changed = [lines[0], canonical_json(stranger), canonical_json(orphan), lines[0], b"nonsense"]
    path = _with_summaries(bundle, tmp_path / "c.zip", changed)
    failures = _vsa_failures(verify_bundle(path))
    assert any(m.startswith("line 2:") and "known key" in m for m in failures), failures
    assert any(m.startswith("line 3:") and "names no record" in m for m in failures), failures
    assert any(m.startswith("line 4:") and "second VSA" in m for m in failures), failures
    assert any(m.startswith("line 5:") for m in failures), failures
    report = verify_bundle(path)
    assert any(f.member == "vsa.jsonl" and "manifest" in f.message for f in report.failures)


def _resigned(line: bytes, change: dict[str, object]) -> bytes:
    """`line` with its VSA statement updated by `change` (predicate keys under "predicate")."""
    value = json.loads(line)
    statement = json.loads(base64.b64decode(value["envelope"]["payload"]))
    predicate = change.pop("predicate", {})
    statement.update(change)
    statement["predicate"].update(predicate)  # type: ignore[call-overload]
    value["envelope"] = sign_envelope(canonical_json(statement), KEY).to_json_dict()
    return canonical_json(value)


def test_a_vsa_of_another_type_or_envelope_and_a_bad_line_are_named(
    bundle: Path, tmp_path: Path
) -> None:
    """A re-signed VSA of another predicate type, one naming another envelope digest, and a
    line that is not the three fields are each named by line."""
    lines = _members(bundle)["vsa.jsonl"].splitlines()
    other_type = _resigned(lines[0], {"predicateType": "https://example.invalid/other/v1"})
    other_input = _resigned(
        lines[1], {"predicate": {"inputAttestations": [{"digest": {"sha256": "0" * 64}}]}}
    )
    changed = [other_type, other_input, b'{"log_index": 3}', *lines[3:]]
    failures = _vsa_failures(verify_bundle(_with_summaries(bundle, tmp_path / "d.zip", changed)))
    assert any(m.startswith("line 1:") and "predicateType" in m for m in failures), failures
    assert any(m.startswith("line 2:") and "inputAttestations" in m for m in failures), failures
    assert any(m.startswith("line 3:") and '"log_index"' in m for m in failures), failures


def test_a_bundle_without_summaries_still_verifies(tmp_path: Path) -> None:
    """Bundles written before VSAs (no vsa.jsonl) verify as before."""
    path = tmp_path / "old.zip"
    write_sample_bundle(path, 3, KEY)
    assert "vsa.jsonl" not in _members(path)
    assert verify_bundle(path).ok


def test_a_threaded_process_never_forks_its_bundle_workers() -> None:
    """Forking a process with other threads can copy a held lock: spawn is used then."""
    from gatekeeper.ledger.bundle._records import _context

    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert _context().get_start_method() == "spawn"
    finally:
        release.set()
        worker.join()


def test_only_a_record_with_a_gate_verdict_has_a_result_to_summarise() -> None:
    """A record without pass/fail (e.g. a policy record) has no result a VSA could state, and
    the predicate is read by its own predicateType."""
    from gatekeeper.attest.statement import build_statement
    from gatekeeper.ledger.bundle._records import _gate_result
    from gatekeeper.ledger.testing import sample_predicate

    def statement(predicate: dict[str, object], predicate_type: str | None = None) -> Statement:
        built = build_statement("acme/widgets", "a" * 40, predicate)
        if predicate_type is None:
            return built
        return built.model_copy(update={"predicateType": predicate_type})

    assert _gate_result(statement({"facts": {}})) is None
    assert _gate_result(statement(sample_predicate(1))) == "PASSED"
    assert _gate_result(statement(sample_predicate(7))) == "FAILED"
    assert _gate_result(statement(sample_predicate(1), "https://example.test/other/v1")) is None


def test_a_single_threaded_verifier_forks_its_workers() -> None:
    """`gatekeeper verify` as a plain process (one thread) uses fork: no re-import per worker."""
    code = (
        "from gatekeeper.ledger.bundle._records import _context;"
        "print(_context().get_start_method())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "fork"
