"""Never lose a verdict: `evaluate --submit URL --spool DIR` with the service down keeps the
statement; `gatekeeper submit --spool DIR` sends it once the service is up, exactly once."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import httpx
import pytest

from gatekeeper.cli import _spool
from tests.e2e._harness import EXAMPLES, gatekeeper
from tests.service.live import PostgresDatabases, free_port, start_service, statement

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOCAL = ("--repo", "example/shop", "--commit", COMMIT)
POLICY = str(EXAMPLES / "local-policy.yml")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    return postgres.fresh()


def _log_size(url: str, token: str) -> int:
    answer = httpx.get(f"{url}/v1/log/checkpoint", headers={"Authorization": f"Bearer {token}"})
    return int(answer.json()["size"]) if answer.status_code == 200 else 0


def test_a_verdict_kept_while_the_service_is_down_is_sent_once_when_it_is_up(
    tmp_path: Path, database_url: str | None
) -> None:
    """Down: exit 3, the statement in the spool (0600) and the file named. Up: `submit` stores it
    and empties the spool; the same file sent again (a run that stopped after storing) is not a
    second record; a statement the service refuses stays with its reason beside it."""
    spool = tmp_path / "spool"
    down = gatekeeper(
        "evaluate", "--policy", POLICY, "--report", str(EXAMPLES / "failing"), *LOCAL,
        "--submit", f"http://127.0.0.1:{free_port()}", "--spool", str(spool),
        env={"GATEKEEPER_TOKEN": "gk_unused_token"}, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert down.returncode == 3, down.stderr
    [kept] = list(spool.glob("*.json"))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    [line] = down.stderr.splitlines()
    assert f"the statement is kept in {kept}" in line
    assert f"gatekeeper submit --spool {spool}" in line
    copy = tmp_path / "copy.json"
    shutil.copyfile(kept, copy)

    with start_service(tmp_path / "data", database_url) as service:
        env = {"GATEKEEPER_TOKEN": service.admin_token, "GATEKEEPER_SERVICE_URL": service.url}
        sent = gatekeeper("submit", "--spool", str(spool), env=env, cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
        assert "Evidence stored: record " in sent.stdout
        assert sent.stdout.splitlines()[-1] == f"sent 1 of 1 from {spool}, 0 refused"
        assert list(spool.iterdir()) == []
        assert _log_size(service.url, service.admin_token) == 1

        shutil.copyfile(copy, kept)
        again = gatekeeper("submit", "--spool", str(spool), env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "Evidence already stored: record " in again.stdout
        assert _log_size(service.url, service.admin_token) == 1

        broken = statement(9)
        broken["predicateType"] = 7
        bad = _spool.keep(spool, "example/shop", broken)
        refused = gatekeeper(
            "submit", "--spool", str(spool), "--service", service.url, env=env, cwd=tmp_path
        )
        assert refused.returncode == 1, refused.stderr
        assert bad.exists()
        reason = bad.with_name(bad.name + ".refused").read_text()
        assert "HTTP 422" in reason
        assert refused.stdout.splitlines()[-1] == f"sent 0 of 1 from {spool}, 1 refused"
        quiet = gatekeeper("submit", "--spool", str(spool), env=env, cwd=tmp_path)
        assert quiet.returncode == 0
        assert quiet.stdout.splitlines()[-1] == (
            f"sent 0 of 0 from {spool}, 0 refused; 1 refused earlier stay there"
        )
        assert _log_size(service.url, service.admin_token) == 1


def test_submit_with_the_service_still_down_keeps_everything(tmp_path: Path) -> None:
    """`submit` against a service that does not answer: exit 3, one sentence, nothing removed."""
    spool = tmp_path / "spool"
    kept = _spool.keep(spool, "example/shop", statement(1))
    down = gatekeeper(
        "submit", "--spool", str(spool), "--service", f"http://127.0.0.1:{free_port()}",
        env={"GATEKEEPER_TOKEN": "gk_unused_token"}, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert down.returncode == 3
    [line] = down.stderr.splitlines()
    assert f"0 sent, 1 still in {spool}" in line
    assert kept.exists()
