"""The service commands: db upgrade, tokens, keys, and the refusal of an outdated schema."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from gatekeeper.cli.app import main
from gatekeeper.config import Settings
from gatekeeper.errors import ServiceError
from gatekeeper.service import create_app
from gatekeeper.service.database import head_revision, make_engine
from tests.service.conftest import bearer
from tests.service.live import ApiClient, PostgresDatabases, service_env


@dataclass(frozen=True)
class _Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gatekeeper(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., _Result]:
    """Runs the `gatekeeper` command in-process with the given environment."""

    def _run(env: dict[str, str], *args: str) -> _Result:
        for name, value in env.items():
            if name.startswith("GATEKEEPER_"):
                monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["gatekeeper", *args])
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        for name in env:
            if name.startswith("GATEKEEPER_") and name != "GATEKEEPER_TEST_POSTGRES_URL":
                monkeypatch.delenv(name)
        return _Result(int(caught.value.code or 0), captured.out, captured.err)

    return _run


def test_tokens_and_keys_commands(tmp_path: Path, gatekeeper: Callable[..., _Result]) -> None:
    """`tokens create` prints a working token on its last line; list, revoke and rotate (which
    logs a key transition) work."""
    env = service_env(tmp_path)
    created = gatekeeper(env, "tokens", "create", "--project", "acme/widget", "--scope", "read")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("gk_")
    token_id = token.split("_")[1]
    listed = gatekeeper(env, "tokens", "list")
    assert token_id in listed.stdout
    assert token not in listed.stdout
    app = create_app(Settings(data_dir=tmp_path))
    rotated = gatekeeper(env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    api = ApiClient(app)
    try:
        keys = api.get("/v1/keys").json()["keys"]
        assert [k["retired_at"] is None for k in keys] == [False, True]
        checkpoint = api.get("/v1/log/checkpoint", headers=bearer(token))
        assert checkpoint.json()["size"] == 1  # the rotation is logged: the key transition
        assert gatekeeper(env, "tokens", "revoke", token_id).returncode == 0
        listing = api.get("/v1/evidence?project=acme/widget", headers=bearer(token))
        assert listing.status_code == 401
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()
    again = gatekeeper(env, "tokens", "revoke", token_id)
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        f"database: sqlite:///{(tmp_path / 'gatekeeper.db').resolve()}",
        f"error: no active token has the id {token_id!r}; see `gatekeeper tokens list`",
    ]
    bad = gatekeeper(env, "tokens", "create", "--project", "a/b", "--scope", "write")
    assert (bad.returncode, bad.stderr.count("\n")) == (2, 2)


@pytest.mark.parametrize(
    "command", [("db", "current"), ("tokens", "list"), ("keys", "list"), ("log", "audit")]
)
def test_a_set_but_unusable_database_url_is_an_error(
    tmp_path: Path, gatekeeper: Callable[..., _Result], command: tuple[str, ...]
) -> None:
    """An empty or unreachable GATEKEEPER_DATABASE_URL is refused, never replaced by the SQLite
    default; the command names the database first, its password masked."""
    empty = gatekeeper(service_env(tmp_path, ""), *command)
    assert empty.returncode == 2
    assert "set but empty" in empty.stderr
    unreachable = "postgresql+psycopg://auditor:s3cret@127.0.0.1:1/evidence"
    down = gatekeeper(service_env(tmp_path, unreachable), *command)
    assert down.returncode == 2
    assert down.stderr.splitlines()[0] == (
        "database: postgresql+psycopg://auditor:***@127.0.0.1:1/evidence"
    )
    assert "s3cret" not in down.stderr
    assert not (tmp_path / "gatekeeper.db").exists()


def test_external_sqlite_database_needs_db_upgrade(
    tmp_path: Path, gatekeeper: Callable[..., _Result]
) -> None:
    """A configured (non-default) database on an old schema is refused until `db upgrade`."""
    url = f"sqlite:///{tmp_path / 'external.db'}"
    settings = Settings(data_dir=tmp_path, database_url=url)
    with pytest.raises(ServiceError, match="gatekeeper db upgrade"):
        create_app(settings)
    upgraded = gatekeeper(service_env(tmp_path, url), "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"to {head_revision()}" in upgraded.stdout
    create_app(settings).state.gatekeeper.engine.dispose()


@pytest.mark.postgres
def test_postgres_on_an_old_schema_is_refused(postgres: PostgresDatabases, tmp_path: Path) -> None:
    """PostgreSQL at an older revision: the service refuses to start and readyz would say so."""
    url = postgres.fresh(migrated=False)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num varchar(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    engine.dispose()
    with pytest.raises(ServiceError, match=f"at 0001 but this version needs {head_revision()}"):
        create_app(Settings(data_dir=tmp_path, database_url=url))


@pytest.mark.parametrize(
    "expires", ["2020-01-01", "2020-01-01T00:00:00+02:00", "1999-12-31T23:59:59Z"]
)
def test_tokens_create_refuses_an_expiry_in_the_past(
    tmp_path: Path, gatekeeper: Callable[..., _Result], expires: str
) -> None:
    """An already expired token is refused with a sentence (exit 2) and none is stored."""
    env = service_env(tmp_path)
    args = ("tokens", "create", "--project", "acme/widget", "--scope", "read")
    created = gatekeeper(env, *args, "--expires", expires)
    assert created.returncode == 2, created.stdout
    assert f"--expires {expires!r} is not in the future" in created.stderr
    assert "Traceback" not in created.stderr
    assert "gk_" not in created.stdout
    assert gatekeeper(env, "tokens", "list").stdout.strip() == ""
    later = gatekeeper(env, *args, "--expires", "2999-01-01")
    assert later.returncode == 0, later.stderr


@pytest.mark.parametrize("project", ["acme", "acme/widget,other/thing", "acme/*", "a/../b"])
def test_tokens_create_refuses_a_project_that_is_not_a_name(
    tmp_path: Path, gatekeeper: Callable[..., _Result], project: str
) -> None:
    """`--project` takes owner/name (groups allowed) only: one sentence, exit 2."""
    env = service_env(tmp_path)
    created = gatekeeper(env, "tokens", "create", "--project", project, "--scope", "ingest")
    assert created.returncode == 2, created.stdout
    assert created.stderr.splitlines()[-1].startswith(f"error: --project: project {project!r}")
    assert "Traceback" not in created.stderr


def test_tokens_create_all_projects_is_a_flag_never_a_star_project(
    tmp_path: Path, gatekeeper: Callable[..., _Result]
) -> None:
    """`--all-projects` makes a token of every project; `--project '*'` is refused and points
    at the flag; both at once is refused."""
    env = service_env(tmp_path)
    star = gatekeeper(env, "tokens", "create", "--project", "*", "--scope", "read")
    assert star.returncode == 2, star.stdout
    assert star.stderr.splitlines()[-1].endswith("(for every project, use --all-projects)")
    both = ("--project", "acme/widget", "--all-projects", "--scope", "read")
    assert gatekeeper(env, "tokens", "create", *both).stderr.splitlines()[-1] == (
        "error: give --project or --all-projects, not both"
    )
    created = gatekeeper(env, "tokens", "create", "--all-projects", "--scope", "read")
    assert created.returncode == 0, created.stderr
    assert "projects all projects" in created.stdout
    token = created.stdout.strip().splitlines()[-1]
    assert "all projects" in gatekeeper(env, "tokens", "list").stdout
    app = create_app(Settings(data_dir=tmp_path))
    api = ApiClient(app)
    try:
        for project in ("acme/widget", "group/sub/other"):
            listed = api.get(f"/v1/evidence?project={project}", headers=bearer(token))
            assert listed.status_code == 200, listed.text
    finally:
        api.close()
        app.state.gatekeeper.engine.dispose()
