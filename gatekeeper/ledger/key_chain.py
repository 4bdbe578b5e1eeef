"""Key transitions: the log's own record that its signing key changed, and the chain through them.

A transition is an in-toto Statement of predicate type `TRANSITION_PREDICATE_TYPE` in a DSSE
envelope signed by the old key (it vouches for the new one) and by the new key (it holds its
private half). The service appends it to the log like any record. An auditor who pinned the
first key follows the transitions in log order (`follow_chain`) and trusts a later key only when
a transition signed by a key already trusted names it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gatekeeper.attest.canonical import CanonicalJSONError, canonical_json, strict_json_loads
from gatekeeper.attest.dsse import (
    PAYLOAD_TYPE,
    Envelope,
    Signature,
    b64decode_strict,
    envelope_json_parts,
    pae,
    verify_envelope_json,
)
from gatekeeper.attest.keys import KeyFormatError, SigningKey, VerifyingKey
from gatekeeper.attest.statement import STATEMENT_TYPE
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.checkpoint import Checkpoint

__all__ = [
    "TRANSITION_PREDICATE_TYPE",
    "KeyChain",
    "KeyPeriods",
    "KeyTransition",
    "follow_chain",
    "is_transition",
    "sign_transition",
    "stated_transition",
    "transition_statement",
    "verify_transition",
]

TRANSITION_PREDICATE_TYPE = (
    "https://github.com/gatekeeper-evidence/gatekeeper/predicates/key-transition/v1"
)


class KeyTransition(BaseModel):
    """What a transition states: from `previous_key_id` on, the log signs with `key_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    origin: str
    previous_key_id: str
    key_id: str
    public_key_pem: str
    at: str


def transition_statement(origin: str, old: VerifyingKey, new: VerifyingKey, at: str) -> bytes:
    """The canonical statement bytes of the transition from `old` to `new` at time `at`."""
    predicate = KeyTransition(
        origin=origin,
        previous_key_id=old.key_id,
        key_id=new.key_id,
        public_key_pem=new.public_pem(),
        at=at,
    )
    return canonical_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": f"{origin}/signing-key", "digest": {"sha256": new.key_id}}],
            "predicateType": TRANSITION_PREDICATE_TYPE,
            "predicate": predicate.model_dump(),
        }
    )


def sign_transition(payload: bytes, old: SigningKey, new: SigningKey) -> Envelope:
    """The envelope of a transition statement, signed by the old key first, then the new."""
    message = pae(PAYLOAD_TYPE, payload)
    return Envelope(
        payloadType=PAYLOAD_TYPE,
        payload=base64.b64encode(payload).decode("ascii"),
        signatures=tuple(
            Signature(keyid=key.key_id, sig=base64.b64encode(key.sign(message)).decode("ascii"))
            for key in (old, new)
        ),
    )


def _statement(envelope: Any) -> Any:
    _kind, payload, _signatures = envelope_json_parts(envelope)
    try:
        return strict_json_loads(b64decode_strict(payload, "the envelope payload"))
    except CanonicalJSONError as error:
        raise VerificationError(f"the key transition is not JSON: {error}") from error


def is_transition(envelope: Any) -> bool:
    """True when a record's envelope (parsed JSON) claims to be a key transition; its
    signatures are not checked (`verify_transition` does that)."""
    try:
        statement = _statement(envelope)
    except VerificationError:
        return False
    return isinstance(statement, dict) and (
        statement.get("predicateType") == TRANSITION_PREDICATE_TYPE
    )


def stated_transition(envelope: Any) -> KeyTransition | None:
    """What a transition envelope states, its signatures unchecked (a follower skips history to
    a key it already pins, and takes its retirements as limits); None when it states none."""
    try:
        return _read(_statement(envelope))
    except VerificationError:
        return None


def _read(statement: Any) -> KeyTransition:
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise VerificationError("the key transition is not an in-toto Statement v1")
    if statement.get("predicateType") != TRANSITION_PREDICATE_TYPE:
        raise VerificationError("the statement is not a key transition")
    try:
        transition = KeyTransition.model_validate(statement.get("predicate"))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "predicate"
        raise VerificationError(
            f"the key transition is malformed: {where}: {first['msg']}"
        ) from None
    name = f"{transition.origin}/signing-key"
    subject = [{"name": name, "digest": {"sha256": transition.key_id}}]
    if statement.get("subject") != subject:
        raise VerificationError("the key transition's subject does not name its new key")
    return transition


def verify_transition(envelope: Any, trusted: Mapping[str, VerifyingKey]) -> KeyTransition:
    """The transition a record's envelope (parsed JSON) states, once checked: the key it
    retires is in `trusted` and signed it, and the new key it names signed it too.

    VerificationError says, in one sentence, what does not hold.
    """
    transition = _read(_statement(envelope))
    old = trusted.get(transition.previous_key_id)
    if old is None:
        raise VerificationError(
            f"the key transition to {transition.key_id[:16]}... is from key "
            f"{transition.previous_key_id[:16]}..., which no pinned key or earlier transition "
            "reaches"
        )
    try:
        new = VerifyingKey.from_public_pem(transition.public_key_pem)
    except KeyFormatError as error:
        raise VerificationError(f"the key transition's new key is unusable: {error}") from error
    if new.key_id != transition.key_id:
        raise VerificationError("the key transition's key_id is not the SHA-256 of its key")
    for role, key in (("old", old), ("new", new)):
        try:
            verify_envelope_json(envelope, {key.key_id: key})
        except VerificationError as error:
            raise VerificationError(
                f"the key transition to {new.key_id[:16]}... is not signed by its {role} key "
                f"({error})"
            ) from error
    return transition


@dataclass(frozen=True)
class KeyChain:
    """The keys reached from the pinned ones, the transitions followed, and each refused
    transition as (its position among the envelopes, from 1; the sentence)."""

    keys: dict[str, VerifyingKey]
    transitions: tuple[KeyTransition, ...]
    refused: tuple[tuple[int, str], ...]


def follow_chain(pinned: Mapping[str, VerifyingKey], envelopes: Iterable[Any]) -> KeyChain:
    """Follow transition envelopes in log order from the `pinned` keys: each one that
    `verify_transition` accepts against the keys reached so far adds its new key."""
    keys = dict(pinned)
    followed: list[KeyTransition] = []
    refused: list[tuple[int, str]] = []
    for position, envelope in enumerate(envelopes, start=1):
        try:
            transition = verify_transition(envelope, keys)
        except VerificationError as error:
            refused.append((position, str(error)))
            continue
        keys[transition.key_id] = VerifyingKey.from_public_pem(transition.public_key_pem)
        followed.append(transition)
    return KeyChain(keys, tuple(followed), tuple(refused))


@dataclass(frozen=True)
class KeyPeriods:
    """Where in the log each followed transition put a key in and took one out (log index of
    the transition record), and how many transitions were followed."""

    started: dict[str, int]
    retired: dict[str, int]
    followed: int

    def record_problem(self, key_id: str, log_index: int) -> str | None:
        """Why a record at `log_index` cannot carry a signature by `key_id`, or None: the
        transition at index j is the retired key's last record."""
        retired = self.retired.get(key_id)
        if retired is None or log_index <= retired:
            return None
        return (
            f"signed by key {key_id[:16]}..., which the log retired at index {retired}: a "
            f"record at log index {log_index} is its successor's to sign"
        )

    def problem(self, checkpoint: Checkpoint) -> str | None:
        """Why `checkpoint` cannot be signed by its key at its size, or None.

        The transition at index j is the last leaf the old key signs a checkpoint for (size
        j + 1); the new key signs from size j + 2 on."""
        key, size = checkpoint.key_id, checkpoint.size
        if key in self.retired and size > self.retired[key] + 1:
            return (
                f"signed by key {key[:16]}..., which the log retired at index "
                f"{self.retired[key]}: a checkpoint of size {size} is its successor's to sign"
            )
        if key in self.started and size <= self.started[key] + 1:
            return (
                f"signed by key {key[:16]}... at size {size}, before the transition to it at "
                f"index {self.started[key]} took effect"
            )
        return None
