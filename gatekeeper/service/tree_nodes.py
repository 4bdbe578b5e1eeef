"""Reading the Merkle tree's stored nodes: the complete-subtree hashes a proof or an append needs,
each set fetched in one query, through SQLAlchemy (read paths) or a driver cursor (the append)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.engine import Connection

from gatekeeper.service.database import driver_sql

_FEW_NODES = 64


@lru_cache(maxsize=_FEW_NODES)
def _nodes_statement(count: int) -> TextClause:
    """SELECT of `count` (level, node_index) pairs, each term one primary-key lookup."""
    terms = " OR ".join(f"(level = :l{n} AND node_index = :i{n})" for n in range(count))
    return text(f"SELECT level, node_index, hash FROM tree_nodes WHERE {terms}")  # noqa: S608


Fetch = Callable[[TextClause, dict[str, Any]], Iterable[Sequence[Any]]]
"""Runs a SELECT with its parameters and returns its rows (SQLAlchemy or driver cursor)."""


def connection_fetch(connection: Connection) -> Fetch:
    """A `Fetch` on a SQLAlchemy connection (the read paths)."""

    def fetch(clause: TextClause, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
        return connection.execute(clause, params)

    return fetch


def cursor_fetch(cursor: Any, engine: Engine) -> Fetch:
    """A `Fetch` on a driver cursor (the append path: no SQLAlchemy work per statement)."""

    def fetch(clause: TextClause, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
        cursor.execute(driver_sql(engine, clause), params)
        rows: list[Sequence[Any]] = cursor.fetchall()
        return rows

    return fetch


def _many_nodes_statement(by_level: dict[int, set[int]]) -> TextClause:
    """One (level = L AND node_index IN (...)) term per level: each term uses the primary key.

    The numbers are the ints computed here (never request text), so they are inlined.
    """
    terms = " OR ".join(
        f"(level = {int(level)} AND node_index IN ({','.join(str(int(i)) for i in sorted(ixs))}))"
        for level, ixs in by_level.items()
    )
    return text(f"SELECT level, node_index, hash FROM tree_nodes WHERE {terms}")  # noqa: S608


class NodeReader:
    """Reads complete-subtree hashes, fetching each set of needed nodes in one query."""

    def __init__(self, source: Connection | Fetch) -> None:
        self._fetch = connection_fetch(source) if isinstance(source, Connection) else source
        self._cache: dict[tuple[int, int], bytes] = {}

    def prefetch(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Loads the hashes of `pairs` (level, index) not loaded yet."""
        by_level: dict[int, set[int]] = {}
        for level, index in pairs:
            if (level, index) not in self._cache:
                by_level.setdefault(level, set()).add(index)
        if not by_level:
            return
        wanted = [(level, index) for level, indices in by_level.items() for index in indices]
        params: dict[str, Any] = {}
        if len(wanted) <= _FEW_NODES:
            for number, (level, index) in enumerate(wanted):
                params[f"l{number}"], params[f"i{number}"] = level, index
            statement = _nodes_statement(len(wanted))
        else:
            statement = _many_nodes_statement(by_level)
        for level, index, digest in self._fetch(statement, params):
            self._cache[(level, index)] = bytes(digest)

    def add(self, level: int, index: int, digest: bytes) -> None:
        """Remembers a node written in this transaction."""
        self._cache[(level, index)] = digest

    def get(self, level: int, index: int) -> bytes:
        """The hash of node (level, index); a missing node is a storage fault."""
        if (level, index) not in self._cache:
            self.prefetch([(level, index)])
        try:
            return self._cache[(level, index)]
        except KeyError:
            raise LookupError(f"tree node ({level}, {index}) is missing from the log") from None
