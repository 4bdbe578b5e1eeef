"""`verify --recompute`: evaluate every bundled record's carried policy again, offline.

Each record's statement is read from its envelope, its predicate through the typed model; a
record that carries its policy document is evaluated again over its facts at its evaluation time
with the same engine, and named when its digest, a rule's outcome or its verdict does not follow.
A record without a document (or of another predicate type) is named "not recomputable", which
alone is not a failure. The signatures and proofs are `verify_bundle`'s part, checked before.
"""

from __future__ import annotations

import base64
import binascii
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.attest.predicate import PredicateError, read_predicate
from gatekeeper.errors import InputError, PolicyError
from gatekeeper.ledger.bundle import RECORDS_MEMBER
from gatekeeper.policy.recompute import first_difference, load_document

__all__ = ["Recomputed", "recompute_bundle"]

MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Recomputed:
    """What re-evaluating one record found: it follows, it differs (why), or it cannot be."""

    log_index: int | str
    record_id: str
    status: Literal["follows", "differs", "not recomputable"]
    reason: str | None = None

    def describe(self) -> str:
        """One line naming the record and what was found."""
        said = f": {self.reason}" if self.reason else ""
        return f"record {self.record_id} (log index {self.log_index}) {self.status}{said}"


def _statement(record: Any) -> Any:
    envelope = record.get("envelope") if isinstance(record, dict) else None
    payload = envelope.get("payload") if isinstance(envelope, dict) else None
    if not isinstance(payload, str):
        raise ValueError("the record has no envelope payload")
    return strict_json_loads(base64.b64decode(payload, validate=True))


def _judge(record: Any) -> tuple[Literal["follows", "differs", "not recomputable"], str | None]:
    try:
        statement = _statement(record)
        predicate = read_predicate(str(statement.get("predicateType")), statement.get("predicate"))
    except (ValueError, binascii.Error, CanonicalJSONError, AttributeError) as error:
        return "not recomputable", f"the statement cannot be read ({error})"
    except PredicateError as error:
        return "not recomputable", str(error)
    if not predicate.recomputable or predicate.evaluated_at is None:
        return "not recomputable", "it carries no policy document"
    if not predicate.policy.digest_follows:
        return "differs", "its policy digest is not the digest of its policy document"
    try:
        loaded = load_document(predicate.policy.document, predicate.policy.digest)
        difference = first_difference(
            loaded,
            predicate.facts,
            predicate.evaluated_at,
            predicate.verdict,
            predicate.rule_outcomes(),
        )
    except PolicyError as error:
        return "differs", f"its policy cannot be evaluated: {error}"
    return ("differs", difference) if difference is not None else ("follows", None)


def recompute_bundle(bundle: Path) -> list[Recomputed]:
    """Every record of the bundle, re-evaluated (InputError when the records cannot be read)."""
    found: list[Recomputed] = []
    try:
        with zipfile.ZipFile(bundle) as archive, archive.open(RECORDS_MEMBER) as handle:
            number = 0
            while line := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    raise InputError(bundle, f"{RECORDS_MEMBER} line {number} is too long")
                try:
                    record = strict_json_loads(line.rstrip(b"\n"))
                except CanonicalJSONError as error:
                    raise InputError(
                        bundle, f"{RECORDS_MEMBER} line {number}: not JSON ({error})"
                    ) from None
                status, reason = _judge(record)
                index = record.get("log_index") if isinstance(record, dict) else None
                ident = record.get("id") if isinstance(record, dict) else None
                found.append(
                    Recomputed(
                        index if isinstance(index, int) else f"line {number}",
                        str(ident)[:80] if ident is not None else "?",
                        status,
                        reason,
                    )
                )
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise InputError(bundle, f"cannot read {RECORDS_MEMBER} ({error})") from None
    return found
