"""Offline verification of an export bundle; every failing record is named, none stops the rest."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.attest.keys import KeyFormatError, VerifyingKey
from gatekeeper.errors import InputError, VerificationError
from gatekeeper.ledger.bundle._chain import (
    check_key_periods,
    check_transition_proofs,
    follow_bundle_chain,
    load_transitions,
)
from gatekeeper.ledger.bundle._records import check_records
from gatekeeper.ledger.bundle._state import (
    ZIP_ERRORS,
    BundleFailure,
    BundleState,
    check_member_count,
)
from gatekeeper.ledger.bundle._summaries import check_summaries
from gatekeeper.ledger.bundle._witnesses import check_witnesses
from gatekeeper.ledger.bundle.writer import (
    CHECKPOINT_MEMBER,
    CONSISTENCY_MEMBER,
    RECORDS_MEMBER,
)
from gatekeeper.ledger.checkpoint import Checkpoint, checkpoint_from_json, parse_verifier_key
from gatekeeper.ledger.merkle_verify import verify_consistency

__all__ = [
    "BundleFailure",
    "BundleReport",
    "bundle_checkpoint",
    "bundle_keys",
    "pinned_keys",
    "verify_bundle",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PARALLEL_BYTES = 4 * 1024 * 1024
_MAX_WORKERS = 8


class BundleReport(BaseModel):
    """The outcome of `verify_bundle`: what was checked and every failure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle: str
    records: int
    checkpoint: Checkpoint | None
    pinned_key_ids: tuple[str, ...]
    """The key ids the bundle had to be signed by; empty when the bundle's own keys were used."""
    consistency_from: int | None
    failures: tuple[BundleFailure, ...]
    key_transitions: int = 0
    """How many key transitions were followed from the pinned keys."""
    witnessed_by: tuple[str, ...] = ()
    """The ids of the given witness keys that cosigned a checkpoint consistent with the bundle's."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def failed_records(self) -> set[int]:
        """The line numbers of the records that failed."""
        return {f.record for f in self.failures if f.record is not None}


def _check_consistency(state: BundleState, old: Checkpoint, proof: Sequence[bytes] | None) -> None:
    member = "old checkpoint"
    new = state.checkpoint
    if new is None or not state.check_signed(old, member):
        return
    if old.origin() != new.origin():
        state.fail(member, f"is of log {old.origin()!r}, not {new.origin()!r}")
        return
    if proof is None:
        proof = _bundled_consistency(state, old.size, new.size)
    if proof is None:
        state.fail(
            member,
            f"no consistency proof from size {old.size} to {new.size}: export with "
            f"since_size={old.size} or pass --service URL",
        )
        return
    try:
        verify_consistency(old.size, new.size, old.root(), new.root(), proof)
    except VerificationError as error:
        state.fail(member, f"the log did not only grow since it: {error}")


def _bundled_consistency(state: BundleState, old: int, new: int) -> list[bytes] | None:
    value = state.read_json(CONSISTENCY_MEMBER, required=False)
    if not isinstance(value, dict) or value.get("old") != old or value.get("new") != new:
        return None
    hashes = value.get("hashes")
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes
    ):
        state.fail(CONSISTENCY_MEMBER, "the hashes are not 64 lowercase hex characters each")
        return None
    return [bytes.fromhex(h) for h in hashes]


_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL)


def _one_key(text: bytes) -> VerifyingKey:
    if text.startswith(b"-----BEGIN"):
        return VerifyingKey.from_public_pem(text)
    return parse_verifier_key(text.decode("utf-8", "replace"))[1]


def pinned_keys(pem: bytes | None) -> dict[str, VerifyingKey] | None:
    """The pinned keys, by key id: PEM blocks and C2SP verifier key lines (`name+hash+base64`),
    one or more; lines starting with `#` are comments."""
    if pem is None:
        return None
    parts = [match.group(0) for match in _PEM_BLOCK.finditer(pem)]
    rest = _PEM_BLOCK.sub(b"\n", pem)
    parts += [
        line.strip() for line in rest.splitlines() if line.strip() and not line.startswith(b"#")
    ]
    if not parts:
        raise InputError("--key", "holds no key (a PEM public key or a verifier key line)")
    keys: dict[str, VerifyingKey] = {}
    for part in parts:
        try:
            key = _one_key(part)
        except (KeyFormatError, VerificationError) as error:
            raise InputError("--key", str(error)) from error
        keys[key.key_id] = key
    return keys


def _workers(archive: zipfile.ZipFile, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    try:
        size = archive.getinfo(RECORDS_MEMBER).file_size
    except KeyError:
        return 1
    return min(os.cpu_count() or 1, _MAX_WORKERS) if size > _PARALLEL_BYTES else 1


def _open(path: str | Path) -> zipfile.ZipFile:
    check_member_count(path)
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise InputError(path, f"not a readable bundle zip ({error})") from error


def bundle_checkpoint(path: str | Path) -> Checkpoint:
    """The bundle's checkpoint as written, not yet verified (to ask for a consistency proof)."""
    with _open(path) as archive:
        try:
            return checkpoint_from_json(strict_json_loads(archive.read(CHECKPOINT_MEMBER)))
        except (*ZIP_ERRORS, CanonicalJSONError, VerificationError) as error:
            raise InputError(path, f"{CHECKPOINT_MEMBER} cannot be read ({error})") from error


def bundle_keys(path: str | Path) -> list[VerifyingKey]:
    """The public keys the bundle's keys.json lists, not trusted (to find which signature line
    of an older signed note to read; `verify_bundle` decides whether its key is trusted)."""
    with _open(path) as archive:
        state = BundleState(archive, None)
        state.load_keys()
    return list(state.envelope_keys.values())


def verify_bundle(
    path: str | Path,
    *,
    pinned_key_pem: bytes | None = None,
    old_checkpoint: Checkpoint | None = None,
    consistency_proof: list[bytes] | None = None,
    workers: int | None = None,
    witness_keys: Mapping[str, VerifyingKey] | None = None,
    witnesses: int | None = None,
) -> BundleReport:
    """Check a bundle offline and report every failure; InputError when it cannot be read.

    `pinned_key_pem` holds the keys to trust (PEM blocks or verifier key lines): the checkpoint,
    the manifest and every record must be signed by one of them. Without it the bundle's own
    keys.json is trusted, which proves only that the bundle agrees with itself. A later key is
    trusted only through the key transitions the bundle carries (transitions.jsonl), each signed
    by a key already trusted and by the key it names.

    `witness_keys` (by key id) require `witnesses` of them (default: all) to have cosigned a
    checkpoint the bundle's checkpoint is consistent with (witnesses.json).

    `workers` processes check the records (default: one per CPU for bundles over a few MB).
    """
    pinned = pinned_keys(pinned_key_pem)
    with _open(path) as archive:
        state = BundleState(archive, pinned)
        state.check_names()
        state.load_keys()
        transitions = load_transitions(state)
        periods = follow_bundle_chain(state, transitions)
        state.load_checkpoint()
        check_key_periods(state, periods)
        check_transition_proofs(state, transitions)
        manifest = state.load_manifest()
        check_records(state, _workers(archive, workers), periods)
        check_summaries(state)
        if old_checkpoint is not None:
            _check_consistency(state, old_checkpoint, consistency_proof)
            if (problem := periods.problem(old_checkpoint)) is not None:
                state.fail("old checkpoint", problem)
        witnessed: tuple[str, ...] = ()
        if witness_keys:
            required = len(witness_keys) if witnesses is None else witnesses
            witnessed = check_witnesses(state, witness_keys, required)
        state.check_manifest(manifest)
    return BundleReport(
        bundle=str(path),
        records=state.records,
        checkpoint=state.checkpoint,
        pinned_key_ids=tuple(pinned) if pinned is not None else (),
        consistency_from=old_checkpoint.size if old_checkpoint is not None else None,
        failures=tuple(state.failures),
        key_transitions=periods.followed,
        witnessed_by=witnessed,
    )
