"""The database tables (SQLAlchemy 2, typed); every change to them is an Alembic revision.

`records`, `log_leaves`, `tree_nodes` and `checkpoints` are append-only: triggers created by the
first migration refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL, INSERT OR REPLACE on SQLite).
`signing_keys` and `tokens` change on purpose (a key is retired, a token revoked).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

APPEND_ONLY_TABLES = (
    "records",
    "log_leaves",
    "tree_nodes",
    "checkpoints",
    "policies",
    "record_facets",
    "witness_cosignatures",
)
"""Tables whose rows are never updated or deleted; the database refuses it."""

_BIGINT = BigInteger().with_variant(Integer(), "sqlite")

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the metadata Alembic reads."""

    metadata = MetaData(naming_convention=_NAMING)


class SigningKeyRow(Base):
    """A public key the service signs (or signed) with; the private half stays on disk."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    retired_at: Mapped[str | None] = mapped_column(String(32), default=None)


class RecordRow(Base):
    """One stored evidence record: the signed DSSE envelope and what queries filter on."""

    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    log_index: Mapped[int] = mapped_column(_BIGINT, unique=True)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    integrated_at: Mapped[str] = mapped_column(String(32))
    statement_sha256: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    repo: Mapped[str | None] = mapped_column(String(300))
    commit: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(300))
    verdict: Mapped[str | None] = mapped_column(String(16))
    inclusion_proof: Mapped[str | None] = mapped_column(Text, default=None)
    """Receipt kept at integration: hex hashes of the proof to the checkpoint of size index + 1."""

    __table_args__ = (
        Index("uq_records_project_statement", "project", "statement_sha256", unique=True),
        Index("ix_records_project_log_index", "project", "log_index"),
        Index("ix_records_project_commit", "project", "commit", "log_index"),
        Index("ix_records_project_verdict", "project", "verdict", "log_index"),
        Index("ix_records_project_integrated", "project", "integrated_at", "log_index"),
    )


class RecordFacetRow(Base):
    """What the auditor's workspace filters on, read from a record's statement at ingest."""

    __tablename__ = "record_facets"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    log_index: Mapped[int] = mapped_column(_BIGINT)
    integrated_at: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str | None] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(String(300))
    commit: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    change_id: Mapped[str | None] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(200))
    policy_name: Mapped[str | None] = mapped_column(String(200))
    policy_digest: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    waived: Mapped[int] = mapped_column(Integer)
    failed_rules: Mapped[str] = mapped_column(Text)
    waived_rules: Mapped[str] = mapped_column(Text)
    line_rate: Mapped[float | None] = mapped_column(Float)
    tests_total: Mapped[int | None] = mapped_column(Integer)
    tests_failed: Mapped[int | None] = mapped_column(Integer)
    tests_flaky: Mapped[int | None] = mapped_column(Integer)
    evaluated_at: Mapped[str | None] = mapped_column(String(32))
    approvers: Mapped[str] = mapped_column(Text)
    waivers: Mapped[str] = mapped_column(Text)
    """The waivers of the evaluation as JSON (rule, reason, approver, expiry, ticket, status)."""

    __table_args__ = (
        Index("ix_record_facets_project_log_index", "project", "log_index"),
        Index("ix_record_facets_log_index", "log_index"),
        Index("ix_record_facets_project_verdict", "project", "verdict", "log_index"),
        Index("ix_record_facets_project_waived", "project", "waived", "log_index"),
        Index("ix_record_facets_project_change", "project", "change_id", "log_index"),
        Index("ix_record_facets_project_kind", "project", "kind", "log_index"),
        Index("ix_record_facets_project_integrated", "project", "integrated_at", "log_index"),
    )


class LogLeafRow(Base):
    """One leaf of the Merkle log: its index (max+1, never a sequence) and its hash."""

    __tablename__ = "log_leaves"

    leaf_index: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), unique=True)


class TreeNodeRow(Base):
    """The hash of one complete subtree: leaves [index * 2**level, (index + 1) * 2**level)."""

    __tablename__ = "tree_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    # SQLite: clustered on (level, node_index), so a proof's node is one B-tree lookup
    __table_args__ = ({"sqlite_with_rowid": False},)


class CheckpointRow(Base):
    """A signed checkpoint of the log at one size."""

    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    note: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(32))


class WitnessCosignatureRow(Base):
    """A witness's C2SP cosignature/v1 of the checkpoint of `size`, as it posted it."""

    __tablename__ = "witness_cosignatures"

    size: Mapped[int] = mapped_column(
        _BIGINT, ForeignKey("checkpoints.size"), primary_key=True, autoincrement=False
    )
    witness_key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    cosignature: Mapped[str] = mapped_column(Text)
    """The signature line, `— <name> <base64>` and a newline."""
    created_at: Mapped[str] = mapped_column(String(32))


class TokenRow(Base):
    """An API token: only its SHA-256 is kept; scopes are comma-separated, the projects it is
    bound to are rows of `token_projects` (none when `all_projects`)."""

    __tablename__ = "tokens"

    token_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))
    all_projects: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str | None] = mapped_column(String(32), default=None)
    revoked_at: Mapped[str | None] = mapped_column(String(32), default=None)
    note: Mapped[str | None] = mapped_column(String(200), default=None)


class TokenProjectRow(Base):
    """One project a token is bound to."""

    __tablename__ = "token_projects"

    token_id: Mapped[str] = mapped_column(ForeignKey("tokens.token_id"), primary_key=True)
    project: Mapped[str] = mapped_column(String(200), primary_key=True)


class PolicyRow(Base):
    """A published policy version of a project (append-only); its signed record is in the log."""

    __tablename__ = "policies"
    __table_args__ = (Index("ix_policies_project_digest", "project", "digest", unique=True),)

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(300))
    published_at: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1000), default=None)


class PageSessionRow(Base):
    """A signed-in browser of the auditor pages: only the SHA-256 of its session id is kept."""

    __tablename__ = "page_sessions"

    session_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("tokens.token_id"))
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32), index=True)


class LimitBucketRow(Base):
    """One request limit's counter for one key (token id, client address), shared by every
    process: the events left and the wall time they were counted at (`limit_buckets.py`)."""

    __tablename__ = "limit_buckets"

    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
