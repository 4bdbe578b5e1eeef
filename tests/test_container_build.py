"""The container image's build, exercised without a container engine.

The Dockerfile is parsed as text; its build stage (copy the sources, build the wheel, install it,
run `gatekeeper`) is replayed in tmp_path with the test venv's Python: the wheel is built offline
(`--no-build-isolation`) from exactly the files the Dockerfile copies, installed with `--no-deps
--target`, and run with that target first on PYTHONPATH, so the dependencies come from the test
venv. The final stage is checked for what the image promises: no compilers, a non-root user, a
HEALTHCHECK, the CLI as entry point, the service as command, OCI labels.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

_OCI_LABELS = {
    "org.opencontainers.image.title",
    "org.opencontainers.image.description",
    "org.opencontainers.image.version",
    "org.opencontainers.image.licenses",
    "org.opencontainers.image.source",
}
_COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|cc|python3?-dev|libpq-dev)\b")
_PACKAGE_DATA = (
    "gatekeeper/data/policies/pull-request.yml",
    "gatekeeper/data/policies/iso9001-release.yml",
    "gatekeeper/data/policies/policy.schema.json",
    "gatekeeper/data/migrations/env.py",
    "gatekeeper/data/examples/passing/junit.xml",
    "gatekeeper/data/examples/failing/junit.xml",
    "gatekeeper/py.typed",
)


@dataclass
class _Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def one(self, keyword: str) -> str:
        found = self.all(keyword)
        assert len(found) == 1, f"stage {self.name}: expected one {keyword}, found {found}"
        return found[0]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def _stages() -> list[_Stage]:
    stages: list[_Stage] = []
    for line in _logical_lines((ROOT / "Dockerfile").read_text("utf-8")):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(_Stage(base=parts[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def _stage(name: str) -> _Stage:
    return next(stage for stage in _stages() if stage.name == name)


def _build_commands(stage: _Stage) -> list[list[str]]:
    commands: list[list[str]] = []
    for run in stage.all("RUN"):
        commands.extend(shlex.split(part) for part in run.split("&&"))
    return commands


def _replay_copies(stage: _Stage, context: Path) -> None:
    """Copies what the stage's COPY lines take from the build context into `context`."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for args in stage.all("COPY"):
        *sources, destination = args.split()
        for source in sources:
            origin = ROOT / source
            assert origin.exists(), f"COPY {source}: not in the repository"
            if origin.is_dir():
                shutil.copytree(origin, context / destination, ignore=ignore)
            elif destination.endswith("/"):
                shutil.copy2(origin, context / destination / origin.name)
            else:
                shutil.copy2(origin, context / destination)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The build stage replayed: (wheel, install target)."""
    stage = _stage("build")
    base = tmp_path_factory.mktemp("image")
    context = base / "src"
    context.mkdir()
    _replay_copies(stage, context)
    wheels, target = base / "wheels", base / "target"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), "."]
    subprocess.run(build, cwd=context, check=True, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    install = [*pip, "install", "--no-deps", "--no-compile", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return wheel, target


def _gatekeeper(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
        "GATEKEEPER_DATA_DIR": str(cwd / "data"),
        "COLUMNS": "100",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, str(target / "bin" / "gatekeeper"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_build_stage_builds_a_wheel_and_installs_it_from_the_copied_sources() -> None:
    """The build stage copies the sources, builds one wheel, installs it and runs the CLI."""
    commands = _build_commands(_stage("build"))
    assert ["python", "-m", "venv", "/opt/gatekeeper"] in commands
    wheel_steps = [c for c in commands if c[:2] == ["/opt/gatekeeper/bin/pip", "wheel"]]
    assert wheel_steps
    assert "--no-deps" in wheel_steps[0]
    assert any(c[:2] == ["/opt/gatekeeper/bin/pip", "install"] for c in commands)
    assert ["/opt/gatekeeper/bin/gatekeeper", "--version"] in commands


@pytest.mark.slow
def test_the_installed_wheel_runs_the_cli_and_the_service_command(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The wheel the build stage makes gives a working `gatekeeper --version` and `serve --help`."""
    _, target = installed
    version = _gatekeeper(target, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("gatekeeper ")
    serve = _gatekeeper(target, "serve", "--help", cwd=tmp_path)
    assert serve.returncode == 0, serve.stderr
    assert "--host" in serve.stdout
    assert "--port" in serve.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import gatekeeper; print(gatekeeper.__file__)"],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(target), "the test ran the checkout"


@pytest.mark.slow
def test_the_wheel_carries_the_package_data_the_image_needs(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """Policies, migrations and examples are in the wheel, and the installed copy finds them."""
    wheel, target = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in _PACKAGE_DATA if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert any(n.startswith("gatekeeper/data/migrations/versions/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    policy = _gatekeeper(target, "policy", "validate", "iso9001-release", cwd=tmp_path)
    assert policy.returncode == 0, policy.stdout + policy.stderr
    upgrade = _gatekeeper(target, "db", "upgrade", cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "data" / "gatekeeper.db").is_file()


def test_final_stage_has_no_compilers_and_runs_as_a_non_root_user() -> None:
    """The final stage copies the venv from the build stage, installs no build tools, drops root."""
    final = _stages()[-1]
    assert final.name == "final"
    assert final.base == _stage("build").base, "both stages share the same slim base"
    assert "slim" in final.base
    for run in final.all("RUN"):
        assert "apt-get install" not in run or not _COMPILERS.search(run), run
        assert "pip install" not in run, "the final stage installs nothing with pip"
    assert "--from=build /opt/gatekeeper /opt/gatekeeper" in final.one("COPY")
    user = final.one("USER").split(":")[0]
    assert user not in {"root", "0"}
    assert int(user) >= 1000


def test_final_stage_has_healthcheck_entrypoint_command_volume_and_oci_labels() -> None:
    """HEALTHCHECK polls /healthz on the service port; the CLI is the entry point, serve the CMD."""
    final = _stage("final")
    healthcheck = final.one("HEALTHCHECK")
    exec_form = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert exec_form[:2] == ["python", "-c"]
    compile(exec_form[2], "HEALTHCHECK", "exec")
    assert "/healthz" in exec_form[2]
    assert "GATEKEEPER_PORT" in exec_form[2]
    assert json.loads(final.one("ENTRYPOINT")) == ["gatekeeper"]
    assert json.loads(final.one("CMD")) == ["serve"]
    env = " ".join(final.all("ENV"))
    assert "GATEKEEPER_HOST=0.0.0.0" in env, "the service must listen beyond the container"
    assert "GATEKEEPER_DATA_DIR=/var/lib/gatekeeper" in env
    assert json.loads(final.one("VOLUME")) == ["/var/lib/gatekeeper"]
    port = re.search(r"GATEKEEPER_PORT=(\d+)", env)
    assert port is not None
    assert final.one("EXPOSE") == port.group(1)
    label_text = " ".join(final.all("LABEL"))
    labels = set(re.findall(r"(org\.opencontainers\.image\.[a-z.]+)=", label_text))
    assert labels >= _OCI_LABELS


def test_serve_reads_host_and_port_from_the_environment_the_image_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GATEKEEPER_HOST/GATEKEEPER_PORT reach the settings `gatekeeper serve` listens with."""
    from gatekeeper.config import load_settings

    monkeypatch.setenv("GATEKEEPER_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEKEEPER_PORT", "8000")
    settings = load_settings(host=None, port=None)
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)


def test_build_stage_installs_dependencies_from_the_hashed_service_lock() -> None:
    """The image's dependencies come from the hashed service lock; the wheel adds none."""
    commands = _build_commands(_stage("build"))
    locked = [c for c in commands if "--require-hashes" in c]
    assert locked
    assert locked[0][locked[0].index("-r") + 1] == "service.txt"
    copies = " ".join(_stage("build").all("COPY"))
    assert "requirements/service.txt" in copies
    wheel_installs = [c for c in commands if c[:2] == ["/opt/gatekeeper/bin/pip", "install"]]
    assert all("--no-deps" in c for c in wheel_installs if "--require-hashes" not in c)
