"""GET /v1/export on SQLite and PostgreSQL: the streamed bundle passes the offline verifier."""

from __future__ import annotations

import zipfile
from pathlib import Path

from gatekeeper.ledger.bundle.verify import verify_bundle
from gatekeeper.ledger.checkpoint import checkpoint_from_json
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement


def _post(api: ApiClient, token: str, project: str, n: int) -> None:
    response = api.post(
        "/v1/evidence",
        json={"project": project, "statement": statement(n, project=project)},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text


def test_export_of_one_project_verifies(api: ApiClient, tokens: Tokens, tmp_path: Path) -> None:
    """A project's export holds only its records and `verify_bundle` finds no failure."""
    for n in range(6):
        _post(api, tokens.admin, "acme/widget" if n % 3 else "other/thing", n)
    response = api.get("/v1/export", params={"project": "acme/widget"}, headers=bearer(tokens.read))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    bundle = tmp_path / "export.zip"
    bundle.write_bytes(response.content)
    report = verify_bundle(bundle)
    assert report.ok, report.failures
    assert report.records == 4
    assert report.checkpoint.size == 6
    with zipfile.ZipFile(bundle) as archive:
        summaries = archive.read("vsa.jsonl").splitlines()
    assert len(summaries) == 4  # each verdict record's VSA, checked by verify_bundle above


def test_export_of_every_project_needs_an_all_project_token(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """Without ?project= only an admin (all-project) token may export; the bundle verifies."""
    for n in range(3):
        _post(api, tokens.admin, "acme/widget", n)
    assert api.get("/v1/export", headers=bearer(tokens.read)).status_code == 403
    response = api.get("/v1/export", headers=bearer(tokens.admin))
    bundle = tmp_path / "all.zip"
    bundle.write_bytes(response.content)
    report = verify_bundle(bundle)
    assert report.ok, report.failures
    assert report.records == 3


def test_export_of_an_empty_log_is_a_json_404(api: ApiClient, tokens: Tokens) -> None:
    """An empty log has no checkpoint to export against: 404 with a sentence."""
    response = api.get("/v1/export", headers=bearer(tokens.admin))
    assert response.status_code == 404
    assert "empty" in response.json()["error"]["message"]


def test_export_since_size_carries_the_consistency_proof(
    api: ApiClient, tokens: Tokens, tmp_path: Path
) -> None:
    """?since_size=N adds the proof from size N, so an older pinned checkpoint verifies offline."""
    for n in range(3):
        _post(api, tokens.admin, "acme/widget", n)
    old = api.get("/v1/log/checkpoint", headers=bearer(tokens.read)).json()
    for n in range(3, 8):
        _post(api, tokens.admin, "acme/widget", n)
    params = {"project": "acme/widget"}
    bundle = tmp_path / "export.zip"
    plain = api.get("/v1/export", params=params, headers=bearer(tokens.read))
    bundle.write_bytes(plain.content)
    pinned = checkpoint_from_json(old)
    assert not verify_bundle(bundle, old_checkpoint=pinned).ok
    response = api.get(
        "/v1/export", params={**params, "since_size": old["size"]}, headers=bearer(tokens.read)
    )
    assert response.status_code == 200, response.text
    bundle.write_bytes(response.content)
    report = verify_bundle(bundle, old_checkpoint=pinned)
    assert report.ok, report.failures
    assert report.checkpoint.size == 8


def test_export_since_size_beyond_the_log_is_refused(api: ApiClient, tokens: Tokens) -> None:
    """A since_size larger than the log has no proof: 422 with a sentence."""
    _post(api, tokens.admin, "acme/widget", 0)
    response = api.get(
        "/v1/export",
        params={"project": "acme/widget", "since_size": 5},
        headers=bearer(tokens.read),
    )
    assert response.status_code == 422
    assert "beyond" in response.json()["error"]["message"]
