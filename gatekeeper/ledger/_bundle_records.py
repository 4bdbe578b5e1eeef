"""The per-record checks of a bundle: digest, shape, DSSE envelope, leaf hash, inclusion proof."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from typing import IO, Any

from pydantic import ValidationError

from gatekeeper.attest.canonical import CanonicalJSONError, canonical_json, strict_json_loads
from gatekeeper.attest.dsse import Envelope, verify_envelope
from gatekeeper.attest.statement import StatementError, parse_statement
from gatekeeper.errors import VerificationError
from gatekeeper.ledger._bundle_state import ZIP_ERRORS, BundleState, first_line
from gatekeeper.ledger.bundle import DIGESTS_MEMBER, PROOFS_MEMBER, RECORD_FIELDS, RECORDS_MEMBER
from gatekeeper.ledger.merkle import leaf_hash, root_from_inclusion_proof

__all__ = ["check_records"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_STRING_FIELDS = ("id", "project", "integrated_at")
_TYPES = {
    "log_index": "a non-negative integer",
    "id, project or integrated_at": "strings",
    "leaf_hash": "64 lowercase hex characters",
    "envelope": "an object",
}


def _record_problem(record: Any) -> str | None:
    """Why a parsed line is not a record of the API's shape, or None."""
    if not isinstance(record, dict):
        return "the line is not a JSON object"
    if record.keys() != RECORD_FIELDS:
        extra = sorted(record.keys() - RECORD_FIELDS)
        missing = sorted(RECORD_FIELDS - record.keys())
        return f"the record's fields are wrong (missing {missing}, unexpected {extra})"
    index = record["log_index"]
    checks = (
        (isinstance(index, int) and not isinstance(index, bool) and index >= 0, "log_index"),
        (all(isinstance(record[n], str) for n in _STRING_FIELDS), "id, project or integrated_at"),
        (
            isinstance(record["leaf_hash"], str) and _HEX64.fullmatch(record["leaf_hash"]),
            "leaf_hash",
        ),
        (isinstance(record["envelope"], dict), "envelope"),
    )
    for good, name in checks:
        if not good:
            return f"{name}: not of the record's type ({_TYPES[name]})"
    return None


def _proof_hashes(value: Any, log_index: int, size: int | None) -> list[bytes]:
    """The hashes of a proofs.jsonl line, checked against the record and the checkpoint."""
    if not isinstance(value, dict) or value.keys() != {"index", "size", "hashes"}:
        raise VerificationError('the proof is not {"index", "size", "hashes"}')
    if value["index"] != log_index:
        raise VerificationError(f"the proof is for log index {value['index']}")
    if size is not None and value["size"] != size:
        raise VerificationError(f"the proof is to tree size {value['size']}, not {size}")
    hashes = value["hashes"]
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes
    ):
        raise VerificationError("the proof hashes are not 64 lowercase hex characters each")
    return [bytes.fromhex(h) for h in hashes]


class _RecordChecker:
    """Checks each record line against its digest, its envelope, its leaf and its proof."""

    def __init__(self, state: BundleState) -> None:
        self.state = state
        self.seen: dict[int, int] = {}

    def check(
        self, number: int, line: bytes, proof_line: bytes | None, digest: bytes | None
    ) -> None:
        state = self.state
        if digest is None or hashlib.sha256(line).hexdigest().encode() != digest:
            state.fail(
                RECORDS_MEMBER, "the line differs from its digest in records.sha256", record=number
            )
        try:
            record = strict_json_loads(line)
        except CanonicalJSONError as error:
            state.fail(RECORDS_MEMBER, str(error), record=number)
            return
        problem = _record_problem(record)
        if problem is not None:
            state.fail(RECORDS_MEMBER, problem, record=number)
            return
        where = {"record": number, "record_id": record["id"], "log_index": record["log_index"]}
        first = self.seen.setdefault(record["log_index"], number)
        if first != number:
            state.fail(RECORDS_MEMBER, f"the same log index as record {first}", **where)
        leaf = self.check_envelope(record, where)
        if leaf is not None:
            self.check_proof(leaf, record["log_index"], proof_line, where)

    def check_envelope(self, record: dict[str, Any], where: dict[str, Any]) -> bytes | None:
        """Verify the DSSE envelope and the leaf hash; return the leaf hash when it matches."""
        state = self.state
        try:
            envelope = Envelope.model_validate(record["envelope"])
            payload = verify_envelope(envelope, state.envelope_keys)
            parse_statement(payload)
        except (ValidationError, VerificationError, StatementError) as error:
            state.fail(RECORDS_MEMBER, f"envelope: {first_line(error)}", **where)
        try:
            leaf = leaf_hash(canonical_json(record["envelope"]))
        except CanonicalJSONError as error:
            state.fail(RECORDS_MEMBER, f"envelope: {error}", **where)
            return None
        if leaf.hex() != record["leaf_hash"]:
            state.fail(RECORDS_MEMBER, "leaf_hash is not the hash of the envelope", **where)
        return leaf

    def check_proof(
        self, leaf: bytes, log_index: int, proof_line: bytes | None, where: dict[str, Any]
    ) -> None:
        state = self.state
        if proof_line is None:
            state.fail(PROOFS_MEMBER, "no inclusion proof for this record", **where)
            return
        checkpoint = state.checkpoint
        size = checkpoint.size if checkpoint is not None else None
        try:
            hashes = _proof_hashes(strict_json_loads(proof_line), log_index, size)
            if checkpoint is not None:
                root = root_from_inclusion_proof(leaf, log_index, checkpoint.size, hashes)
                if root != state.root:
                    raise VerificationError("the inclusion proof does not lead to the signed root")
        except (VerificationError, CanonicalJSONError) as error:
            state.fail(PROOFS_MEMBER, f"inclusion proof: {error}", **where)


def _lines(state: BundleState, name: str) -> Iterator[bytes]:
    """The lines of a member (without newlines), hashing them; stops at corruption."""
    try:
        handle: IO[bytes] = state.archive.open(name)
    except KeyError:
        state.fail(name, "the member is missing from the bundle")
        return
    except ZIP_ERRORS as error:
        state.fail(name, f"the zip member is corrupt ({error})")
        return
    digest = hashlib.sha256()
    with handle:
        try:
            for raw in handle:
                digest.update(raw)
                yield raw[:-1] if raw.endswith(b"\n") else raw
        except ZIP_ERRORS as error:
            state.fail(name, f"the zip member is corrupt ({error})")
            return
    state.digests[name] = digest.hexdigest()


def check_records(state: BundleState) -> None:
    checker = _RecordChecker(state)
    streams = [_lines(state, name) for name in (RECORDS_MEMBER, PROOFS_MEMBER, DIGESTS_MEMBER)]
    for number, (line, proof, digest) in enumerate(itertools.zip_longest(*streams), start=1):
        if line is None:
            state.fail(PROOFS_MEMBER, "more proofs or digests than records", record=number)
            continue
        state.records += 1
        checker.check(number, line, proof, digest)
