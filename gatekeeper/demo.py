"""`make demo`: the whole story on a fresh machine, in under a minute, with nothing but Python.

The demo is a list of steps, each a `gatekeeper` command run as a user would (or one HTTP call
an auditor would make):

 1. look at the facts of the bundled example reports (one passing change, one failing one);
 2. set up the evidence service on SQLite in a fresh data directory: schema, an admin, an ingest
    and a read token, `gatekeeper serve` on a free loopback port;
 3. publish the policy for the project (`gatekeeper policy publish`: from then on the service
    accepts only evidence judged by it), then gate the failing change and its fix, storing both
    verdicts (`--submit`; `--repo` and `--commit` name the subject, so no CI is needed): the
    verdict tables and the record ids;
 4. fetch a record's inclusion proof and the signed checkpoint and check them with the ledger;
 5. export the evidence bundle and check it offline with `gatekeeper verify`;
 6. show how to query the evidence API (the read token and a ready `curl` line).

The service is stopped at the end, also when a step fails.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import httpx

from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.ledger import checkpoint_from_json, verify_checkpoint
from gatekeeper.ledger.record_check import InclusionClaim, check_record

PROJECT = "example/shop"
FAILING_COMMIT = "c0ffee0000000000000000000000000000000001"
FIXED_COMMIT = "c0ffee0000000000000000000000000000000002"
STARTUP_DEADLINE_S = 30.0
_RECORD = re.compile(r"record ([0-9a-f-]{36}), log index (\d+)")
_ISOLATE = ("GATEKEEPER_", "GITHUB_", "GITLAB_", "CI_")


class DemoError(Exception):
    """A demo step did not do what it should; the message says which."""


def _title(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _gatekeeper(
    env: Mapping[str, str], *arguments: str, expect: int = 0, shown: str | None = None
) -> str:
    """Runs `gatekeeper ARGUMENTS`, shows the command and its output, returns its stdout."""
    print(f"$ {shown or 'gatekeeper ' + ' '.join(arguments)}", flush=True)
    result = subprocess.run(  # noqa: S603 - our own command with fixed arguments
        [sys.executable, "-m", "gatekeeper", *arguments],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, end="", flush=True)
    print(result.stderr, end="", file=sys.stderr, flush=True)
    if result.returncode != expect:
        raise DemoError(f"`gatekeeper {arguments[0]}` exited {result.returncode}, not {expect}")
    return result.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _service(env: Mapping[str, str], data_dir: Path) -> Iterator[str]:
    """`gatekeeper serve` on a free loopback port until the block ends; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "service.log"
    print(f"$ gatekeeper serve --port {port}   (log: {log_path})", flush=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command with fixed arguments
            [
                sys.executable,
                "-m",
                "gatekeeper",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(url, process)
        print(f"the evidence service answers at {url}", flush=True)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print("\nthe evidence service has stopped", flush=True)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"the service exited with {process.returncode}; see its log")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling interval
    raise DemoError(f"the service did not answer /healthz within {STARTUP_DEADLINE_S:.0f} s")


def _token(env: Mapping[str, str], scope: str) -> str:
    return _gatekeeper(env, "tokens", "create", "--project", PROJECT, "--scope", scope).split()[-1]


def _publish(env: Mapping[str, str], policy: Path, url: str, admin: str) -> None:
    """Publishes `policy` for the project, as its owner would before the first gate."""
    arguments = ["policy", "publish", str(policy), "--project", PROJECT, "--service", url]
    shown = "GATEKEEPER_TOKEN=$ADMIN_TOKEN gatekeeper " + " ".join(arguments)
    _gatekeeper({**env, "GATEKEEPER_TOKEN": admin}, *arguments, shown=shown)


def _gate(
    env: Mapping[str, str], examples: Path, change: str, commit: str, submit: tuple[str, str]
) -> str:
    """Gates one example change with the local policy and stores the verdict; its record id."""
    url, ingest = submit
    arguments = ["evaluate", "--policy", str(examples / "local-policy.yml")]
    arguments += ["--report", str(examples / change), "--repo", PROJECT, "--commit", commit]
    arguments += ["--submit", url]
    shown = "GATEKEEPER_TOKEN=$INGEST_TOKEN gatekeeper " + " ".join(arguments)
    expect = 1 if change == "failing" else 0
    output = _gatekeeper(
        {**env, "GATEKEEPER_TOKEN": ingest}, *arguments, expect=expect, shown=shown
    )
    found = _RECORD.search(output)
    if found is None:
        raise DemoError(f"the gate of the {change} change printed no record id")
    return found.group(1)


def _check_proof(url: str, read: str, record_id: str) -> None:
    """Fetches a record, its inclusion proof and the checkpoint; checks them with the ledger."""
    headers = {"Authorization": f"Bearer {read}"}

    def get(path: str, **params: Any) -> Any:
        print(f"GET {path}{'?' if params else ''}{httpx.QueryParams(params)}", flush=True)
        response = httpx.get(f"{url}{path}", params=params, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    record = get(f"/v1/evidence/{record_id}")
    checkpoint = checkpoint_from_json(get("/v1/log/checkpoint"))
    proof = get("/v1/log/proof/inclusion", index=record["log_index"], size=checkpoint.size)
    published = [VerifyingKey.from_public_pem(k["public_key_pem"]) for k in get("/v1/keys")["keys"]]
    keys = {key.key_id: key for key in published}
    verify_checkpoint(checkpoint, keys[checkpoint.key_id])
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    checked = check_record(
        record["envelope"],
        leaf_hash=record["leaf_hash"],
        log_index=record["log_index"],
        keys=keys,
        inclusion=InclusionClaim(checkpoint.size, checkpoint.root(), hashes),
    )
    if not checked.ok:
        raise DemoError(f"record {record_id}: {'; '.join(checked.sentences())}")
    statement = base64.b64decode(record["envelope"]["payload"]).decode()
    print(f"record {record_id}: log index {record['log_index']}, statement {len(statement)} B")
    print(f"checkpoint: tree size {checkpoint.size}, root {checkpoint.root_hash[:16]}...")
    print("checkpoint signature verified with the service key: OK")
    print(f"inclusion proof ({len(hashes)} hashes) verified against the checkpoint root: OK")


def _export(url: str, read: str, bundle: Path) -> None:
    print(f"GET /v1/export?project={PROJECT}  ->  {bundle}", flush=True)
    response = httpx.get(
        f"{url}/v1/export",
        params={"project": PROJECT},
        headers={"Authorization": f"Bearer {read}"},
        timeout=60,
    )
    response.raise_for_status()
    bundle.write_bytes(response.content)


def _pin_keys(url: str, path: Path) -> Path:
    """The service's published keys written to `path`, for `verify --keys` (an auditor gets
    them from the operator or GET /v1/keys once, and keeps them)."""
    print(f"GET /v1/keys  ->  {path}", flush=True)
    response = httpx.get(f"{url}/v1/keys", timeout=30)
    response.raise_for_status()
    path.write_text("".join(key["public_key_pem"] for key in response.json()["keys"]))
    return path


def _how_to_query(url: str, read: str, data_dir: Path, record_id: str) -> None:
    print(f"read token (project {PROJECT}): {read}")
    print(f'curl -H "Authorization: Bearer {read}" "{url}/v1/evidence?project={PROJECT}"')
    print(f'curl -H "Authorization: Bearer {read}" "{url}/v1/evidence/{record_id}"')
    print("(the service stops with the demo; start it again, from any shell, with:")
    print(f" {serve_command(data_dir, int(url.rsplit(':', 1)[1]))})")


def gatekeeper_program() -> str:
    """The full path of this environment's `gatekeeper` command (a fresh shell has no `.venv`
    on its PATH), else `python -m gatekeeper` with this interpreter's full path."""
    script = Path(sys.executable).parent / "gatekeeper"
    if script.is_file() and os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m gatekeeper"


def serve_command(data_dir: Path, port: int) -> str:
    """The shell line that serves `data_dir` again on `port`, working from a fresh shell."""
    data = shlex.quote(str(data_dir))
    return f"GATEKEEPER_DATA_DIR={data} {gatekeeper_program()} serve --port {port}"


def run(examples: Path, data_dir: Path, base_env: Mapping[str, str]) -> tuple[str, str]:
    """The demo's steps, in order; the service's URL and the read token for the auditor pages."""
    env = {k: v for k, v in base_env.items() if not k.startswith(_ISOLATE)}
    env["GATEKEEPER_DATA_DIR"] = str(data_dir)
    _title("1. Facts of a passing change (pytest JUnit + coverage.py Cobertura)")
    _gatekeeper(env, "inspect", str(examples / "passing"))
    _title("   Facts of a failing change (Maven Surefire JUnit + JaCoCo), as JSON")
    _gatekeeper(env, "inspect", str(examples / "failing"), "--format", "json")
    _title(f"2. The evidence service on SQLite in {data_dir}")
    _gatekeeper(env, "db", "upgrade")
    admin, ingest, read = _token(env, "admin"), _token(env, "ingest"), _token(env, "read")
    with _service(env, data_dir) as url:
        _title("3. Publish the policy: the service accepts only evidence judged by it")
        _publish(env, examples / "local-policy.yml", url, admin)
        _title("   Gate the failing change and store the verdict (exit 1: the gate fails)")
        failed = _gate(env, examples, "failing", FAILING_COMMIT, (url, ingest))
        _title("   Gate the fix and store the verdict (exit 0: the gate passes)")
        passed = _gate(env, examples, "passing", FIXED_COMMIT, (url, ingest))
        print(f"\nrecord ids: failing gate {failed}, passing gate {passed}")
        _title("4. An auditor checks one record: inclusion proof and signed checkpoint")
        _check_proof(url, read, failed)
        _title("5. Export the evidence and verify the bundle offline")
        bundle = data_dir / "evidence-bundle.zip"
        _export(url, read, bundle)
        keys = _pin_keys(url, data_dir / "service-keys.pem")
        _gatekeeper(env, "verify", str(bundle), "--keys", str(keys))
        print("the exported bundle is verified against the pinned service keys")
        _title("6. Query the evidence API")
        _how_to_query(url, read, data_dir, passed)
        _title("7. The audit report of the project (HTML and PDF, the bundle attached)")
        for fmt in ("html", "pdf"):
            _download(url, read, "/v1/report", fmt, data_dir / f"audit-report.{fmt}")
    return url, read


def _download(url: str, read: str, path: str, fmt: str, target: Path) -> None:
    response = httpx.get(
        f"{url}{path}", params={"project": PROJECT, "format": fmt},
        headers={"Authorization": f"Bearer {read}"}, timeout=120,
    )  # fmt: skip
    response.raise_for_status()
    target.write_bytes(response.content)
    print(f"GET {path}?project={PROJECT}&format={fmt}  ->  {target}", flush=True)


def main() -> int:
    """Runs the demo in a fresh data directory; 0 when every step did what it should."""
    started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="gatekeeper-demo-"))
    try:
        with as_file(files("gatekeeper") / "data" / "examples") as examples:
            url, read = run(Path(examples), data_dir, os.environ)
    except (DemoError, httpx.HTTPError) as error:
        print(f"\ndemo failed: {error} (data and service log in {data_dir})", file=sys.stderr)
        return 1
    print(f"\ndemo done in {time.monotonic() - started:.1f} s; data kept in {data_dir}")
    print(f"auditor pages (after the serve command above): {url}/ui/login")
    print(f"sign in there with the read token: {read}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
