"""A real `gatekeeper serve` process on loopback, and the client with its retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connectors.evidence import EvidenceClient, build_verdict_statement, submit_verdict
from gatekeeper.attest.keys import VerifyingKey
from gatekeeper.errors import EvidenceNotStoredError, UsageError
from gatekeeper.ledger.checkpoint import verify_checkpoint
from tests.service.live import RunningService, free_port, statement

VERDICT = {
    "verdict": "pass",
    "policy": {"name": "pull-request", "digest": "ab" * 32},
    "rules": [
        {
            "id": "tests-green",
            "title": "Tests green",
            "outcome": "pass",
            "actual": 0,
            "expected": "0",
            "message": "no failed test",
        }
    ],
    "evaluated_at": "2026-06-01T00:00:00Z",
}
FACTS = {
    "subject": {"provider": "github", "repo": "acme/widget", "commit": "c" * 40, "ref": "main"},
    "tests": {"total": 3, "failed": 0},
}
CI_RUN = {"provider": "github", "run_url": "https://ci.example/run/1", "actor": "dev"}


def test_submit_to_a_real_service_and_check_the_receipt(live_service: RunningService) -> None:
    """The client stores a verdict in a uvicorn process; the receipt and checkpoint verify."""
    with EvidenceClient(live_service.url, live_service.admin_token, backoff=0) as client:
        receipt = submit_verdict(client, VERDICT, FACTS, CI_RUN)
        again = submit_verdict(client, VERDICT, FACTS, CI_RUN)
    assert receipt.created
    assert not again.created
    assert again.record_id == receipt.record_id
    receipt.check_inclusion()
    keys = httpx.get(f"{live_service.url}/v1/keys").json()["keys"]
    verify_checkpoint(receipt.checkpoint, VerifyingKey.from_public_pem(keys[0]["public_key_pem"]))
    log_lines = [
        json.loads(line)
        for line in live_service.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    access = [entry for entry in log_lines if entry.get("route") == "/v1/evidence"]
    assert access
    assert all(len(entry["request_id"]) == 32 for entry in access)
    assert live_service.admin_token not in live_service.log_path.read_text()


def test_unreachable_service_is_exit_3_after_retries() -> None:
    """A service that does not answer gives EvidenceNotStoredError (exit 3) in one sentence."""
    client = EvidenceClient(f"http://127.0.0.1:{free_port()}", "gk_x_y", retries=2, backoff=0)
    with pytest.raises(EvidenceNotStoredError, match="after 3 attempts") as caught:
        client.submit("acme/widget", statement(1))
    assert caught.value.exit_code == 3
    assert "\n" not in str(caught.value)


@contextmanager
def _flaky_server(answers: list[tuple[int, bytes]]) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering the given (status, body) in turn."""
    seen: list[str] = []

    class _Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.path)
            status, body = answers[min(len(seen), len(answers)) - 1]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_5xx_and_429_are_retried_then_stored(live_service: RunningService) -> None:
    """503 and 429 are retried; the answer after them is the receipt."""
    with EvidenceClient(live_service.url, live_service.admin_token, backoff=0) as client:
        stored = client.submit("acme/widget", statement(5))
    real = httpx.get(
        f"{live_service.url}/v1/evidence/{stored.record_id}",
        headers={"Authorization": f"Bearer {live_service.admin_token}"},
    ).content
    busy = json.dumps({"error": {"code": "unavailable", "message": "busy"}}).encode()
    with _flaky_server([(503, busy), (429, busy), (200, real)]) as (url, seen):
        receipt = EvidenceClient(url, "gk_a_b", backoff=0).submit("acme/widget", statement(5))
    assert len(seen) == 3
    assert receipt.record_id == stored.record_id
    with (
        _flaky_server([(422, b'{"error": {"code": "invalid", "message": "no"}}')]) as (url, seen),
        pytest.raises(EvidenceNotStoredError, match=r"refused the evidence \(HTTP 422: no\)"),
    ):
        EvidenceClient(url, "gk_a_b", backoff=0).submit("acme/widget", statement(5))
    assert len(seen) == 1


def test_verdict_statement_shape() -> None:
    """The statement's subject is repo + commit; the predicate holds verdict, facts, CI run."""
    built = build_verdict_statement(VERDICT, FACTS, CI_RUN)
    assert built["subject"] == [{"name": "acme/widget", "digest": {"gitCommit": "c" * 40}}]
    assert built["predicate"]["verdict"] == "pass"
    assert built["predicate"]["policy"]["digest"] == "ab" * 32
    assert built["predicate"]["facts"] == FACTS
    assert built["predicate"]["run"] == CI_RUN
    assert built["predicate"]["evaluated_at"] == "2026-06-01T00:00:00Z"
    with pytest.raises(UsageError, match=r"subject\.repo"):
        build_verdict_statement(VERDICT, {"tests": {}}, CI_RUN)
