"""Signing keys: public halves in the `signing_keys` table, private halves in PEM files.

The private key of a key id lives at `<data_dir>/keys/<key_id>.pem` (mode 0600), or in the file
`GATEKEEPER_SIGNING_KEY_FILE` names, which then becomes the current key. The embedded default
creates a key on first use; `gatekeeper keys rotate` starts a new one, logs a key-transition
record signed by the old and the new key, and retires the old, which stays published for
verification.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import ServiceError
from gatekeeper.ledger.key_chain import sign_transition, transition_statement
from gatekeeper.service._clock import utc_now
from gatekeeper.service.database import WRITER, is_sqlite
from gatekeeper.service.store import EvidenceStore
from gatekeeper.service.tables import SigningKeyRow

_log = logging.getLogger(__name__)

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


def _refuse_retired(connection: Connection, key: SigningKey, current: SigningKeyRow | None) -> None:
    """A key file holding a retired key would retire the newer one: refuse to start."""
    row = connection.execute(
        select(SigningKeyRow.retired_at).where(SigningKeyRow.key_id == key.key_id)
    ).first()
    if row is not None and row.retired_at is not None:
        newer = f"; {current.key_id} is current" if current is not None else ""
        raise ServiceError(
            f"GATEKEEPER_SIGNING_KEY_FILE holds key {key.key_id}, retired at {row.retired_at}"
            f"{newer}: mount the current key's file instead (a retired key never comes back)"
        )


def load_signing_key(
    engine: Engine,
    data_dir: Path,
    key_file: Path | None = None,
    *,
    create: bool = True,
    first: SigningKey | None = None,
) -> SigningKey:
    """The current signing key, created (embedded default) or registered (key file) as needed.

    A key file makes its key the first one of an empty database; one holding a retired key, or
    a key the database does not know while another is current, is refused: no instance retires
    a newer key or starts a new one without a logged transition.
    """
    if key_file is not None:
        key = _read_private(key_file)
        with engine.connect() as connection, connection.execution_options(**WRITER).begin():
            _lock(connection)
            current = _current_row(connection)
            if current is None or current.key_id != key.key_id:
                _refuse_retired(connection, key, current)
                if current is not None:
                    raise ServiceError(
                        f"GATEKEEPER_SIGNING_KEY_FILE holds key {key.key_id}, which the log does "
                        f"not know, and {current.key_id} is current: a new key comes only through "
                        "a logged transition (`gatekeeper keys rotate --new-key FILE`)"
                    )
                _register(connection, key)
        return key
    with engine.connect() as connection, connection.execution_options(**WRITER).begin():
        _lock(connection)
        current = _current_row(connection)
        if current is not None:
            return _read_private(key_path(data_dir, current.key_id))
        if not create:
            raise ServiceError("the database has no signing key; run `gatekeeper keys rotate`")
        key = first or SigningKey.generate()
        if first is None:
            _write_private(key_path(data_dir, key.key_id), key)
        _register(connection, key)
        return key


def rotate(
    engine: Engine,
    data_dir: Path,
    origin: str,
    *,
    key_file: Path | None = None,
    new_key: SigningKey | None = None,
) -> SigningKey:
    """Starts a new signing key and logs the change: a key-transition record signed by the
    current key and the new one is appended to the log, and the new key becomes current in the
    same transaction (the old one stays published with `retired_at` set). A database without a
    key gets its first key. ServiceError when the current key's private half is unreadable or
    another rotation came first."""
    with engine.connect() as connection:
        current = _current_row(connection)
    if current is None:
        if new_key is not None:
            _write_private(key_path(data_dir, new_key.key_id), new_key)
        key = load_signing_key(engine, data_dir, key_file, first=new_key)
        _log.info("key created: %s is the first signing key", key.key_id)
        return key
    old = _private_of(current.key_id, data_dir, key_file)
    key = new_key or SigningKey.generate()
    with engine.connect() as connection:
        _refuse_retired(connection, key, current)
    if key.key_id == old.key_id:
        raise ServiceError(f"key {key.key_id} is already the current signing key")
    path = key_path(data_dir, key.key_id)
    if not path.exists():
        _write_private(path, key)
    at = utc_now()
    payload = transition_statement(origin, old.public, key.public, at)
    envelope = sign_transition(payload, old, key).to_json_dict()
    result = EvidenceStore(engine, old, origin).append_transition(payload, envelope, key.public)
    _log.info(
        "key rotated: %s is the current signing key; transition from %s logged at index %d",
        key.key_id,
        old.key_id,
        result.record.log_index,
    )
    return key


def _private_of(key_id: str, data_dir: Path, key_file: Path | None) -> SigningKey:
    """The private half of `key_id`: the key file when it holds it, else the data directory."""
    if key_file is not None:
        candidate = _read_private(key_file)
        if candidate.key_id == key_id:
            return candidate
    return _read_private(key_path(data_dir, key_id))


def published_keys(connection: Connection) -> list[PublicKeyInfo]:
    """Every key the service signed with, oldest first."""
    rows = connection.execute(
        select(SigningKeyRow.__table__).order_by(SigningKeyRow.created_at, SigningKeyRow.key_id)
    ).all()
    return [PublicKeyInfo(**row._mapping) for row in rows]


class CurrentKey:
    """The current signing key as the database says now: one small query per call, so a
    `keys rotate` by any instance (any process, any host on one PostgreSQL) is signed with from
    every instance's next append, without a restart. Private keys are cached by key id and read
    from the key file (when it holds that key) or `<data_dir>/keys/<key_id>.pem`; a current key
    whose private half this instance cannot read is a ServiceError (and /readyz fails)."""

    def __init__(
        self, engine: Engine, data_dir: Path, key_file: Path | None, first: SigningKey
    ) -> None:
        self._engine = engine
        self._data_dir = data_dir
        self._key_file = key_file
        self._keys = {first.key_id: first}
        self.on_event: Callable[[str], None] = lambda _event: None
        """Told `adopted` when this instance starts signing with a newer key, `unusable` when
        it cannot read the current key's private half (the service counts them in metrics)."""

    def __call__(self) -> SigningKey:
        with self._engine.connect() as connection:
            current = _current_row(connection)
        if current is None:
            raise ServiceError(
                "the database has no current signing key; run `gatekeeper keys rotate`"
            )
        key = self._keys.get(current.key_id)
        if key is None:
            try:
                key = self._private(current.key_id)
            except ServiceError:
                self.on_event("unusable")
                raise
            _log.info("key adopted: signing with %s from this append on", current.key_id)
            self.on_event("adopted")
            self._keys[current.key_id] = key
        return key

    def _private(self, key_id: str) -> SigningKey:
        return _private_of(key_id, self._data_dir, self._key_file)
