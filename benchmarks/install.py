"""Install time of the slim gate set against the full service set, from the hashed locks.

Run: `python benchmarks/install.py [--rounds N]`. Each round makes a fresh venv and installs,
as the GitHub Action does, `pip install --require-hashes -r requirements/<set>.txt` then the
package with `--no-deps`; a first, unmeasured round warms pip's cache, so the figures are the
warm-cache case a CI runner with `actions/setup-python`'s pip cache sees. Prints wall and CPU
time (user + system of the children) per set, the size of the installed site-packages, and the
full/slim ratios. On a loaded machine the CPU-time ratio is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ("gate", "service")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _size_mb(folder: Path) -> float:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1e6


def install(name: str, scratch: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, site-packages MB) of one fresh install of set `name`."""
    venv = scratch / f"venv-{name}"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def run(*args: str) -> None:
        subprocess.run([*pip, *args], env=env, check=True, capture_output=True)

    cpu, start = _children_cpu(), time.perf_counter()
    lock = ROOT / "requirements" / f"{name}.txt"
    run("--require-hashes", "-r", str(lock))
    run("--no-deps", str(ROOT))
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    site = next((venv / "lib").glob("python3*/site-packages"))
    return wall, cpu, _size_mb(site)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per set")
    rounds = parser.parse_args().rounds
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SETS}
    with tempfile.TemporaryDirectory() as scratch:
        for name in SETS:
            install(name, Path(scratch))  # warm pip's cache (downloads, built wheels)
        for _ in range(rounds):
            for name in SETS:
                results[name].append(install(name, Path(scratch)))
    median: dict[str, tuple[float, float, float]] = {}
    for name in SETS:
        walls, cpus, sizes = zip(*results[name], strict=True)
        median[name] = (statistics.median(walls), statistics.median(cpus), sizes[-1])
        wall, cpu, size = median[name]
        print(f"{name:8} warm-cache install: wall {wall:6.1f} s  cpu {cpu:6.1f} s  {size:6.0f} MB")
    slim, full = median["gate"], median["service"]
    print(
        f"full/slim: wall x{full[0] / slim[0]:.2f}, cpu x{full[1] / slim[1]:.2f}, "
        f"size x{full[2] / slim[2]:.2f} (median of {rounds} rounds)"
    )


if __name__ == "__main__":
    main()
