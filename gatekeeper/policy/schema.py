"""The JSON Schema of the policy file, generated from the model.

python -m gatekeeper.policy.schema            # print it
python -m gatekeeper.policy.schema --write    # write policies/policy.schema.json and copy
                                              # policies/ into the package data
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from gatekeeper.policy.model import Policy

SCHEMA_ID = "https://example.invalid/gatekeeper/policy.schema.json"
ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDER = ROOT / "policies"
PACKAGE_FOLDER = ROOT / "gatekeeper" / "data" / "policies"
SHIPPED_SUFFIXES = (".yml", ".json", ".rego", ".md")


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file."""
    schema = Policy.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Gatekeeper policy",
    }


def schema_text() -> str:
    """The schema as the exact text of `policies/policy.schema.json`."""
    return json.dumps(policy_schema(), indent=2) + "\n"


def shipped_files(folder: Path) -> list[Path]:
    """The files of `folder` that ship as ready policies (no subfolders such as tests)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SHIPPED_SUFFIXES)


def write() -> None:
    """Regenerate the schema in `policies/` and copy `policies/` into the package data."""
    (SOURCE_FOLDER / "policy.schema.json").write_text(schema_text(), encoding="utf-8")
    PACKAGE_FOLDER.mkdir(parents=True, exist_ok=True)
    for stale in shipped_files(PACKAGE_FOLDER):
        stale.unlink()
    for path in shipped_files(SOURCE_FOLDER):
        shutil.copyfile(path, PACKAGE_FOLDER / path.name)


def main(argv: list[str]) -> int:
    """Print the schema, or with --write regenerate the files."""
    if argv == ["--write"]:
        write()
    elif not argv:
        sys.stdout.write(schema_text())
    else:
        sys.stderr.write("usage: python -m gatekeeper.policy.schema [--write]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
