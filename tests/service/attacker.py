"""What whoever owns the database can do: drop the append-only triggers and rebuild the log."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.service.database import is_sqlite
from gatekeeper.service.keyring import load_signing_key
from gatekeeper.service.store import EvidenceStore, StatementMeta


def drop_triggers(engine: Engine) -> None:
    """Drop every trigger of the database, as its owner can."""
    with engine.begin() as connection:
        if is_sqlite(engine):
            names = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            for name in list(names):
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
            return
        rows = connection.exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal"
        ).all()
        for name, table in rows:
            connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON "{table}"')


def rewrite_tail(
    engine: Engine, data_dir: Path, origin: str, keep: int, statements: Iterable[dict[str, Any]]
) -> None:
    """Replace every leaf from index `keep` on by `statements`, recomputing every stored hash
    and signing new checkpoints with the service's own key (triggers must be dropped first)."""
    with engine.begin() as connection:
        doomed = {"keep": keep}
        for sql in (
            "DELETE FROM record_facets WHERE log_index >= :keep",
            "DELETE FROM log_leaves WHERE leaf_index >= :keep",
            "DELETE FROM records WHERE log_index >= :keep",
            "DELETE FROM witness_cosignatures WHERE size > :keep",
            "DELETE FROM checkpoints WHERE size > :keep",
        ):
            connection.execute(text(sql), doomed)
        nodes = connection.execute(text("SELECT level, node_index FROM tree_nodes")).all()
        for level, index in nodes:
            if (index + 1) << level > keep:  # the subtree covers a removed leaf
                connection.execute(
                    text("DELETE FROM tree_nodes WHERE level = :lv AND node_index = :ix"),
                    {"lv": level, "ix": index},
                )
    store = EvidenceStore(engine, load_signing_key(engine, data_dir), origin)
    for statement in statements:
        store.append("acme/widget", canonical_json(statement), StatementMeta())
