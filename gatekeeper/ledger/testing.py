"""A test mode shipped with the library: records and bundles built in memory, no service.

Tests and benchmarks build realistic bundles here exactly as the service would: statement ->
DSSE envelope (real Ed25519) -> leaf -> MemoryTree -> signed checkpoint -> BundleWriter.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.attest.statement import build_statement, parse_statement, statement_bytes
from gatekeeper.attest.vsa import VsaInput, sign_vsa
from gatekeeper.ledger.bundle.writer import BundleWriter
from gatekeeper.ledger.checkpoint import Checkpoint, sign_checkpoint
from gatekeeper.ledger.cosignature import cosign
from gatekeeper.ledger.key_chain import sign_transition, transition_statement
from gatekeeper.ledger.merkle_hash import leaf_hash
from gatekeeper.ledger.merkle_tree import MemoryTree

__all__ = [
    "ORIGIN",
    "keys_document",
    "sample_predicate",
    "sample_records",
    "sample_summary",
    "write_rotated_bundle",
    "write_sample_bundle",
]

ORIGIN = "gatekeeper.test/log"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def sample_predicate(number: int) -> dict[str, Any]:
    """A small verdict predicate, different for every number."""
    return {
        "verdict": "pass" if number % 7 else "fail",
        "policy": {"name": "pull-request", "digest": hashlib.sha256(b"policy").hexdigest()},
        "rules": [{"id": "tests-green", "outcome": "pass", "actual": number, "expected": 0}],
        "facts": {"tests": {"total": 100 + number, "failed": 0}},
        "ci": {"provider": "github", "run_url": f"https://ci.example/run/{number}"},
    }


def sample_records(
    count: int, key: SigningKey, tree: MemoryTree, *, project: str = "acme/widgets"
) -> Iterator[dict[str, Any]]:
    """Sign `count` statements, append their leaves to `tree`, yield records (API shape)."""
    for number in range(count):
        commit = hashlib.sha1(str(number).encode(), usedforsecurity=False).hexdigest()
        statement = build_statement(project, commit, sample_predicate(number))
        envelope = sign_envelope(statement_bytes(statement), key).to_json_dict()
        leaf = leaf_hash(canonical_json(envelope))
        index = tree.append_hash(leaf)
        integrated = _EPOCH + timedelta(seconds=index)
        yield {
            "id": f"rec-{index:08d}",
            "project": project,
            "log_index": index,
            "leaf_hash": leaf.hex(),
            "integrated_at": integrated.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
            "envelope": envelope,
        }


def keys_document(*keys: SigningKey) -> dict[str, Any]:
    """The `/v1/keys` shape for the given keys (the last one current)."""
    entries = []
    for number, key in enumerate(keys):
        retired = None if number == len(keys) - 1 else "2026-01-02T00:00:00.000000Z"
        entries.append(
            {
                "key_id": key.key_id,
                "algorithm": "ed25519",
                "public_key_pem": key.public.public_pem(),
                "created_at": "2026-01-01T00:00:00.000000Z",
                "retired_at": retired,
            }
        )
    return {"keys": entries}


def sample_summary(record: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """The VSA envelope (JSON object) of a sample record, as the service would sign it."""
    envelope = record["envelope"]
    statement = parse_statement(base64.b64decode(envelope["payload"]))
    given = VsaInput(
        verifier_id="https://evidence.test/",
        time_verified=record["integrated_at"],
        policy_uri="https://evidence.test/v1/policies?project=acme%2Fwidgets",
        record_uri=f"https://evidence.test/v1/evidence/{record['id']}",
        envelope_bytes=canonical_json(envelope),
    )
    return sign_vsa(statement, given, key).to_json_dict()


def write_sample_bundle(
    path: Path,
    count: int,
    key: SigningKey,
    *,
    since_size: int | None = None,
    summaries: bool = False,
) -> tuple[MemoryTree, Checkpoint]:
    """Write a bundle of `count` fresh records (with their VSAs when `summaries`); returns the
    tree and the bundle's checkpoint."""
    tree = MemoryTree()
    records = list(sample_records(count, key, tree))
    checkpoint = sign_checkpoint(ORIGIN, tree.size, tree.root(), key)
    consistency = None
    if since_size is not None:
        hashes = [h.hex() for h in tree.consistency_proof(since_size)]
        consistency = {"old": since_size, "new": tree.size, "hashes": hashes}
    with path.open("wb") as out:
        writer = BundleWriter(out, signing_key=key, exported_at="2026-02-01T00:00:00Z")
        for record in records:
            summary = sample_summary(record, key) if summaries else None
            writer.write_record(record, tree.inclusion_proof(record["log_index"]), summary)
        writer.finish(checkpoint, keys_document(key), consistency=consistency)
    return tree, checkpoint


def _transition_record(tree: MemoryTree, old: SigningKey, new: SigningKey) -> dict[str, Any]:
    payload = transition_statement(ORIGIN, old.public, new.public, "2026-01-02T00:00:00Z")
    envelope = sign_transition(payload, old, new).to_json_dict()
    leaf = leaf_hash(canonical_json(envelope))
    index = tree.append_hash(leaf)
    return {
        "id": f"key-{index:08d}",
        "project": "@log/signing-keys",
        "log_index": index,
        "leaf_hash": leaf.hex(),
        "integrated_at": "2026-01-02T00:00:00.000000Z",
        "envelope": envelope,
    }


def write_rotated_bundle(
    path: Path,
    keys: tuple[SigningKey, SigningKey],
    *,
    transition_by: SigningKey | None = None,
    witnesses: tuple[SigningKey, ...] = (),
    manifest_key: SigningKey | None = None,
    checkpoint_by: SigningKey | None = None,
) -> tuple[MemoryTree, Checkpoint]:
    """A bundle whose log rotated from `keys[0]` to `keys[1]`: two records by the first key,
    the transition record (signed by `transition_by`, default the first key, and the second),
    two records by the second key, the checkpoint and manifest by the second key, and a
    cosignature of the checkpoint by each of `witnesses`. With `manifest_key`, the log rotated
    again after the checkpoint (a transition the bundle's tree does not cover) and that key
    signs the manifest, as an export at an older checkpoint has it. `checkpoint_by` signs the
    checkpoint instead of the second key. Returns the tree (at the checkpoint's size unless
    `manifest_key` added a leaf) and the checkpoint."""
    first, second = keys
    tree = MemoryTree()
    records = list(sample_records(2, first, tree))
    transition = _transition_record(tree, transition_by or first, second)
    later = list(sample_records(2, second, tree, project="acme/gadgets"))
    checkpoint = sign_checkpoint(ORIGIN, tree.size, tree.root(), checkpoint_by or second)
    lines = [
        cosign(checkpoint.note, f"witness.test/{n}", key, 1767225600 + n).line()
        for n, key in enumerate(witnesses)
    ]
    size = tree.size
    after = _transition_record(tree, second, manifest_key) if manifest_key else None
    with path.open("wb") as out:
        signer = manifest_key or second
        writer = BundleWriter(out, signing_key=signer, exported_at="2026-02-01T00:00:00Z")
        for record in [*records, *later]:
            writer.write_record(record, tree.inclusion_proof(record["log_index"], size))
        writer.write_transition(transition, tree.inclusion_proof(transition["log_index"], size))
        if after is not None:
            index = after["log_index"]
            writer.write_transition(after, tree.inclusion_proof(index), tree.size)
        cosigned = {"size": checkpoint.size, "cosignatures": lines} if lines else None
        published = keys_document(first, second, *([manifest_key] if manifest_key else []))
        writer.finish(checkpoint, published, witnesses=cosigned)
    return tree, checkpoint
