"""`/metrics` with several worker processes, a bounded method label and the ingest counters."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.service.live import start_service, statement


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))
            key = (sample.name, labels)
            found[key] = found.get(key, 0.0) + sample.value
    return found


def test_metrics_sum_every_worker(tmp_path: Path) -> None:
    """With `serve --workers 2`, requests answered by either worker all count, the ingest
    counters count stored and refused statements, and an invented method is labelled 'other'."""
    with start_service(tmp_path / "data", workers=2) as service:
        auth = {"Authorization": f"Bearer {service.admin_token}"}
        requests = 40
        healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
        with httpx.Client(base_url=service.url) as client:
            before = _samples(client.get("/metrics").text)[
                ("gatekeeper_http_requests_total", healthz)
            ]
            for _ in range(requests):  # new connections, spread over the workers
                assert httpx.get(f"{service.url}/healthz").status_code == 200
            for n in range(3):
                body = {"project": "acme/widget", "statement": statement(n)}
                assert client.post("/v1/evidence", json=body, headers=auth).status_code == 201
            again = {"project": "acme/widget", "statement": statement(0)}
            assert client.post("/v1/evidence", json=again, headers=auth).status_code == 200
            bad = {"project": "acme/widget", "statement": {"_type": "nope"}}
            assert client.post("/v1/evidence", json=bad, headers=auth).status_code == 422
            client.request("BREW", "/healthz")
            samples = _samples(client.get("/metrics").text)
    assert samples[("gatekeeper_http_requests_total", healthz)] == before + requests
    assert samples[("gatekeeper_records_stored_total", ())] == 3
    assert samples[("gatekeeper_records_refused_total", (("reason", "422"),))] == 1
    methods = {dict(labels).get("method") for name, labels in samples if "http" in name}
    assert "BREW" not in methods
    assert "other" in methods
    assert samples[("gatekeeper_log_size", ())] == 3
