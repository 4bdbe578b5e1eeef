"""Migrations ship inside the package; the signing key can come from a file."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.attest.keys import SigningKey
from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.database import head_revision, migrations_dir
from tests.conftest import ROOT
from tests.service.live import ApiClient


def test_migrations_are_package_data_and_the_root_folder_points_at_them() -> None:
    """The Alembic scripts are found through the package (as in a wheel); migrations/ is them."""
    folder = migrations_dir()
    assert (folder / "env.py").is_file()
    assert len(list((folder / "versions").glob("*.py"))) >= 2
    assert (ROOT / "migrations").resolve() == folder.resolve()
    assert head_revision() == "0006_token_projects"


def test_signing_key_file_becomes_the_current_key(tmp_path: Path) -> None:
    """GATEKEEPER_SIGNING_KEY_FILE's key signs, and the key made before it stays published."""
    first = create_app(Settings(data_dir=tmp_path))
    first.state.gatekeeper.engine.dispose()
    key = SigningKey.generate()
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(key.private_pem())
    app = create_app(Settings(data_dir=tmp_path, signing_key_file=key_file))
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
