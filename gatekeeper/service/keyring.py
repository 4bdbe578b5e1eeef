"""Signing keys: public halves in the `signing_keys` table, private halves in PEM files.

The private key of a key id lives at `<data_dir>/keys/<key_id>.pem` (mode 0600), or in the file
`GATEKEEPER_SIGNING_KEY_FILE` names, which then becomes the current key. The embedded default
creates a key on first use; `gatekeeper keys rotate` starts a new one and retires the old, which
stays published for verification.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import ServiceError
from gatekeeper.service._clock import utc_now
from gatekeeper.service.database import WRITER, is_sqlite
from gatekeeper.service.tables import SigningKeyRow

KEY_LOCK = 0x67746B79  # "gtky": serialises key creation across processes on PostgreSQL


@dataclass(frozen=True)
class PublicKeyInfo:
    """One published key as the API shows it."""

    key_id: str
    algorithm: str
    public_key_pem: str
    created_at: str
    retired_at: str | None


def key_path(data_dir: Path, key_id: str) -> Path:
    """Where the private key of `key_id` is kept in the data directory."""
    return data_dir / "keys" / f"{key_id}.pem"


def _write_private(path: Path, key: SigningKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_pem())


def _read_private(path: Path) -> SigningKey:
    try:
        return SigningKey.from_private_pem(path.read_bytes())
    except OSError as error:
        raise ServiceError(
            f"cannot read the signing key {path}: {error.strerror}; set "
            "GATEKEEPER_SIGNING_KEY_FILE to the current key or run `gatekeeper keys rotate`"
        ) from error
    except ValueError as error:
        raise ServiceError(f"{path} is not an Ed25519 private key in PEM: {error}") from error


def _lock(connection: Connection) -> None:
    if not is_sqlite(connection.engine):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({KEY_LOCK})")


def _current_row(connection: Connection) -> SigningKeyRow | None:
    row = connection.execute(
        select(SigningKeyRow.__table__).where(SigningKeyRow.retired_at.is_(None))
    ).first()
    if row is None:
        return None
    return SigningKeyRow(**row._mapping)


def _register(connection: Connection, key: SigningKey) -> None:
    """Inserts `key` as the current key, retiring every other."""
    now = utc_now()
    connection.execute(
        update(SigningKeyRow)
        .where(SigningKeyRow.retired_at.is_(None), SigningKeyRow.key_id != key.key_id)
        .values(retired_at=now)
    )
    known = connection.execute(
        select(SigningKeyRow.key_id).where(SigningKeyRow.key_id == key.key_id)
    ).first()
    if known is None:
        connection.execute(
            insert(SigningKeyRow).values(
                key_id=key.key_id,
                algorithm="ed25519",
                public_key_pem=_public_pem(key),
                created_at=now,
                retired_at=None,
            )
        )


def _public_pem(key: SigningKey) -> str:
    return key.public.public_pem()


def load_signing_key(
    engine: Engine, data_dir: Path, key_file: Path | None = None, *, create: bool = True
) -> SigningKey:
    """The current signing key, created (embedded default) or registered (key file) as needed."""
    if key_file is not None:
        key = _read_private(key_file)
        with engine.connect() as connection, connection.execution_options(**WRITER).begin():
            _lock(connection)
            current = _current_row(connection)
            if current is None or current.key_id != key.key_id:
                _register(connection, key)
        return key
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        _lock(connection)
        current = _current_row(connection)
        if current is not None:
            return _read_private(key_path(data_dir, current.key_id))
        if not create:
            raise ServiceError("the database has no signing key; run `gatekeeper keys rotate`")
        key = SigningKey.generate()
        _write_private(key_path(data_dir, key.key_id), key)
        _register(connection, key)
        return key


def rotate(engine: Engine, data_dir: Path) -> SigningKey:
    """Starts a new signing key; the old ones stay published with `retired_at` set."""
    key = SigningKey.generate()
    _write_private(key_path(data_dir, key.key_id), key)
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        _lock(connection)
        _register(connection, key)
    return key


def published_keys(connection: Connection) -> list[PublicKeyInfo]:
    """Every key the service signed with, oldest first."""
    rows = connection.execute(
        select(SigningKeyRow.__table__).order_by(SigningKeyRow.created_at, SigningKeyRow.key_id)
    ).all()
    return [PublicKeyInfo(**row._mapping) for row in rows]
