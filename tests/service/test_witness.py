"""Witnesses on SQLite and PostgreSQL: they cosign a growing log and refuse a rebuilt one."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.keys import SigningKey
from gatekeeper.cli._witness import read_state, witness_once
from gatekeeper.config import Settings
from gatekeeper.errors import VerificationError
from gatekeeper.ledger import verify_bundle
from gatekeeper.ledger.cosignature import cosign
from gatekeeper.ledger.key_chain import sign_transition, transition_statement
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.keyring import rotate
from gatekeeper.service.store import EvidenceStore, StatementMeta
from tests.service.attacker import drop_triggers, rewrite_tail
from tests.service.conftest import bearer
from tests.service.live import ApiClient, statement

WITNESS = SigningKey.from_seed(b"\x21" * 32)
STRANGER = SigningKey.from_seed(b"\x22" * 32)


class ReadClient:
    """The in-process client with a read token on every request, as a witness runs."""

    def __init__(self, app: FastAPI, token: str) -> None:
        self.api = ApiClient(app)
        self.headers = bearer(token)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.api.get(url, headers=kwargs.pop("headers", self.headers), **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.api.post(url, headers=self.headers, **kwargs)


@dataclass
class Witnessed:
    """A service that accepts WITNESS, a read client on it, and the witness's state file."""

    app: FastAPI
    settings: Settings
    client: ReadClient
    state: Path
    admin: str

    def append(self, *numbers: int) -> None:
        store: EvidenceStore = self.app.state.gatekeeper.store
        for number in numbers:
            store.append("acme/widget", canonical_json(statement(number)), StatementMeta())

    def witness(self) -> list[str]:
        return witness_once(self.client, WITNESS, "witness.test/qa", self.state)

    def bundle(self, path: Path) -> Path:
        response = self.client.get("/v1/export", headers=bearer(self.admin))
        assert response.status_code == 200, response.text
        path.write_bytes(response.content)
        return path

    def verify(self, path: Path) -> list[str]:
        service_key = self.app.state.gatekeeper.store.signing_key().public.public_pem()
        report = verify_bundle(
            path,
            pinned_key_pem=service_key.encode(),
            witness_keys={WITNESS.key_id: WITNESS.public},
        )
        return [failure.describe() for failure in report.failures]


@pytest.fixture
def witnessed(settings: Settings, tmp_path: Path) -> Iterator[Witnessed]:
    """The app with GATEKEEPER_WITNESS_KEYS naming the witness's public key."""
    public = tmp_path / "witness.pub"
    public.write_text(WITNESS.public.public_pem())
    configured = settings.model_copy(update={"witness_keys": f" {public} ,"})
    app = create_app(configured)
    engine = app.state.gatekeeper.engine
    read = create_token(engine, ["read"], ["acme/widget"])[0]
    admin = create_token(engine, ["admin"], [])[0]
    client = ReadClient(app, read)
    try:
        yield Witnessed(app, configured, client, tmp_path / "state.json", admin)
    finally:
        client.api.close()
        engine.dispose()


def test_a_witness_cosigns_a_growing_log_and_the_bundle_carries_it(
    witnessed: Witnessed, tmp_path: Path
) -> None:
    """Two rounds over a growing log cosign sizes 3 and 5; the checkpoint (JSON and note) and
    the bundle carry the cosignature and `verify --witness-key` passes."""
    witnessed.append(1, 2, 3)
    first = witnessed.witness()
    assert first[0].startswith("first run: pinned the service's current key")
    assert " at size 3 " in first[-1]
    witnessed.append(4, 5)
    assert "at size 5" in witnessed.witness()[-1]
    assert stat.S_IMODE(os.stat(witnessed.state).st_mode) == 0o600
    checkpoint = witnessed.client.get("/v1/log/checkpoint").json()
    [cosignature] = checkpoint["cosignatures"]
    assert cosignature["size"] == 5
    assert cosignature["witness_key_id"] == WITNESS.key_id
    assert cosignature["name"] == "witness.test/qa"
    note = witnessed.client.get("/v1/log/checkpoint/note").text
    assert note.endswith(cosignature["cosignature"])
    assert note.count("\n\u2014 ") == 2
    assert witnessed.verify(witnessed.bundle(tmp_path / "good.zip")) == []
    metrics = witnessed.app.state.gatekeeper.metrics.registry
    assert metrics.get_sample_value("gatekeeper_witness_cosignatures_total") == 2


def test_a_rewritten_tail_is_refused_by_the_witness_and_fails_verify(
    witnessed: Witnessed, tmp_path: Path
) -> None:
    """After the owner drops the triggers and rebuilds the log from index 4 with the service's
    key, the witness refuses (state unchanged) and a bundle exported now fails
    `verify --witness-key`."""
    witnessed.append(1, 2, 3)
    witnessed.witness()
    witnessed.append(4, 5)
    witnessed.witness()
    before = witnessed.state.read_bytes()
    engine = witnessed.app.state.gatekeeper.engine
    drop_triggers(engine)
    origin = witnessed.settings.log_origin
    rewrite_tail(engine, witnessed.settings.data_dir, origin, 4, [statement(50), statement(6)])
    with pytest.raises(VerificationError) as refused:
        witnessed.witness()
    assert str(refused.value).startswith(
        "the log at size 6 is not an extension of the log at size 5 this witness cosigned"
    )
    assert str(refused.value).endswith("it was rewritten; not cosigned")
    assert witnessed.state.read_bytes() == before
    [message] = witnessed.verify(witnessed.bundle(tmp_path / "rewritten.zip"))
    assert message.startswith(
        "witnesses.json: 0 of the 1 witness keys cosigned the bundle's checkpoint (size 6)"
    )


def test_a_smaller_tree_is_refused(witnessed: Witnessed) -> None:
    """A log rebuilt shorter than the last cosigned size is refused without cosigning."""
    witnessed.append(1, 2, 3, 4)
    witnessed.witness()
    before = witnessed.state.read_bytes()
    engine = witnessed.app.state.gatekeeper.engine
    drop_triggers(engine)
    rewrite_tail(engine, witnessed.settings.data_dir, witnessed.settings.log_origin, 2, [])
    with pytest.raises(VerificationError, match="shows size 2, smaller than size 4"):
        witnessed.witness()
    assert witnessed.state.read_bytes() == before


def _post(witnessed: Witnessed, note: str, line: str) -> tuple[int, dict[str, Any]]:
    response = witnessed.client.post(
        "/v1/log/witness", json={"checkpoint": note, "cosignature": line}
    )
    return response.status_code, response.json()


def test_the_service_refuses_foreign_keys_and_checkpoints_it_never_issued(
    witnessed: Witnessed,
) -> None:
    """An unconfigured witness key is 403, a checkpoint body the log never signed or a bad
    signature is 422, the same cosignature again is 200; each a JSON error sentence."""
    witnessed.append(1, 2)
    note = witnessed.client.get("/v1/log/checkpoint").json()["note"]
    stranger = cosign(note, "stranger.test", STRANGER, 1767225600).line()
    status, body = _post(witnessed, note, stranger)
    assert status == 403
    assert body["error"]["code"] == "witness_unknown"
    assert "GATEKEEPER_WITNESS_KEYS" in body["error"]["message"]
    forged = note.replace(note.split("\n")[2], "A" * 43 + "=")
    status, body = _post(witnessed, forged, cosign(forged, "w", WITNESS, 1767225600).line())
    assert (status, body["error"]["code"]) == (422, "checkpoint_unknown")
    assert body["error"]["message"] == "this log never issued that checkpoint of size 2"
    other = note.replace("\n2\n", "\n1\n")
    status, body = _post(witnessed, note, cosign(other, "w", WITNESS, 1767225600).line())
    assert (status, body["error"]["code"]) == (422, "cosignature_invalid")
    status, body = _post(witnessed, note, "\u2014 w nope")
    assert (status, body["error"]["code"]) == (422, "cosignature_invalid")
    long_name = cosign(note, "w" * 201, WITNESS, 1767225600).line()
    status, body = _post(witnessed, note, long_name)
    assert (status, body["error"]["code"]) == (422, "cosignature_invalid")
    future = cosign(note, "w", WITNESS, 2**40).line()
    status, body = _post(witnessed, note, future)
    assert body["error"] == {
        "code": "cosignature_invalid",
        "message": "the cosignature's time is in the future",
    }
    good = cosign(note, "w", WITNESS, 1767225600).line()
    assert _post(witnessed, note, good)[0] == 201
    status, body = _post(witnessed, note, good)
    assert status == 200
    assert body["cosignature"] == good


def test_refused_cosignatures_block_their_address(settings: Settings, tmp_path: Path) -> None:
    """Past GATEKEEPER_AUTH_FAILURES_PER_ADDRESS refused cosignatures from one address (behind
    a trusted proxy) a minute, that address gets 429 with Retry-After, even for a good
    cosignature; another address's good cosignature is kept."""
    public = tmp_path / "witness.pub"
    public.write_text(WITNESS.public.public_pem())
    limits = {
        "witness_keys": str(public),
        "auth_failures_per_address": 2,
        "trusted_proxies": ["127.0.0.1"],
    }
    app = create_app(settings.model_copy(update=limits))
    api = ApiClient(app)
    try:
        app.state.gatekeeper.store.append(
            "acme/widget", canonical_json(statement(1)), StatementMeta()
        )
        note = api.get("/v1/log/checkpoint").json()["note"]
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        stranger = {"checkpoint": note, "cosignature": cosign(note, "s", STRANGER, 1).line()}
        codes = [
            api.post("/v1/log/witness", json=stranger, headers=guesser).status_code
            for _ in range(3)
        ]
        assert codes == [403, 403, 429]
        good = {"checkpoint": note, "cosignature": cosign(note, "w", WITNESS, 1767225600).line()}
        blocked = api.post("/v1/log/witness", json=good, headers=guesser)
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        assert "witness cosignatures from this address" in blocked.json()["error"]["message"]
        assert int(blocked.headers["retry-after"]) >= 1
        other = {"X-Forwarded-For": "198.51.100.7"}
        assert api.post("/v1/log/witness", json=good, headers=other).status_code == 201
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()


def _pinned_ids(state: Path) -> set[str]:
    return set(read_state(state).keys())


def test_the_witness_follows_a_key_rotation_and_pins_the_new_key(witnessed: Witnessed) -> None:
    """After `keys rotate` the witness verifies the transition the service serves, moves its
    pinned key forward in its state file and cosigns the checkpoint the new key signed."""
    witnessed.append(1, 2)
    witnessed.witness()
    store: EvidenceStore = witnessed.app.state.gatekeeper.store
    old = store.signing_key()
    settings = witnessed.settings
    new = rotate(store.engine, settings.data_dir, settings.log_origin)
    witnessed.append(3)
    said = witnessed.witness()
    assert said[0] == (
        f"followed the log's key transition from {old.key_id[:16]}... to "
        f"{new.key_id[:16]}...; pinned it"
    )
    assert " at size 4 " in said[-1]
    assert _pinned_ids(witnessed.state) == {old.key_id, new.key_id}
    witnessed.append(4)
    assert [line for line in witnessed.witness() if "followed" in line] == []


def test_a_transition_signed_by_a_foreign_key_is_refused(witnessed: Witnessed) -> None:
    """The database's owner makes a key of their own current and appends a transition from it:
    the witness exits with a sentence, cosigns nothing and keeps its state."""
    witnessed.append(1, 2)
    witnessed.witness()
    before = witnessed.state.read_bytes()
    engine = witnessed.app.state.gatekeeper.engine
    origin = witnessed.settings.log_origin
    drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE signing_keys SET retired_at = '2026-12-03T00:00:00Z'"))
        connection.execute(
            text(
                "INSERT INTO signing_keys (key_id, algorithm, public_key_pem, created_at,"
                " retired_at) VALUES (:id, 'ed25519', :pem, '2026-12-03T00:00:00Z', NULL)"
            ),
            {"id": STRANGER.key_id, "pem": STRANGER.public.public_pem()},
        )
    successor = SigningKey.from_seed(b"\x23" * 32)
    payload = transition_statement(origin, STRANGER.public, successor.public, "2026-12-03")
    envelope = sign_transition(payload, STRANGER, successor).to_json_dict()
    EvidenceStore(engine, STRANGER, origin).append_transition(payload, envelope, successor.public)
    with pytest.raises(VerificationError, match="does not follow from the pinned keys") as refused:
        witnessed.witness()
    assert "someone else's key is signing this log; not cosigned" in str(refused.value)
    assert witnessed.state.read_bytes() == before
    assert witnessed.client.get("/v1/log/checkpoint").json()["cosignatures"] == []


def test_a_checkpoint_signed_by_a_retired_key_is_refused(witnessed: Witnessed) -> None:
    """Once the witness followed a rotation, a newer checkpoint signed by the key the log retired
    (its owner made it current again) is exit 1 with a sentence, nothing cosigned."""
    witnessed.append(1, 2)
    witnessed.witness()
    store: EvidenceStore = witnessed.app.state.gatekeeper.store
    old = store.signing_key()
    settings = witnessed.settings
    new = rotate(store.engine, settings.data_dir, settings.log_origin)
    witnessed.append(3)
    witnessed.witness()
    before = witnessed.state.read_bytes()
    drop_triggers(store.engine)
    swap = text("UPDATE signing_keys SET retired_at = :at WHERE key_id = :key")
    with store.engine.begin() as connection:
        connection.execute(swap, {"at": "2026-12-03T00:00:00Z", "key": new.key_id})
        connection.execute(swap, {"at": None, "key": old.key_id})
    EvidenceStore(store.engine, old, settings.log_origin).append(
        "acme/widget", canonical_json(statement(4)), StatementMeta()
    )
    with pytest.raises(VerificationError) as refused:
        witnessed.witness()
    assert str(refused.value) == (
        f"the service's checkpoint is signed by key {old.key_id[:16]}..., which the log retired "
        "at index 2: a checkpoint of size 5 is its successor's to sign; not cosigned"
    )
    assert witnessed.state.read_bytes() == before
