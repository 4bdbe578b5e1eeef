"""Migrations ship inside the package; the signing key can come from a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from gatekeeper.attest.keys import SigningKey
from gatekeeper.config import Settings
from gatekeeper.errors import ServiceError
from gatekeeper.service import create_app
from gatekeeper.service.app import engine_for
from gatekeeper.service.database import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    migrations_dir,
    upgrade,
)
from gatekeeper.service.keyring import rotate
from tests.conftest import ROOT
from tests.service.live import ApiClient


def test_migrations_are_package_data_and_the_root_folder_points_at_them() -> None:
    """The Alembic scripts are found through the package (as in a wheel); migrations/ is them."""
    folder = migrations_dir()
    assert (folder / "env.py").is_file()
    assert len(list((folder / "versions").glob("*.py"))) >= 2
    assert (ROOT / "migrations").resolve() == folder.resolve()
    assert head_revision() == "0009_limit_buckets"


def test_signing_key_file_becomes_current_only_through_a_logged_transition(
    tmp_path: Path,
) -> None:
    """A key file holding a key the log does not know is refused while another is current;
    after `keys rotate --new-key` it signs, and the key made before it stays published."""
    first = create_app(Settings(data_dir=tmp_path))
    first.state.gatekeeper.engine.dispose()
    key = SigningKey.generate()
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(key.private_pem())
    settings = Settings(data_dir=tmp_path, signing_key_file=key_file)
    with pytest.raises(ServiceError, match="a new key comes only through a logged transition"):
        create_app(settings)
    with engine_for(settings) as engine:
        rotate(engine, tmp_path, settings.log_origin, new_key=key)
    app = create_app(settings)
    api = ApiClient(app)
    try:
        keys = api.get("/v1/keys").json()["keys"]
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()
    assert app.state.gatekeeper.store.signing_key().key_id == key.key_id
    current = [k["key_id"] for k in keys if k["retired_at"] is None]
    assert current == [key.key_id]
    assert len(keys) == 2


def test_page_sessions_migration_goes_down_and_up(tmp_path: Path) -> None:
    """Revision 0007 drops the sessions table on downgrade and creates it again on upgrade."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        upgrade(engine)
        assert inspect(engine).has_table("page_sessions")
        command.downgrade(alembic_config(engine), "0006_witness_cosignatures")
        assert current_revision(engine) == "0006_witness_cosignatures"
        assert not inspect(engine).has_table("page_sessions")
        upgrade(engine)
        assert current_revision(engine) == "0009_limit_buckets"
        assert "ix_page_sessions_expires_at" in {
            index["name"] for index in inspect(engine).get_indexes("page_sessions")
        }
    finally:
        engine.dispose()


def test_limit_buckets_migration_goes_down_and_up(tmp_path: Path) -> None:
    """Revision 0009 drops the shared limit counters on downgrade and creates them on upgrade."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        upgrade(engine)
        assert inspect(engine).has_table("limit_buckets")
        command.downgrade(alembic_config(engine), "0008_token_projects")
        assert not inspect(engine).has_table("limit_buckets")
        upgrade(engine)
        assert current_revision(engine) == "0009_limit_buckets"
        assert inspect(engine).get_pk_constraint("limit_buckets")["constrained_columns"] == [
            "bucket",
            "key",
        ]
    finally:
        engine.dispose()
