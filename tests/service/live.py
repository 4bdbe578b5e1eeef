"""Reusable helpers: a real `gatekeeper serve` process on a free loopback port, API clients.

Other parts' tests can use `start_service(tmp_path)` (a context manager) to get a running
service on the embedded SQLite default (or on `database_url`) with an admin token.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import psycopg
from fastapi import FastAPI
from sqlalchemy import make_url

from gatekeeper.config import Settings
from gatekeeper.service.app import open_engine
from gatekeeper.service.auth import create_token
from gatekeeper.service.database import make_engine, upgrade

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
STARTUP_DEADLINE_S = 60.0


def statement(
    n: int = 0,
    *,
    commit: str | None = None,
    verdict: str = "pass",
    project: str = "acme/widget",
) -> dict[str, Any]:
    """A small valid in-toto Statement v1 about `project` whose content differs with `n`."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": project, "digest": {"gitCommit": commit or f"{n:040x}"}}],
        "predicateType": "https://gatekeeper.dev/verdict/v1",
        "predicate": {
            "verdict": {"verdict": verdict, "policy": {"name": "p", "digest": "0" * 64}},
            "facts": {"subject": {"repo": project, "ref": "refs/heads/main"}},
            "n": n,
        },
    }


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiClient:
    """A synchronous client for an in-process app (httpx ASGITransport on a blocking portal)."""

    def __init__(self, app: FastAPI) -> None:
        self._portal_manager = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_manager.__enter__()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Sends one request and returns the response."""

        async def _send() -> httpx.Response:
            return await self._client.request(method, url, **kwargs)

        return self._portal.call(_send)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET `url`."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST to `url`."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Closes the client and its portal."""
        self._portal.call(self._client.aclose)
        self._portal_manager.__exit__(None, None, None)


@dataclass(frozen=True)
class RunningService:
    """A `gatekeeper serve` process and how to talk to it."""

    url: str
    admin_token: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path


def service_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment a service process (or a CLI call) runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEKEEPER_")}
    env["GATEKEEPER_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["GATEKEEPER_DATABASE_URL"] = database_url
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Polls `url`/healthz until it answers, the process dies or the deadline passes."""
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval, not synchronisation
    raise RuntimeError(f"the service did not answer within {STARTUP_DEADLINE_S} s")


@contextmanager
def start_service(
    data_dir: Path,
    database_url: str | None = None,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningService]:
    """Runs `gatekeeper serve` on a free loopback port until the block ends (`extra_env`: more
    settings for the service process)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = open_engine(settings)
    token, _ = create_token(engine, ["admin"], [])
    engine.dispose()
    port = free_port()
    env = {**service_env(data_dir, database_url), **(extra_env or {})}
    log_path = data_dir / f"service-{port}.log"
    command = [sys.executable, "-m", "gatekeeper", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        yield RunningService(url, token, data_dir, env, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PostgresDatabases:
    """Creates migrated PostgreSQL databases from one template, and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"gk_test_{secrets.token_hex(4)}"
        self.template = f"{self.prefix}_template"
        self._created: list[str] = []
        self._count = 0

    def _admin(self) -> psycopg.Connection[Any]:
        url = make_url(self.admin_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        """Creates the template database at the newest schema."""
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{self.template}"')
        self._created.append(self.template)
        engine = make_engine(self._url(self.template))
        upgrade(engine)
        engine.dispose()

    def fresh(self, *, migrated: bool = True) -> str:
        """The URL of a new database (a copy of the migrated template, or empty)."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        source = f' TEMPLATE "{self.template}"' if migrated else ""
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"{source}')
        self._created.append(name)
        return self._url(name)

    def copy(self, url: str) -> str:
        """The URL of a new database copied from the one at `url` (no one may be connected)."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        source = make_url(url).database
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        self._created.append(name)
        return self._url(name)

    def drop_all(self) -> None:
        """Drops every database this object created."""
        with self._admin() as connection:
            for name in reversed(self._created):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
