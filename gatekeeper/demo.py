"""`make demo`: the main job on the embedded default, with the bundled example reports.

The demo is a list of steps, each a `gatekeeper` command run as a user would; later parts add
steps (evaluate against a policy, store the evidence, verify it).
"""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import as_file, files
from pathlib import Path


def _examples() -> Path:
    return Path(str(files("gatekeeper") / "data" / "examples"))


GATE_FAILS = "Gate the failing change with the ISO 9001 release policy (exit 1: the gate fails)"
"""The one step expected to exit 1: a failed gate is the demo's point there."""


def steps(examples: Path) -> list[tuple[str, list[str]]]:
    """The demo steps: a title and the `gatekeeper` arguments of each."""
    return [
        (
            "Facts of a passing change (pytest JUnit + coverage.py Cobertura)",
            ["inspect", str(examples / "passing")],
        ),
        (
            "Facts of a failing change (Maven Surefire JUnit + JaCoCo), as JSON",
            ["inspect", str(examples / "failing"), "--format", "json"],
        ),
        (
            "Gate the passing change with a local policy (exit 0)",
            [
                "evaluate",
                "--policy",
                str(examples / "local-policy.yml"),
                "--report",
                str(examples / "passing"),
            ],
        ),
        (
            GATE_FAILS,
            ["evaluate", "--policy", "iso9001-release", "--report", str(examples / "failing")],
        ),
    ]


def main() -> int:
    """Runs the demo steps and returns the exit code of the first step that fails, else 0."""
    with as_file(files("gatekeeper") / "data" / "examples") as examples:
        for title, arguments in steps(Path(examples)):
            print(f"\n== {title}\n$ gatekeeper {' '.join(arguments)}", flush=True)
            code = subprocess.call([sys.executable, "-m", "gatekeeper", *arguments])  # noqa: S603 - our own fixed arguments
            if code != 0 and not (code == 1 and title == GATE_FAILS):
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
