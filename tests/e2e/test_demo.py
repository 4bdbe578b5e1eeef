"""`make demo` (python -m gatekeeper.demo) tells the whole story and stops its service."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from gatekeeper import demo


def test_demo_stores_verifies_and_shows_how_to_query(tmp_path: Path) -> None:
    """The demo publishes its policy, stores both verdicts judged by that published version,
    prints both record ids, the verified proof and bundle, a read token and curl, ends with the
    auditor pages' URL and the read token, and its service no longer answers."""
    result = subprocess.run(
        [sys.executable, "-m", "gatekeeper.demo"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    ids = re.search(r"record ids: failing gate (\S+), passing gate (\S+)", out)
    assert ids is not None
    for record_id in ids.groups():
        assert f"Evidence stored: record {record_id}, log index " in out
    assert "6 total, 5 passed, 0 failed, 0 errors, 1 skipped, 1 flaky" in out
    assert "Gatekeeper: FAIL" in out
    assert "Gatekeeper: PASS" in out
    published = re.search(
        r"Policy local-checks sha256:([0-9a-f]{64}) published for example/shop", out
    )
    assert published is not None
    assert out.index(published.group(0)) < out.index("Evidence stored: record ")
    gated = re.findall(r"policy local-checks \(sha256 ([0-9a-f]{12})\)", out)
    assert gated == [published.group(1)[:12]] * 2  # the gates name the digest published
    assert "inclusion proof (2 hashes) verified against the checkpoint root: OK" in out
    assert "checkpoint signature verified with the service key: OK" in out
    assert "OK: 3 record(s)" in out
    assert "the exported bundle is verified" in out
    token = re.search(r"read token \(project example/shop\): (gk_\S+)", out)
    assert token is not None
    assert f'curl -H "Authorization: Bearer {token.group(1)}" "http://127.0.0.1:' in out
    assert "the evidence service has stopped" in out
    last = out.strip().splitlines()[-2:]
    assert re.fullmatch(r"auditor pages .*: http://127\.0\.0\.1:\d+/ui/login", last[0])
    assert last[1] == f"sign in there with the read token: {token.group(1)}"
    port = re.search(r"the evidence service answers at http://127\.0\.0\.1:(\d+)", out)
    assert port is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port.group(1)}/healthz", timeout=5)
    [data_dir] = tmp_path.glob("gatekeeper-demo-*")
    assert (data_dir / "evidence-bundle.zip").is_file()
    with sqlite3.connect(data_dir / "gatekeeper.db") as database:
        digests = database.execute(
            "SELECT record_id, policy_digest FROM record_facets WHERE record_id IN (?, ?)",
            ids.groups(),
        ).fetchall()
    assert sorted(digests) == sorted((record_id, published.group(1)) for record_id in ids.groups())
    assert (data_dir / "audit-report.pdf").read_bytes().startswith(b"%PDF-")
    assert "Nonconformities and corrections" in (data_dir / "audit-report.html").read_text()


def test_demo_step_failing_inside_the_service_block_still_stops_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step that fails while the service runs (here the publication of a broken policy)
    raises a DemoError naming the step, and the service is stopped on the way out."""
    examples = tmp_path / "examples"
    shutil.copytree(Path(str(files("gatekeeper") / "data" / "examples")), examples)
    (examples / "local-policy.yml").write_text("version: 1\nrules: [oops\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(demo.DemoError, match="`gatekeeper policy` exited 2, not 0"):
        demo.run(examples, data_dir, os.environ)
    out = capsys.readouterr().out
    port = re.search(r"the evidence service answers at http://127\.0\.0\.1:(\d+)", out)
    assert port is not None
    assert out.rstrip().endswith("the evidence service has stopped")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port.group(1)}/healthz", timeout=5)


def test_demo_serve_hint_works_from_a_fresh_shell(tmp_path: Path) -> None:
    """The `serve` line the demo prints names the command by its full path, so it runs in a
    shell whose PATH has no `.venv` (here: an empty environment)."""
    line = demo.serve_command(tmp_path / "data dir", 8123)
    assert line.startswith("GATEKEEPER_DATA_DIR=")
    assert line.endswith(" serve --port 8123")
    result = subprocess.run(
        ["/usr/bin/env", "-i", "/bin/sh", "-c", f"{line} --help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout
