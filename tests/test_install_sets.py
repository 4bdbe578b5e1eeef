"""The install sets: the hashed locks match pyproject; the slim gate runs without the service."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gatekeeper.cli.app import SERVICE_MODULES
from tests.conftest import ASSETS, ROOT

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def _lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock", ROOT / "requirements" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins(lock_file: Path) -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in _PIN.findall(lock_file.read_text(encoding="utf-8"))}


def _direct(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    pending = list(extras)
    while pending:
        for text in project["optional-dependencies"][pending.pop()]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                pending.extend(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


LOCK = _lock_module()


@pytest.mark.parametrize("name", sorted(LOCK.SETS))
def test_lock_is_current_with_pyproject(name: str) -> None:
    """Each lock comes from today's dependency tables and pins each direct dependency in range."""
    lock_file = ROOT / "requirements" / f"{name}.txt"
    text = lock_file.read_text(encoding="utf-8")
    assert f"{LOCK.DIGEST_PREFIX}{LOCK.dependency_digest()}\n" in text, (
        f"{lock_file.name} is older than pyproject.toml's dependencies: run `make lock`"
    )
    pins = _pins(lock_file)
    for requirement in _direct(LOCK.SETS[name]):
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is missing from {lock_file.name}"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock_file.name} pins {requirement.name}=={version}, outside {requirement.specifier}"
        )
    assert "--hash=sha256:" in text


def test_gate_lock_holds_no_service_package() -> None:
    """The slim set that CI installs carries none of the service stack."""
    pins = _pins(ROOT / "requirements" / "gate.txt")
    for requirement in _direct(("service",))[len(_direct(())) :]:
        assert canonicalize_name(requirement.name) not in pins


def test_gate_commands_import_no_service_module() -> None:
    """Loading verify, evaluate, inspect, collect and policy imports none of the service stack."""
    probe = (
        "import sys\n"
        "from gatekeeper.cli.app import app\n"
        "import typer.main\n"
        "group = typer.main.get_group(app)\n"
        "for name in ('verify', 'evaluate', 'inspect', 'collect', 'policy'):\n"
        "    assert group.get_command(None, name) is not None, name\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = {name.partition(".")[0] for name in result.stdout.split()}
    assert "gatekeeper" in loaded
    assert not loaded & SERVICE_MODULES
    assert "gatekeeper.service" not in result.stdout.split()


def _slim_environment(tmp_path: Path) -> Path:
    """A fresh venv holding only the gate's locked distributions (linked from this environment)."""
    packages = tmp_path / "slim-site"
    packages.mkdir()
    for name in _pins(ROOT / "requirements" / "gate.txt"):
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-only pin (colorama on Windows)
        base = Path(str(distribution.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in distribution.files or () if ".." not in str(f)}
        for top in tops:
            link = packages / top
            if not link.exists() and (base / top).exists():
                link.symlink_to(base / top)
    for source in ("gatekeeper", "connectors"):
        (packages / source).symlink_to(ROOT / source)
    venv = tmp_path / "slim-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "slim.pth").write_text(f"{packages}\n", encoding="utf-8")
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def slim_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _slim_environment(tmp_path_factory.mktemp("slim"))


def _run_slim(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "gatekeeper", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )


def test_slim_environment_really_lacks_the_service(slim_python: Path) -> None:
    """The slim venv cannot import FastAPI or SQLAlchemy, so the next tests prove something."""
    probe = "import importlib.util as u; print(u.find_spec('fastapi'), u.find_spec('sqlalchemy'))"
    result = subprocess.run(
        [str(slim_python), "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "None None"


@pytest.mark.parametrize("command", ["serve", "db", "tokens", "keys"])
def test_service_commands_without_the_extra_say_what_to_install(
    slim_python: Path, command: str
) -> None:
    """Without `[service]` the service commands exit 2 with one sentence naming the extra."""
    result = _run_slim(slim_python, command, "--port", "1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'gatekeeper-evidence[service]'" in lines[0]
    assert "Traceback" not in result.stderr


def test_slim_gate_inspects_and_lists_every_command(slim_python: Path) -> None:
    """The slim install reads reports, and its help still lists the service commands."""
    report = ASSETS / "reports" / "junit-pytest-xunit1.xml"
    inspected = _run_slim(slim_python, "inspect", str(report), "--format", "json")
    assert inspected.returncode == 0, inspected.stderr
    assert '"tests"' in inspected.stdout
    helped = _run_slim(slim_python, "--help")
    assert helped.returncode == 0
    assert "serve" in helped.stdout
    assert "service extra" in helped.stdout


def test_wheel_ships_the_gate_lock() -> None:
    """The gate lock shipped inside the package (for the GitLab component) is the lock itself."""
    shipped = ROOT / LOCK.SHIPPED_GATE_LOCK
    assert shipped.read_bytes() == (ROOT / "requirements" / "gate.txt").read_bytes()
