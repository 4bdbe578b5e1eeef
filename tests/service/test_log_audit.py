"""`gatekeeper log audit`: every stored row recomputed, every row that does not match named."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url, text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.keys import SigningKey
from gatekeeper.cli.app import main
from gatekeeper.config import Settings
from gatekeeper.ledger.checkpoint import sign_checkpoint
from gatekeeper.service.app import open_context
from gatekeeper.service.database import make_engine
from gatekeeper.service.keyring import rotate
from gatekeeper.service.log_audit import AuditedCheckpoint, AuditedRecord, AuditFinding, audit_log
from gatekeeper.service.store import StatementMeta
from tests.service.attacker import drop_triggers
from tests.service.live import PostgresDatabases, statement


@dataclass(frozen=True)
class _Result:
    code: int
    out: str
    err: str


@pytest.fixture
def log_audit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], _Result]:
    """Runs `gatekeeper log audit --database URL` in-process."""

    def run(url: str) -> _Result:
        monkeypatch.setattr(sys, "argv", ["gatekeeper", "log", "audit", "--database", url])
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        return _Result(int(caught.value.code or 0), captured.out, captured.err)

    return run


def _fill(settings: Settings, count: int) -> list[tuple[str, int]]:
    """`count` records appended through the store; their (id, log index)."""
    context = open_context(settings)
    try:
        return [
            (result.record.id, result.record.log_index)
            for result in (
                context.store.append("acme/widget", canonical_json(statement(n)), StatementMeta())
                for n in range(count)
            )
        ]
    finally:
        context.engine.dispose()


def _copy(settings: Settings, backend: str, tmp_path: Path, postgres: object) -> str:
    """A copy of the store's database (the audit's target), as a URL."""
    if backend == "sqlite":
        copy = tmp_path / "copy.db"
        shutil.copyfile(settings.data_dir / "gatekeeper.db", copy)
        return f"sqlite:///{copy}"
    assert isinstance(postgres, PostgresDatabases)
    assert settings.database_url is not None
    return postgres.copy(settings.database_url)


def _flip_byte(envelope: bytes) -> bytes:
    """The envelope with one bit of one byte in its payload changed."""
    changed = bytearray(envelope)
    changed[40] ^= 0x01
    return bytes(changed)


def _tamper(url: str, changed: str, statements: list[str]) -> None:
    """Drops the append-only triggers, changes one byte of the envelope of record `changed`,
    then runs `statements` with foreign keys off."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "")
        names = connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in names.fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
        (envelope,) = connection.execute(
            "SELECT envelope FROM records WHERE id = ?", (changed,)
        ).fetchone()
        connection.execute(
            "UPDATE records SET envelope = ? WHERE id = ?", (_flip_byte(envelope), changed)
        )
        for sql in statements:
            connection.execute(sql)
        connection.commit()
        connection.close()
        return
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as pg:
        triggers = pg.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal"
        ).fetchall()
        for name, table in triggers:
            pg.execute(f'DROP TRIGGER "{name}" ON "{table}"')
        row = pg.execute("SELECT envelope FROM records WHERE id = %s", (changed,)).fetchone()
        assert row is not None
        flipped = _flip_byte(bytes(row[0]))
        pg.execute("UPDATE records SET envelope = %s WHERE id = %s", (flipped, changed))
        pg.execute("SET session_replication_role = replica")  # foreign keys off
        for sql in statements:
            pg.execute(sql)


def test_an_untouched_log_passes(
    settings: Settings, log_audit: Callable[[str], _Result], backend: str
) -> None:
    """A log written by the store passes: exit 0, a summary line counting every row."""
    _fill(settings, 11)
    url = settings.database_url_or_default()
    result = log_audit(url)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "OK log audit: 11 leaves, 11 records, 19 tree nodes, 11 checkpoints: every row matches"
    ]
    assert result.err.startswith("database: ")


def test_a_changed_byte_and_removed_records_are_named(
    settings: Settings,
    log_audit: Callable[[str], _Result],
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """On a copy with the triggers dropped: one byte of one envelope changed, one record row
    deleted, one record deleted with its leaf; each is named on its own line, exit 1."""
    records = _fill(settings, 12)
    postgres = request.getfixturevalue("postgres") if backend == "postgres" else None
    url = _copy(settings, backend, tmp_path, postgres)
    (changed, changed_at), (removed, removed_at), (gone, gone_at) = (
        records[3],
        records[6],
        records[9],
    )
    _tamper(
        url,
        changed,
        [
            f"DELETE FROM record_facets WHERE record_id IN ('{removed}', '{gone}')",
            f"DELETE FROM records WHERE id IN ('{removed}', '{gone}')",
            f"DELETE FROM log_leaves WHERE record_id = '{gone}'",
        ],
    )
    result = log_audit(url)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"MISMATCH record {changed} (log index {changed_at}): the stored envelope does not hash "
        "to its leaf hash (changed after it was stored)",
        f"MISMATCH record {removed} (log index {removed_at}): the leaf names this record, which "
        "is not stored at this index (removed or moved)",
        f"MISMATCH log index {gone_at}: no leaf in log_leaves: the record at this index was "
        "removed",
    ]
    assert result.err.splitlines()[-1] == (
        "error: log audit: 12 leaves, 10 records, 22 tree nodes, 12 checkpoints: "
        "3 row(s) do not match"
    )


class _Collected:
    """A plug-in that records what the audit hands it, and finds one thing at the end."""

    def __init__(self) -> None:
        self.records: list[int] = []
        self.sizes: list[int] = []

    def record(self, record: AuditedRecord) -> list[AuditFinding]:
        self.records.append(record.log_index)
        return []

    def checkpoint(self, checkpoint: AuditedCheckpoint) -> list[AuditFinding]:
        self.sizes.append(checkpoint.checkpoint.size)
        return []

    def finish(self) -> list[AuditFinding]:
        return [AuditFinding("records", "the plug-in's own finding")]


def _audit(url: str, **options: Any) -> list[str]:
    engine = make_engine(url)
    found: list[AuditFinding] = []
    try:
        audit_log(engine, found.append, **options)
    finally:
        engine.dispose()
    return [finding.describe() for finding in found]


def test_tree_nodes_checkpoints_and_keys_are_each_checked(
    settings: Settings, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A rewritten subtree hash, a checkpoint with another root, one re-signed by a foreign key,
    a node beyond the log, a record without a leaf and an unusable key row are each named; a
    run of checkpoints failing alike is one line."""
    records = _fill(settings, 9)
    postgres = request.getfixturevalue("postgres") if backend == "postgres" else None
    url = _copy(settings, backend, tmp_path, postgres)
    zero = "00" * 32
    hex_value = f"x'{zero}'" if backend == "sqlite" else f"'\\x{zero}'::bytea"
    foreign = SigningKey.from_seed(b"\x05" * 32)
    cp = sign_checkpoint(settings.log_origin, 2, bytes(32), foreign)
    _tamper(
        url,
        records[0][0],
        [
            f"UPDATE tree_nodes SET hash = {hex_value} WHERE level = 1 AND node_index = 1",
            f"UPDATE checkpoints SET root_hash = '{zero}' WHERE size IN (5, 6)",
            f"UPDATE checkpoints SET key_id = '{foreign.key_id}', note = '{cp.note}',"
            f" signature = '{cp.signature}' WHERE size = 8",
            f"INSERT INTO tree_nodes (level, node_index, hash) VALUES (0, 40, {hex_value})",
            f"UPDATE records SET log_index = -1 WHERE id = '{records[7][0]}'",
            "INSERT INTO records (id, project, log_index, leaf_hash, integrated_at,"
            " statement_sha256, envelope, key_id) SELECT 'orphan', project, -2, leaf_hash,"
            " integrated_at, 'x', envelope, key_id FROM records WHERE log_index = 1",
            "INSERT INTO signing_keys (key_id, algorithm, public_key_pem, created_at)"
            " VALUES ('feed', 'ed25519', 'not a key', '2026-01-01T00:00:00Z')",
        ],
    )
    collected = _Collected()
    lines = _audit(url, plugins=lambda _connection: [collected], workers=2)
    inconsistent = (
        "its root is not the stored tree's root at that size: it is not consistent with the "
        "stored log (nor with the checkpoints before it)"
    )
    assert lines == [
        "signing_keys: key feed... is unusable: not a PEM public key",
        "tree node (level 1, index 1): is not the hash of its two stored children",
        "tree node (level 2, index 0): is not the hash of its two stored children",
        f"record {records[0][0]} (log index 0): the stored envelope does not hash to its leaf"
        " hash (changed after it was stored)",
        f"record {records[7][0]} (log index 7): the leaf names this record, which is not stored"
        " at this index (removed or moved)",
        f"checkpoint of sizes 5 to 6 (2 checkpoints): {inconsistent}",
        f"checkpoint of size 8: signed by key {foreign.key_id[:16]}..., which is not in "
        "signing_keys",
        "checkpoint of sizes 5 to 6 (2 checkpoints): the checkpoint size or root hash differs "
        "from its signed note",
        "record orphan (log index -2): no leaf at its log index names this record",
        f"record {records[7][0]} (log index -1): no leaf at its log index names this record",
        "tree node (level 0, index 40): the node lies beyond the log",
        "records: the plug-in's own finding",
    ]
    assert collected.records == [0, 1, 2, 3, 4, 5, 6, 8]  # record 7 is not at its leaf
    assert collected.sizes == list(range(1, 10))


def test_key_transitions_are_followed_and_a_retired_key_signs_nothing_new(
    settings: Settings, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A log that rotated its key passes; a later checkpoint re-signed by the retired key (a
    valid signature of a published key) is named as its successor's to sign."""
    _fill(settings, 3)
    context = open_context(settings)
    try:
        old = context.store.signing_key()
        rotate(context.engine, settings.data_dir, settings.log_origin)
        for n in range(10, 12):
            context.store.append("acme/widget", canonical_json(statement(n)), StatementMeta())
        with context.engine.connect() as connection:
            size, root = connection.execute(
                text("SELECT size, root_hash FROM checkpoints ORDER BY size DESC LIMIT 1")
            ).one()
    finally:
        context.engine.dispose()
    assert _audit(settings.database_url_or_default()) == []
    postgres = request.getfixturevalue("postgres") if backend == "postgres" else None
    url = _copy(settings, backend, tmp_path, postgres)
    forged = sign_checkpoint(settings.log_origin, size, bytes.fromhex(root), old)
    engine = make_engine(url)
    try:
        drop_triggers(engine)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE checkpoints SET key_id = :key, note = :note, signature = :sig"
                    " WHERE size = :size"
                ),
                {"key": old.key_id, "note": forged.note, "sig": forged.signature, "size": size},
            )
    finally:
        engine.dispose()
    assert _audit(url) == [
        f"checkpoint of size {size}: signed by key {old.key_id[:16]}..., which the log retired"
        f" at index 3: a checkpoint of size {size} is its successor's to sign"
    ]
