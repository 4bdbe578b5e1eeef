"""Regenerate the golden facts of the report parsers: `python -m tests.reports.regen`.

Only run it after a deliberate change of semantics, and review the diff of the .json files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gatekeeper.reports import parse_report, reports_to_facts

GOLDEN = Path(__file__).resolve().parent.parent / "assets" / "reports"


def inputs() -> list[Path]:
    """The golden inputs: every file of the assets folder that is not an expected .facts.json."""
    return sorted(p for p in GOLDEN.iterdir() if not p.name.endswith(".facts.json"))


def expected_path(path: Path) -> Path:
    """Where the expected facts of an input live."""
    return path.with_name(path.name + ".facts.json")


def facts_of(path: Path) -> dict[str, Any]:
    """The JSON facts of one input, with its location relative to the assets folder."""
    return reports_to_facts([parse_report(path, location=path.name)]).to_json_dict()


def main() -> None:
    """Write the expected facts next to every input."""
    for path in inputs():
        text = json.dumps(facts_of(path), indent=2, sort_keys=True) + "\n"
        expected_path(path).write_text(text, encoding="utf-8")
        print(f"wrote {expected_path(path).name}")


if __name__ == "__main__":
    main()
