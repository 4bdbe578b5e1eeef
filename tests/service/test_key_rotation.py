"""Key rotation reaches every running instance; a retired key never comes back; /readyz tells."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.config import Settings
from gatekeeper.errors import ServiceError
from gatekeeper.ledger import parse_verifier_key
from gatekeeper.ledger.checkpoint import note_key_hash
from gatekeeper.service import create_app
from gatekeeper.service.keyring import key_path, rotate
from gatekeeper.service.store import EvidenceStore, StatementMeta
from tests.service.live import ApiClient, statement


@pytest.fixture
def second(app: FastAPI, settings: Settings) -> Iterator[FastAPI]:
    """A second instance of the service on the same database (another process or host)."""
    application = create_app(settings)
    yield application
    application.state.gatekeeper.engine.dispose()


def _store(app: FastAPI) -> EvidenceStore:
    store: EvidenceStore = app.state.gatekeeper.store
    return store


def _checkpoint_key(app: FastAPI, number: int) -> str:
    store = _store(app)
    store.append("acme/widget", canonical_json(statement(number)), StatementMeta())
    checkpoint = store.latest_checkpoint()
    assert checkpoint is not None
    return checkpoint.key_id


def test_every_running_instance_signs_with_the_rotated_key_without_restart(
    app: FastAPI, second: FastAPI, settings: Settings
) -> None:
    """After `keys rotate`, both running instances sign their next append with the new key."""
    first_key = _checkpoint_key(app, 1)
    assert _checkpoint_key(second, 2) == first_key
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    assert _checkpoint_key(app, 3) == new.key_id
    assert _checkpoint_key(second, 4) == new.key_id
    api = ApiClient(second)
    try:
        keys = api.get("/v1/keys").json()["keys"]
        ready = api.get("/readyz")
    finally:
        api.close()
    assert [k["key_id"] for k in keys if k["retired_at"] is None] == [new.key_id]
    assert ready.status_code == 200
    registry = second.state.gatekeeper.metrics.registry
    assert registry.get_sample_value("gatekeeper_key_events_total", {"event": "adopted"}) == 1


def test_readyz_fails_where_the_current_private_key_is_missing(
    app: FastAPI, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An instance that cannot read the current key's private file answers 503, not ready."""
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    key_path(settings.data_dir, new.key_id).unlink()
    api = ApiClient(app)
    try:
        ready = api.get("/readyz")
    finally:
        api.close()
    assert ready.status_code == 503
    assert ready.json()["detail"] == (
        "this instance has no usable current signing key; see the service log"
    )
    assert "cannot read the signing key" in caplog.text
    registry = app.state.gatekeeper.metrics.registry
    assert registry.get_sample_value("gatekeeper_key_events_total", {"event": "unusable"}) == 1


def test_a_key_file_holding_a_retired_key_is_refused(app: FastAPI, settings: Settings) -> None:
    """An instance started with a retired key's file refuses to start instead of retiring a
    newer key."""
    old = _store(app).signing_key()
    old_file = settings.data_dir / "old.pem"
    old_file.write_bytes(old.private_pem())
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    with pytest.raises(ServiceError, match=f"holds key {old.key_id}, retired at .*{new.key_id}"):
        create_app(settings.model_copy(update={"signing_key_file": old_file}))
    assert _store(app).signing_key().key_id == new.key_id


def test_a_key_file_of_a_current_key_rotated_elsewhere_is_used(
    app: FastAPI, settings: Settings
) -> None:
    """An instance whose key file is replaced by the newly rotated key signs with it."""
    key_file = settings.data_dir / "mounted.pem"
    key_file.write_bytes(_store(app).signing_key().private_pem())
    mounted = create_app(settings.model_copy(update={"signing_key_file": key_file}))
    try:
        new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
        key_path(settings.data_dir, new.key_id).rename(key_file)
        assert _checkpoint_key(mounted, 1) == new.key_id
    finally:
        mounted.state.gatekeeper.engine.dispose()


def test_keys_are_published_as_c2sp_verifier_key_lines(app: FastAPI, settings: Settings) -> None:
    """GET /v1/keys gives each key as a verifier key line named by the log origin, same key."""
    rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    api = ApiClient(app)
    try:
        keys = api.get("/v1/keys").json()["keys"]
    finally:
        api.close()
    assert len(keys) == 2
    for key in keys:
        name, public = parse_verifier_key(key["verifier_key"])
        assert name == settings.log_origin
        assert public.key_id == key["key_id"]
        assert key["verifier_key"].split("+")[1] == note_key_hash(name, public).hex()
