"""Witness cosignatures: accept (configured keys, checkpoints this log issued), keep, serve.

A witness posts a C2SP `cosignature/v1` line for a checkpoint body. The service keeps it only
when its key is one of `GATEKEEPER_WITNESS_KEYS`, the body is exactly the note of a checkpoint
it signed, and the signature verifies; rows are append-only (migration 0006).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from gatekeeper.attest.keys import KeyFormatError, VerifyingKey
from gatekeeper.errors import ServiceError, VerificationError
from gatekeeper.ledger.checkpoint import parse_note
from gatekeeper.ledger.cosignature import Cosignature, parse_cosignature
from gatekeeper.service._clock import utc_now
from gatekeeper.service.problems import ApiError
from gatekeeper.service.tables import CheckpointRow, WitnessCosignatureRow

__all__ = [
    "StoredCosignature",
    "accept_cosignature",
    "bundle_witnesses",
    "cosignatures_at",
    "load_witness_keys",
    "newest_witnessed_size",
]

_log = logging.getLogger(__name__)
_FUTURE_SKEW_S = 300
_NAME_MAX = 200  # the column's width


@dataclass(frozen=True)
class StoredCosignature:
    """One kept cosignature, as the API shows it."""

    size: int
    witness_key_id: str
    name: str
    timestamp: int
    cosignature: str


def load_witness_keys(setting: str | None) -> dict[str, VerifyingKey]:
    """The witness keys of GATEKEEPER_WITNESS_KEYS (comma-separated PEM paths), by key id."""
    keys: dict[str, VerifyingKey] = {}
    for part in (setting or "").split(","):
        if not part.strip():
            continue
        path = Path(part.strip())
        try:
            key = VerifyingKey.from_public_pem(path.read_bytes())
        except OSError as error:
            raise ServiceError(
                f"GATEKEEPER_WITNESS_KEYS: cannot read {path}: {error.strerror or error}"
            ) from error
        except KeyFormatError as error:
            raise ServiceError(f"GATEKEEPER_WITNESS_KEYS: {path}: {error}") from error
        keys[key.key_id] = key
    return keys


def _witness(cosignature: Cosignature, witnesses: dict[str, VerifyingKey]) -> VerifyingKey:
    for key in witnesses.values():
        if cosignature.by(key):
            return key
    raise ApiError(
        403,
        f"the cosignature by {cosignature.name[:100]!r} is not by a witness key this service "
        "accepts (GATEKEEPER_WITNESS_KEYS)",
        "witness_unknown",
    )


def _issued(connection: Connection, note: str) -> int:
    """The size of the checkpoint whose note is exactly `note`; 422 when none was signed."""
    try:
        _origin, size, _root = parse_note(note)
    except VerificationError as error:
        raise ApiError(422, f"checkpoint: {error}", "checkpoint_unknown") from None
    stored = connection.execute(
        select(CheckpointRow.note).where(CheckpointRow.size == size)
    ).scalar()
    if stored != note:
        raise ApiError(
            422, f"this log never issued that checkpoint of size {size}", "checkpoint_unknown"
        )
    return size


def accept_cosignature(
    engine: Engine, witnesses: dict[str, VerifyingKey], note: str, line: str
) -> tuple[StoredCosignature, bool]:
    """Keep the cosignature `line` of the checkpoint body `note`; True when it is new."""
    try:
        cosignature = parse_cosignature(line)
    except VerificationError as error:
        raise ApiError(422, f"cosignature: {error}", "cosignature_invalid") from None
    if len(cosignature.name) > _NAME_MAX:
        raise ApiError(
            422, f"the cosigner name is longer than {_NAME_MAX} characters", "cosignature_invalid"
        )
    key = _witness(cosignature, witnesses)
    if cosignature.timestamp > time.time() + _FUTURE_SKEW_S:
        raise ApiError(422, "the cosignature's time is in the future", "cosignature_invalid")
    with engine.connect() as connection:
        size = _issued(connection, note)
    if not cosignature.verifies(note, key):
        raise ApiError(
            422, "the cosignature does not verify over that checkpoint", "cosignature_invalid"
        )
    stored = StoredCosignature(
        size, key.key_id, cosignature.name, cosignature.timestamp, cosignature.line()
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(WitnessCosignatureRow).values(**vars(stored), created_at=utc_now())
            )
    except IntegrityError:  # the same cosignature again
        return stored, False
    _log.info("witness %s cosigned the checkpoint of size %d", key.key_id, size)
    return stored, True


def cosignatures_at(connection: Connection, size: int) -> list[StoredCosignature]:
    """The kept cosignatures of the checkpoint of `size`, oldest first."""
    table = WitnessCosignatureRow.__table__
    rows = connection.execute(
        select(table)
        .where(table.c.size == size)
        .order_by(table.c.timestamp, table.c.witness_key_id)
    ).all()
    return [
        StoredCosignature(r.size, r.witness_key_id, r.name, r.timestamp, r.cosignature)
        for r in rows
    ]


def newest_witnessed_size(connection: Connection) -> int | None:
    """The size of the newest checkpoint a witness cosigned, or None."""
    table = WitnessCosignatureRow.__table__
    size = connection.execute(select(table.c.size).order_by(table.c.size.desc()).limit(1)).scalar()
    return None if size is None else int(size)


def bundle_witnesses(connection: Connection, size: int) -> dict[str, Any] | None:
    """The bundle's witnesses.json for its checkpoint of `size`: the newest cosignature line
    of each witness, or None when no witness cosigned that checkpoint."""
    newest: dict[str, str] = {}
    for stored in cosignatures_at(connection, size):
        newest[stored.witness_key_id] = stored.cosignature
    if not newest:
        return None
    return {"size": size, "cosignatures": sorted(newest.values())}
