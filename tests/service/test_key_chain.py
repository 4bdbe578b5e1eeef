"""Key transitions in the log, on SQLite and PostgreSQL: rotation, export, the verifier's chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.keys import SigningKey
from gatekeeper.config import Settings
from gatekeeper.errors import ServiceError
from gatekeeper.ledger import checkpoint_from_json, verify_bundle
from gatekeeper.ledger.key_chain import sign_transition, transition_statement
from gatekeeper.service import create_app
from gatekeeper.service.keyring import rotate
from gatekeeper.service.store import KEYS_PROJECT, EvidenceStore, StatementMeta
from gatekeeper.service.tables import RecordRow, SigningKeyRow
from tests.cli import run_gatekeeper
from tests.service.attacker import drop_triggers
from tests.service.conftest import bearer
from tests.service.live import ApiClient, statement


@pytest.fixture
def second(app: FastAPI, settings: Settings) -> Iterator[FastAPI]:
    """A second instance of the service on the same database."""
    application = create_app(settings)
    yield application
    application.state.gatekeeper.engine.dispose()


def _store(app: FastAPI) -> EvidenceStore:
    store: EvidenceStore = app.state.gatekeeper.store
    return store


def _append(app: FastAPI, *numbers: int) -> None:
    for number in numbers:
        _store(app).append("acme/widget", canonical_json(statement(number)), StatementMeta())


def _export(app: FastAPI, path: Path, **params: str | int) -> Path:
    from gatekeeper.service.auth import create_token

    admin = create_token(app.state.gatekeeper.engine, ["admin"], [])[0]
    api = ApiClient(app)
    try:
        response = api.get("/v1/export", params=params, headers=bearer(admin))
    finally:
        api.close()
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


def _signers(app: FastAPI) -> list[tuple[int, str, str]]:
    with app.state.gatekeeper.engine.connect() as connection:
        rows = connection.execute(
            select(RecordRow.log_index, RecordRow.project, RecordRow.key_id).order_by(
                RecordRow.log_index
            )
        ).all()
    return [(int(i), str(p), str(k)) for i, p, k in rows]


def test_a_bundle_spanning_a_rotation_verifies_from_the_first_key(
    app: FastAPI, second: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """Two instances append before and after `keys rotate`; the transition is record 2 and
    the next appends by either instance sign with the new key; `verify --key FIRST` passes,
    also against the old checkpoint the first key signed."""
    first = _store(app).signing_key()
    _append(app, 1)
    _append(second, 2)
    old = _store(app).latest_checkpoint()
    assert old is not None
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    _append(second, 3)
    _append(app, 4)
    assert _signers(app) == [
        (0, "acme/widget", first.key_id),
        (1, "acme/widget", first.key_id),
        (2, KEYS_PROJECT, first.key_id),
        (3, "acme/widget", new.key_id),
        (4, "acme/widget", new.key_id),
    ]
    bundle = _export(app, tmp_path / "all.zip", since_size=old.size)
    report = verify_bundle(
        bundle,
        pinned_key_pem=first.public.public_pem().encode(),
        old_checkpoint=checkpoint_from_json(old.model_dump()),
    )
    assert report.ok, report.failures
    assert report.key_transitions == 1
    assert report.records == 5
    assert report.checkpoint is not None
    assert report.checkpoint.key_id == new.key_id
    project = verify_bundle(
        _export(app, tmp_path / "project.zip", project="acme/widget"),
        pinned_key_pem=first.public.public_pem().encode(),
    )
    assert project.ok, project.failures
    assert (project.records, project.key_transitions) == (4, 1)


def test_no_instance_can_retire_a_newer_key(app: FastAPI, settings: Settings) -> None:
    """A transition from a key that is no longer current is refused and changes nothing."""
    old = _store(app).signing_key()
    _append(app, 1)
    newer = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    size = _store(app).log_size()
    stale = SigningKey.generate()
    payload = transition_statement(settings.log_origin, old.public, stale.public, "2026-12-03")
    envelope = sign_transition(payload, old, stale).to_json_dict()
    with pytest.raises(ServiceError, match="is no longer current"):
        EvidenceStore(_store(app).engine, old, settings.log_origin).append_transition(
            payload, envelope, stale.public
        )
    assert _store(app).log_size() == size
    assert _store(app).signing_key().key_id == newer.key_id
    with pytest.raises(ServiceError, match="is already the current signing key"):
        rotate(_store(app).engine, settings.data_dir, settings.log_origin, new_key=newer)


def test_a_transition_signed_by_a_foreign_key_fails_verify(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """An owner who makes a key of their own current and logs a transition from it to another
    produces a bundle `verify --key FIRST` fails, naming the transition."""
    first = _store(app).signing_key()
    _append(app, 1, 2)
    foreign, successor = SigningKey.generate(), SigningKey.generate()
    engine = _store(app).engine
    drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE signing_keys SET retired_at = '2026-12-03T00:00:00Z'"))
        connection.execute(
            SigningKeyRow.__table__.insert().values(
                key_id=foreign.key_id,
                algorithm="ed25519",
                public_key_pem=foreign.public.public_pem(),
                created_at="2026-12-03T00:00:00Z",
            )
        )
    payload = transition_statement(settings.log_origin, foreign.public, successor.public, "now")
    envelope = sign_transition(payload, foreign, successor).to_json_dict()
    EvidenceStore(engine, foreign, settings.log_origin).append_transition(
        payload, envelope, successor.public
    )
    attacker = EvidenceStore(engine, successor, settings.log_origin)
    attacker.append("acme/widget", canonical_json(statement(3)), StatementMeta())
    (settings.data_dir / "keys" / f"{successor.key_id}.pem").write_bytes(successor.private_pem())
    report = verify_bundle(
        _export(app, tmp_path / "forged.zip"), pinned_key_pem=first.public.public_pem().encode()
    )
    messages = [failure.describe() for failure in report.failures]
    assert (
        f"transitions.jsonl: transition 1 (log index 2): the key transition to "
        f"{successor.key_id[:16]}... is from key {foreign.key_id[:16]}..., which no pinned key "
        "or earlier transition reaches"
    ) in messages
    assert not report.ok


class _SignedBeforeTheRotation:
    """A key source whose first answer is the key current before a rotation (an append that
    signed just before another instance rotated), then the database's current key."""

    def __init__(self, stale: SigningKey, current: Callable[[], SigningKey]) -> None:
        self.answers = [stale]
        self.current = current

    def __call__(self) -> SigningKey:
        return self.answers.pop() if self.answers else self.current()


def test_an_envelope_signed_before_a_rotation_is_signed_again_with_the_new_key(
    app: FastAPI, settings: Settings
) -> None:
    """An append whose envelope was signed with the key a rotation has just retired is signed
    again under the log lock: no record after a transition is signed by the retired key."""
    old = _store(app).signing_key()
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    source = _SignedBeforeTheRotation(old, _store(app).signing_key)
    store = EvidenceStore(_store(app).engine, source, settings.log_origin)
    result = store.append("acme/widget", canonical_json(statement(9)), StatementMeta())
    assert _signers(app)[-1] == (result.record.log_index, "acme/widget", new.key_id)
    assert result.receipt is not None
    assert result.receipt.checkpoint.key_id == new.key_id


def test_a_record_signed_by_the_retired_key_after_the_rotation_fails_verify(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """The database's owner drops the triggers, makes the retired key current again, appends a
    record with it and restores the new key: `verify --key FIRST` gives one FAIL line naming
    the record, its log index and the retired key."""
    first = _store(app).signing_key()
    _append(app, 1)
    new = rotate(_store(app).engine, settings.data_dir, settings.log_origin)
    engine = _store(app).engine
    drop_triggers(engine)
    swap = text("UPDATE signing_keys SET retired_at = :at WHERE key_id = :key")
    with engine.begin() as connection:
        connection.execute(swap, {"at": "2026-12-03T00:00:00Z", "key": new.key_id})
        connection.execute(swap, {"at": None, "key": first.key_id})
    forger = EvidenceStore(engine, first, settings.log_origin)
    forged = forger.append("acme/widget", canonical_json(statement(2)), StatementMeta())
    with engine.begin() as connection:
        connection.execute(swap, {"at": "2026-12-03T00:00:00Z", "key": first.key_id})
        connection.execute(swap, {"at": None, "key": new.key_id})
    _append(app, 3)
    assert [signer for _i, _p, signer in _signers(app)] == [
        first.key_id,
        first.key_id,
        first.key_id,
        new.key_id,
    ]
    bundle = _export(app, tmp_path / "forged.zip")
    pinned = tmp_path / "first.pem"
    pinned.write_text(first.public.public_pem())
    done = run_gatekeeper("verify", str(bundle), "--key", str(pinned))
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failures == [
        f"FAIL record 3 (id {forged.record.id}, log index 2): signed by key "
        f"{first.key_id[:16]}..., which the log retired at index 1: a record at log index 2 "
        "is its successor's to sign"
    ]
