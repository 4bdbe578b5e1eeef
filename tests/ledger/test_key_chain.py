"""Key transitions: verify follows them from the pinned first key, and nothing else."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import LedgerError, VerificationError
from gatekeeper.ledger import BundleWriter, sign_checkpoint, verify_bundle
from gatekeeper.ledger.key_chain import (
    TRANSITION_PREDICATE_TYPE,
    follow_chain,
    is_transition,
    sign_transition,
    stated_transition,
    transition_statement,
    verify_transition,
)
from gatekeeper.ledger.testing import ORIGIN, write_rotated_bundle

FIRST = SigningKey.from_seed(b"\x01" * 32)
SECOND = SigningKey.from_seed(b"\x02" * 32)
FOREIGN = SigningKey.from_seed(b"\x03" * 32)
PINNED = {FIRST.key_id: FIRST.public}


def _envelope(old: SigningKey = FIRST, new: SigningKey = SECOND) -> dict[str, Any]:
    payload = transition_statement(ORIGIN, old.public, new.public, "2026-01-02T00:00:00Z")
    return sign_transition(payload, old, new).to_json_dict()


def _with_statement(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A transition envelope (signed by both keys) over an edited statement."""
    statement = json.loads(base64.b64decode(_envelope()["payload"]))
    edit(statement)
    return sign_transition(canonical_json(statement), FIRST, SECOND).to_json_dict()


def _rewrite(source: Path, target: Path, member: str, data: bytes | None) -> Path:
    """A copy of the bundle with one member replaced (or removed when `data` is None)."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if data is None:
        del members[member]
    else:
        members[member] = data
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return target


def _messages(path: Path, *, pin: SigningKey = FIRST) -> list[str]:
    report = verify_bundle(path, pinned_key_pem=pin.public.public_pem().encode())
    return [failure.describe() for failure in report.failures]


def test_a_bundle_spanning_a_rotation_verifies_from_the_first_key(tmp_path: Path) -> None:
    """Pinning only the first key, the records, checkpoint and manifest by the second key pass
    through the logged transition."""
    path = tmp_path / "rotated.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    report = verify_bundle(path, pinned_key_pem=FIRST.public.public_pem().encode())
    assert report.ok, report.failures
    assert report.records == 4
    assert report.key_transitions == 1
    assert report.checkpoint is not None
    assert report.checkpoint.key_id == SECOND.key_id


def test_a_transition_signed_by_a_foreign_key_fails_in_one_sentence(tmp_path: Path) -> None:
    """An attacker's transition from a key of their own is refused, and so is all it signed."""
    path = tmp_path / "forged.zip"
    write_rotated_bundle(path, (FIRST, SECOND), transition_by=FOREIGN)
    messages = _messages(path)
    assert (
        f"transitions.jsonl: transition 1 (log index 2): the key transition to "
        f"{SECOND.key_id[:16]}... is from key {FOREIGN.key_id[:16]}..., which no pinned key or "
        "earlier transition reaches"
    ) in messages
    assert f"checkpoint.json: signed by unknown key {SECOND.key_id[:16]}... (not a pinned key)" in (
        messages
    )
    assert sum("record" in m and "no signature is by a known key" in m for m in messages) == 2


def test_records_by_a_key_no_transition_reaches_fail(tmp_path: Path) -> None:
    """Without the transition member, the second key is not trusted and its records fail."""
    path = tmp_path / "rotated.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    stripped = _rewrite(path, tmp_path / "stripped.zip", "transitions.jsonl", None)
    messages = _messages(stripped)
    assert f"checkpoint.json: signed by unknown key {SECOND.key_id[:16]}... (not a pinned key)" in (
        messages
    )
    assert (
        sum(m.startswith("record ") and "no signature is by a known key" in m for m in messages)
        == 2
    )


def test_a_transition_outside_the_signed_log_fails(tmp_path: Path) -> None:
    """A transition whose inclusion proof does not lead to the checkpoint is named."""
    path = tmp_path / "rotated.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    with zipfile.ZipFile(path) as archive:
        line = json.loads(archive.read("transitions.jsonl"))
    cases = {
        "proof-hashes": {**line, "proof": {**line["proof"], "hashes": ["zz"]}},
        "proof-index": {**line, "proof": {**line["proof"], "index": 0}},
        "proof-root": {**line, "proof": {**line["proof"], "hashes": ["00" * 32] * 3}},
        "leaf": {**line, "record": {**line["record"], "leaf_hash": "00" * 32}},
    }
    expected = {
        "proof-hashes": "the proof hashes are not 64 lowercase hex characters each",
        "proof-index": "the proof is not for this record in the tree of size 5",
        "proof-root": (
            "inclusion proof: the inclusion proof of leaf 2 does not lead to the root of size 5"
        ),
        "leaf": "leaf_hash is not the hash of the envelope",
    }
    for name, value in cases.items():
        target = _rewrite(path, tmp_path / f"{name}.zip", "transitions.jsonl", json.dumps(value))
        assert f"transitions.jsonl: transition 1 (log index 2): {expected[name]}" in (
            _messages(target)
        ), name


def test_malformed_transition_lines_are_named(tmp_path: Path) -> None:
    """Lines that are not {record, proof} of the right shapes, or out of log order, fail."""
    path = tmp_path / "rotated.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    with zipfile.ZipFile(path) as archive:
        good = archive.read("transitions.jsonl").strip()
    record = json.loads(good)["record"]
    lines = [
        b"{not json",
        b"[]",
        json.dumps({"record": {"id": 1}, "proof": {}}).encode(),
        json.dumps({"record": {**record, "log_index": -1}, "proof": {}}).encode(),
        json.dumps({"record": record, "proof": []}).encode(),
        good,
        good,
    ]
    target = _rewrite(path, tmp_path / "bad.zip", "transitions.jsonl", b"\n".join(lines))
    messages = _messages(target)
    assert any(m.startswith("transitions.jsonl: transition 1: ") for m in messages)
    assert 'transitions.jsonl: transition 2: the line is not {"record", "proof"}' in messages
    assert (
        "transitions.jsonl: transition 3: the record is not of the API's record shape" in messages
    )
    assert (
        "transitions.jsonl: transition 4: the record's log_index is not a non-negative integer"
        in messages
    )
    assert 'transitions.jsonl: transition 5: the proof is not {"index", "size", "hashes"}' in (
        messages
    )
    assert "transitions.jsonl: transition 7 (log index 2): not in log order" in messages


def test_an_unreadable_checkpoint_skips_the_transition_proofs(tmp_path: Path) -> None:
    """Without a checkpoint there is no root to prove the transitions against: only the
    checkpoint failure is reported for them."""
    path = tmp_path / "rotated.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    target = _rewrite(path, tmp_path / "nocp.zip", "checkpoint.json", b"{}")
    messages = _messages(target)
    assert any(m.startswith("checkpoint.json: not a checkpoint") for m in messages)
    assert not any(m.startswith("transitions.jsonl") for m in messages)


def test_follow_chain_reaches_keys_only_in_log_order() -> None:
    """A transition from a key reached only by a later transition is refused."""
    third = SigningKey.from_seed(b"\x04" * 32)
    chain = follow_chain(PINNED, [_envelope(SECOND, third), _envelope(FIRST, SECOND)])
    assert set(chain.keys) == {FIRST.key_id, SECOND.key_id}
    assert [t.key_id for t in chain.transitions] == [SECOND.key_id]
    assert [position for position, _ in chain.refused] == [1]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(_type="x"), "the key transition is not an in-toto Statement v1"),
        (lambda s: s.update(predicateType="x"), "the statement is not a key transition"),
        (lambda s: s["predicate"].pop("at"), "the key transition is malformed: at: Field required"),
        (
            lambda s: s["subject"][0]["digest"].update(sha256="0" * 64),
            "the key transition's subject does not name its new key",
        ),
        (
            lambda s: s["predicate"].update(public_key_pem="nope"),
            "the key transition's new key is unusable",
        ),
        (
            lambda s: s["predicate"].update(public_key_pem=FOREIGN.public.public_pem()),
            "the key transition's key_id is not the SHA-256 of its key",
        ),
    ],
)
def test_a_malformed_transition_is_refused_with_a_sentence(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    """Each way a transition statement can be wrong has its own sentence."""
    with pytest.raises(VerificationError, match=message):
        verify_transition(_with_statement(edit), PINNED)


def test_a_transition_not_signed_by_its_new_key_is_refused() -> None:
    """The new key must sign too: a transition naming a key nobody holds is refused."""
    envelope = _envelope()
    envelope["signatures"] = envelope["signatures"][:1]
    with pytest.raises(VerificationError, match="is not signed by its new key"):
        verify_transition(envelope, PINNED)


def test_a_payload_that_is_not_json_is_refused() -> None:
    """Bytes that are not JSON are refused, and `is_transition` says no."""
    envelope = {**_envelope(), "payload": base64.b64encode(b"{nope").decode()}
    with pytest.raises(VerificationError, match="the key transition is not JSON"):
        verify_transition(envelope, PINNED)
    assert not is_transition(envelope)
    assert is_transition(_envelope())
    assert not is_transition(_with_statement(lambda s: s.update(predicateType="other")))
    assert TRANSITION_PREDICATE_TYPE.endswith("/key-transition/v1")


def test_the_writer_refuses_a_transition_it_cannot_write(tmp_path: Path) -> None:
    """A transition after `finish`, or one lacking record fields, is a LedgerError."""
    with (tmp_path / "b.zip").open("wb") as out:
        writer = BundleWriter(out, signing_key=FIRST, exported_at="2026-02-01T00:00:00Z")
        with pytest.raises(LedgerError, match="the record lacks"):
            writer.write_transition({"id": "x"}, [])
        writer.close()
        with pytest.raises(LedgerError, match="already finished"):
            writer.write_transition({"id": "x"}, [])


def test_a_transition_after_the_checkpoint_reaches_the_manifest_key(tmp_path: Path) -> None:
    """A bundle at an older checkpoint, its manifest signed by a key the log rotated to later,
    verifies from the first key through both transitions."""
    third = SigningKey.from_seed(b"\x07" * 32)
    path = tmp_path / "older.zip"
    write_rotated_bundle(path, (FIRST, SECOND), manifest_key=third)
    report = verify_bundle(path, pinned_key_pem=FIRST.public.public_pem().encode())
    assert report.ok, report.failures
    assert report.key_transitions == 2
    assert report.checkpoint is not None
    assert report.checkpoint.size == 5


def test_a_checkpoint_signed_by_a_key_outside_its_period_fails(tmp_path: Path) -> None:
    """A checkpoint signed by a key the log had retired, or by the new key before its
    transition took effect, is named: a retired key signs nothing new."""
    path = tmp_path / "late.zip"
    write_rotated_bundle(path, (FIRST, SECOND), checkpoint_by=FIRST)
    assert (
        f"checkpoint.json: signed by key {FIRST.key_id[:16]}..., which the log retired at index "
        "2: a checkpoint of size 5 is its successor's to sign"
    ) in _messages(path)
    good = tmp_path / "good.zip"
    tree, _checkpoint = write_rotated_bundle(good, (FIRST, SECOND))
    early = sign_checkpoint(ORIGIN, 3, tree.root(3), SECOND)
    report = verify_bundle(
        good,
        pinned_key_pem=FIRST.public.public_pem().encode(),
        old_checkpoint=early,
        consistency_proof=tree.consistency_proof(3),
    )
    assert [f.describe() for f in report.failures] == [
        f"old checkpoint: signed by key {SECOND.key_id[:16]}... at size 3, before the transition "
        "to it at index 2 took effect"
    ]
    retired = sign_checkpoint(ORIGIN, 3, tree.root(3), FIRST)
    report = verify_bundle(
        good,
        pinned_key_pem=FIRST.public.public_pem().encode(),
        old_checkpoint=retired,
        consistency_proof=tree.consistency_proof(3),
    )
    assert report.ok, report.failures  # the transition's own checkpoint is the old key's


def test_a_stated_transition_is_read_without_checking_signatures() -> None:
    """A follower learns which keys a transition names (to skip history it already pins); an
    envelope that states no transition states none."""
    stated = stated_transition(_envelope(FIRST, SECOND))
    assert stated is not None
    assert (stated.previous_key_id, stated.key_id) == (FIRST.key_id, SECOND.key_id)
    bad = {**_envelope(), "payload": base64.b64encode(b"{nope").decode()}
    assert stated_transition(bad) is None
