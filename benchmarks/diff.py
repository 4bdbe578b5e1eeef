"""Benchmark: peak memory and time of `gatekeeper inspect --diff` on a 26 MB git diff.

Three child processes read the same generated diff (1,550 files of 17 KB, every line added):
- gatekeeper: `inspect REPORT --diff FILE` (the diff is parsed file by file);
- peer: unidiff's `PatchSet` over the whole text (what Gatekeeper did before; diff-cover reads
  diffs from git itself and cannot be handed a file);
- limit: a bare loop that reads the file and counts the added lines.
Target: peak RSS under 150 MB. Run on a quiet machine; RSS moves little with load, time does.

    python benchmarks/diff.py [--files 2000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TARGET_MB = 150

_MEASURE = textwrap.dedent(
    """
    import resource, sys, time
    start = time.perf_counter()
    {body}
    elapsed = time.perf_counter() - start
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, elapsed)
    """
)

_BODIES = {
    "gatekeeper": (
        "from gatekeeper.cli.app import main\n"
        "sys.argv = ['gatekeeper', 'inspect', sys.argv[2], '--diff', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code"
    ),
    "peer (unidiff, whole diff)": (
        "from unidiff import PatchSet\n"
        "patch = PatchSet(open(sys.argv[1], encoding='utf-8').read())\n"
        "assert sum(1 for f in patch for h in f for line in h if line.is_added)"
    ),
    "limit (read, count + lines)": (
        "with open(sys.argv[1], 'rb') as handle:\n"
        "    assert sum(1 for line in handle if line.startswith(b'+'))"
    ),
}


def _write_diff(path: Path, files: int) -> None:
    body = "".join(f"+    value_{n} = compute({n})  # a changed line of code\n" for n in range(300))
    with path.open("w", encoding="utf-8") as out:
        for n in range(files):
            name = f"src/pkg{n % 40}/module_{n}.py"
            out.write(f"diff --git a/{name} b/{name}\nindex 1111111..2222222 100644\n")
            out.write(f"--- a/{name}\n+++ b/{name}\n@@ -0,0 +1,300 @@\n{body}")


def _write_report(path: Path, files: int) -> None:
    classes = "".join(
        f'<class name="m{n}" filename="src/pkg{n % 40}/module_{n}.py" line-rate="1">'
        f'<lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class>'
        for n in range(files)
    )
    path.write_text(
        '<?xml version="1.0" ?><coverage version="7" line-rate="0.5" branch-rate="0">'
        f'<packages><package name="p"><classes>{classes}</classes></package></packages>'
        "</coverage>",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1550)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        diff, report = Path(folder) / "big.diff", Path(folder) / "coverage.xml"
        _write_diff(diff, options.files)
        _write_report(report, options.files)
        print(f"diff: {diff.stat().st_size / 1e6:.1f} MB, {options.files} files")
        results: dict[str, tuple[float, float]] = {}
        for name, body in _BODIES.items():
            code = _MEASURE.format(body=body)
            done = subprocess.run(
                [sys.executable, "-c", code, str(diff), str(report)],
                capture_output=True,
                text=True,
                check=True,
            )
            rss, seconds = (float(v) for v in done.stdout.split()[-2:])
            results[name] = (rss, seconds)
            print(f"{name:30} peak RSS {rss:7.1f} MB  {seconds:6.2f} s")
        ours, limit = results["gatekeeper"], results["limit (read, count + lines)"]
        peer = results["peer (unidiff, whole diff)"]
        print(f"gatekeeper / peer: RSS {ours[0] / peer[0]:.2f}x, time {ours[1] / peer[1]:.2f}x")
        print(f"gatekeeper / limit: RSS {ours[0] / limit[0]:.2f}x, time {ours[1] / limit[1]:.2f}x")
        verdict = "met" if ours[0] < TARGET_MB else "MISSED"
        print(f"target: peak RSS under {TARGET_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
