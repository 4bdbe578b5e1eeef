"""The transparency log: RFC 6962 Merkle hashing, RFC 9162 proofs, signed checkpoints, bundles.

Pure code, no database: the service stores the nodes and hands them back through `get`.
"""

from gatekeeper.ledger.bundle import (
    BUNDLE_FORMAT,
    BundleFailure,
    BundleReport,
    BundleWriter,
    Manifest,
    bundle_checkpoint,
    bundle_keys,
    pinned_keys,
    verify_bundle,
)
from gatekeeper.ledger.checkpoint import (
    Checkpoint,
    checkpoint_from_json,
    checkpoint_from_note,
    note_key_hash,
    parse_note,
    parse_signed_note,
    parse_verifier_key,
    sign_checkpoint,
    signed_note_text,
    verifier_key,
    verify_checkpoint,
    verify_signed_note,
)
from gatekeeper.ledger.merkle_hash import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from gatekeeper.ledger.merkle_tree import (
    GetNode,
    MemoryTree,
    NodeKey,
    consistency_proof,
    inclusion_proof,
    nodes_for_append,
    required_nodes_for_consistency,
    required_nodes_for_inclusion,
    required_nodes_for_root,
    root_hash,
)
from gatekeeper.ledger.merkle_verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "BUNDLE_FORMAT",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "BundleFailure",
    "BundleReport",
    "BundleWriter",
    "Checkpoint",
    "GetNode",
    "Manifest",
    "MemoryTree",
    "NodeKey",
    "bundle_checkpoint",
    "bundle_keys",
    "checkpoint_from_json",
    "checkpoint_from_note",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_for_append",
    "note_key_hash",
    "parse_note",
    "parse_signed_note",
    "parse_verifier_key",
    "pinned_keys",
    "required_nodes_for_consistency",
    "required_nodes_for_inclusion",
    "required_nodes_for_root",
    "root_from_inclusion_proof",
    "root_hash",
    "sign_checkpoint",
    "signed_note_text",
    "verifier_key",
    "verify_bundle",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_signed_note",
]
