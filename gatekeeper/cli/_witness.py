"""One witness round: fetch the checkpoint, check it, cosign it, remember it.

The state file (JSON, 0600, replaced atomically) keeps the log's origin, the size and root hash
of the last checkpoint this witness cosigned, and the service keys it pinned. A checkpoint that
is not signed by a pinned key, is of another log, is smaller than the last one, or does not
extend it (RFC 9162 consistency proof) is refused: exit 1, nothing cosigned, state unchanged.
The pinned keys move forward only through the log's own key transitions (`/v1/keys/transitions`),
each proven in the tree the checkpoint signs and signed by a key already pinned.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from gatekeeper.attest.keys import KeyFormatError, SigningKey, VerifyingKey
from gatekeeper.cli._private_file import write_private
from gatekeeper.errors import EvidenceNotStoredError, InputError, VerificationError
from gatekeeper.ledger import pinned_keys
from gatekeeper.ledger.checkpoint import (
    Checkpoint,
    checkpoint_from_note,
    parse_note,
    parse_signed_note,
    verify_checkpoint,
)
from gatekeeper.ledger.cosignature import cosign
from gatekeeper.ledger.key_chain import KeyPeriods, follow_chain, stated_transition
from gatekeeper.ledger.merkle_verify import verify_consistency
from gatekeeper.ledger.record_check import InclusionClaim, check_record

__all__ = ["HttpClient", "WitnessState", "read_key", "read_state", "witness_once", "write_state"]

STATE_FORMAT = "gatekeeper-witness-state/1"


class HttpClient(Protocol):
    """What a witness round needs of an HTTP client with the service's base URL (httpx.Client)."""

    def get(self, url: str, *, params: dict[str, int] | None = None) -> httpx.Response:
        """GET `url`."""
        ...

    def post(self, url: str, *, json: Any = None) -> httpx.Response:
        """POST `json` to `url`."""
        ...


@dataclass
class WitnessState:
    """What a witness remembers between rounds."""

    origin: str | None = None
    size: int = 0
    root_hash: str | None = None
    service_keys: list[str] = field(default_factory=list)
    """The pinned service keys, PEM."""

    def keys(self) -> dict[str, VerifyingKey]:
        """The pinned service keys by key id."""
        found = [VerifyingKey.from_public_pem(pem) for pem in self.service_keys]
        return {key.key_id: key for key in found}


def read_key(path: Path) -> SigningKey:
    """The witness's Ed25519 private key (PEM)."""
    try:
        return SigningKey.from_private_pem(path.read_bytes())
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror or error})") from error
    except KeyFormatError as error:
        raise InputError(path, f"is not an Ed25519 private key in PEM ({error})") from error


def read_state(path: Path) -> WitnessState:
    """The state file, or an empty state when it does not exist yet."""
    try:
        value = json.loads(path.read_bytes())
    except FileNotFoundError:
        return WitnessState()
    except (OSError, ValueError) as error:
        raise InputError(path, f"is not a witness state file ({error})") from error
    try:
        if value.pop("format") != STATE_FORMAT:
            raise ValueError("unknown format")
        state = WitnessState(**value)
        state.keys()
    except (AttributeError, KeyError, TypeError, ValueError, KeyFormatError) as error:
        raise InputError(path, f"is not a witness state file ({error})") from error
    return state


def write_state(path: Path, state: WitnessState) -> None:
    """Replace the state file atomically (a temporary file beside it, mode 0600)."""
    data = json.dumps({"format": STATE_FORMAT, **vars(state)}, indent=2).encode() + b"\n"
    write_private(path, data)


def _get(client: HttpClient, url: str, **params: int) -> httpx.Response:
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as error:
        raise EvidenceNotStoredError(f"cannot reach the service for {url}: {error}") from error
    if response.status_code != 200:
        raise EvidenceNotStoredError(
            f"the service answered {response.status_code} to {url}: {response.text[:200]}"
        )
    return response


def _first_pin(client: HttpClient) -> dict[str, VerifyingKey]:
    """First run without --service-key: the service's current key, as /v1/keys says."""
    try:
        entries = _get(client, "/v1/keys").json()["keys"]
        current = [e["public_key_pem"] for e in entries if e.get("retired_at") is None]
        return pinned_keys("\n".join(current).encode()) or {}
    except (ValueError, KeyError, TypeError, InputError) as error:
        raise VerificationError(f"the service's /v1/keys cannot be read: {error}") from error


def _check_growth(client: HttpClient, state: WitnessState, checkpoint: Checkpoint) -> None:
    if state.origin is not None and checkpoint.origin() != state.origin:
        raise VerificationError(
            f"the checkpoint is of log {checkpoint.origin()!r}, not {state.origin!r} this "
            "witness follows; not cosigned"
        )
    if checkpoint.size < state.size:
        raise VerificationError(
            f"the log shows size {checkpoint.size}, smaller than size {state.size} this witness "
            "cosigned: the log was rolled back or rebuilt; not cosigned"
        )
    if state.size == 0 or state.root_hash is None:
        return
    old_root = bytes.fromhex(state.root_hash)
    proof: list[bytes] = []
    if checkpoint.size > state.size:
        url = "/v1/log/proof/consistency"
        try:
            hashes = _get(client, url, old=state.size, new=checkpoint.size).json()["hashes"]
            proof = [bytes.fromhex(h) for h in hashes]
        except (ValueError, KeyError, TypeError) as error:
            raise VerificationError(f"the consistency proof cannot be read: {error}") from error
    try:
        verify_consistency(state.size, checkpoint.size, old_root, checkpoint.root(), proof)
    except VerificationError as error:
        raise VerificationError(
            f"the log at size {checkpoint.size} is not an extension of the log at size "
            f"{state.size} this witness cosigned ({error}): it was rewritten; not cosigned"
        ) from error


def _transition_entries(client: HttpClient, size: int) -> list[dict[str, Any]]:
    try:
        entries = _get(client, "/v1/keys/transitions", size=size).json()["transitions"]
        if not isinstance(entries, list):
            raise TypeError("transitions is not a list")
        return entries
    except (ValueError, KeyError, TypeError) as error:
        raise VerificationError(f"the service's key transitions cannot be read: {error}") from error


def _check_in_log(entry: Any, size: int, root: bytes) -> tuple[int, Any]:
    """The log index and envelope of a served transition, once its leaf and proof lead to
    `root`."""
    try:
        record, proof = entry["record"], entry["proof"]
        index = record["log_index"]
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        if proof["index"] != index or proof["size"] != size:
            raise ValueError(f"its proof is not for log index {index} in a tree of size {size}")
        checked = check_record(
            record["envelope"],
            leaf_hash=record["leaf_hash"],
            log_index=index,
            keys=None,
            inclusion=InclusionClaim(size, root, hashes),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationError(
            f"a key transition the service serves is unreadable ({error})"
        ) from error
    if not checked.ok:
        raise VerificationError(
            f"the key transition at log index {index} is not in the log the checkpoint signs "
            f"({'; '.join(checked.sentences())}); not cosigned"
        )
    return index, record["envelope"]


def follow_transitions(
    client: HttpClient, note: str, pinned: dict[str, VerifyingKey]
) -> tuple[dict[str, VerifyingKey], KeyPeriods, list[str]]:
    """The pinned keys moved forward through the key transitions the service serves up to the
    checkpoint in `note` (each in the log that checkpoint signs, each signed by a key already
    reached), where the log retired each key, and a line per key it moved to;
    VerificationError for a transition that does not follow. The checkpoint's own signature
    is checked afterwards with the keys reached."""
    body, _signatures = parse_signed_note(note)
    _origin, size, root = parse_note(body)
    entries = [_check_in_log(entry, size, root) for entry in _transition_entries(client, size)]
    periods = KeyPeriods({}, {}, 0)
    start = 0  # the history up to the newest transition to a key already pinned is not followed
    for position, (index, envelope) in enumerate(entries, start=1):
        stated = stated_transition(envelope)
        if stated is None:
            continue
        periods.retired[stated.previous_key_id] = index  # unchecked: it only limits a key
        periods.started[stated.key_id] = index
        if stated.key_id in pinned:
            start = position
    chain = follow_chain(pinned, [envelope for _index, envelope in entries[start:]])
    for position, sentence in chain.refused:
        raise VerificationError(
            f"the service's key transition {start + position} does not follow from the pinned "
            f"keys ({sentence}): someone else's key is signing this log; not cosigned"
        )
    moved = [
        f"followed the log's key transition from {t.previous_key_id[:16]}... to "
        f"{t.key_id[:16]}...; pinned it"
        for t in chain.transitions
        if t.key_id not in pinned
    ]
    return dict(chain.keys), periods, moved


def witness_once(
    client: HttpClient,
    key: SigningKey,
    name: str,
    state_path: Path,
    service_keys: dict[str, VerifyingKey] | None = None,
) -> list[str]:
    """One round; returns the lines to print. VerificationError (exit 1) on any inconsistency,
    before anything is cosigned or the state changes."""
    state = read_state(state_path)
    pinned = {**state.keys(), **(service_keys or {})}
    said: list[str] = []
    if not pinned:
        pinned = _first_pin(client)
        ids = ", ".join(pinned)
        said.append(
            f"first run: pinned the service's current key {ids} in {state_path}; compare it "
            "with the key the operator published (pass --service-key to pin it yourself)"
        )
    note = _get(client, "/v1/log/checkpoint/note").text
    pinned, periods, moved = follow_transitions(client, note, pinned)
    said.extend(moved)
    try:
        checkpoint = checkpoint_from_note(note, pinned.values())
        verify_checkpoint(checkpoint, pinned[checkpoint.key_id])
    except VerificationError as error:
        raise VerificationError(
            f"the service's checkpoint does not verify with the pinned service key or a key "
            f"the log's transitions lead to from it ({error}); if the operator published a "
            "new key, pin the new key with --service-key; not cosigned"
        ) from error
    if (problem := periods.problem(checkpoint)) is not None:
        raise VerificationError(f"the service's checkpoint is {problem}; not cosigned")
    _check_growth(client, state, checkpoint)
    line = cosign(checkpoint.note, name, key, int(time.time())).line()
    body: dict[str, Any] = {"checkpoint": checkpoint.note, "cosignature": line}
    try:
        response = client.post("/v1/log/witness", json=body)
    except httpx.HTTPError as error:
        raise EvidenceNotStoredError(f"cannot reach the service to cosign: {error}") from error
    if response.status_code not in (200, 201):
        raise VerificationError(
            f"the service refused the cosignature ({response.status_code}): {response.text[:300]}"
        )
    state.origin, state.size, state.root_hash = (
        checkpoint.origin(),
        checkpoint.size,
        checkpoint.root_hash,
    )
    state.service_keys = sorted({key.public_pem() for key in pinned.values()})
    write_state(state_path, state)
    said.append(
        f"cosigned {checkpoint.origin()} at size {checkpoint.size} (root "
        f"{checkpoint.root_hash[:16]}...) as {name}"
    )
    return said
