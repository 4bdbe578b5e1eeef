"""pip-audit over a hashed lock; offline-tolerant: with no vulnerability database it says so.

Exit 0 when no known vulnerability was found or no database answered (said on one line), 1 when a
locked package has a known vulnerability. GATEKEEPER_AUDIT_STRICT=1 (.ci/run) also fails when
pip-audit itself is missing, so CI cannot skip the audit by accident.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_UNREACHABLE = ("ConnectionError", "ProxyError", "Max retries exceeded", "Failed to resolve")


def judge(report: dict[str, Any] | None, stderr: str) -> tuple[int, str]:
    """(exit code, one-line sentence) for pip-audit's JSON report (None when it wrote none)."""
    if report is None:
        if any(marker in stderr for marker in _UNREACHABLE):
            return 0, "pip-audit: no vulnerability database reachable; the lock was not audited"
        return 1, f"pip-audit failed: {stderr.strip().splitlines()[-1] if stderr.strip() else '?'}"
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    if vulnerable:
        names = ", ".join(
            f"{d['name']} {d['version']} ({', '.join(v['id'] for v in d['vulns'])})"
            for d in vulnerable
        )
        return 1, f"pip-audit: known vulnerabilities in {names}"
    audited = [d for d in dependencies if "skip_reason" not in d]
    if dependencies and not audited:
        return 0, "pip-audit: no vulnerability database answered for any package; not audited"
    return 0, f"pip-audit: no known vulnerabilities in {len(audited)} locked packages"


def main() -> int:
    lock = sys.argv[1]
    pip_audit = shutil.which("pip-audit", path=str(Path(sys.executable).parent))
    if pip_audit is None:
        strict = os.environ.get("GATEKEEPER_AUDIT_STRICT") == "1"
        print("pip-audit is not installed (it is in the dev extra)", file=sys.stderr)
        return 1 if strict else 0
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "audit.json"
        command = [pip_audit, "--disable-pip", "--require-hashes", "-r", lock]
        command += ["--progress-spinner", "off", "-f", "json", "-o", str(output)]
        done = subprocess.run(  # noqa: S603 - our own pip-audit on our own lock file
            command, capture_output=True, text=True, check=False, timeout=600
        )
        report = json.loads(output.read_text()) if output.exists() else None
    status, sentence = judge(report, done.stderr)
    print(sentence)
    return status


if __name__ == "__main__":
    sys.exit(main())
