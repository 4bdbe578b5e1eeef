"""Golden bundle members: a 3-record bundle from a fixed key, byte for byte.

Regenerate only on purpose, after a deliberate format change:

    .venv/bin/python -m tests.ledger.golden
"""

from __future__ import annotations

import base64
import json
import tempfile
import zipfile
from pathlib import Path

from gatekeeper.attest.keys import SigningKey
from gatekeeper.ledger.checkpoint import signed_note_text, verifier_key
from gatekeeper.ledger.testing import ORIGIN, write_sample_bundle

GOLDEN = Path(__file__).resolve().parent.parent / "assets" / "ledger"
KEY = SigningKey.from_seed(b"gatekeeper golden bundle seed 01")
MEMBERS = ("records.jsonl", "proofs.jsonl", "records.sha256", "checkpoint.json", "keys.json")


def golden_files() -> dict[str, bytes]:
    """The files the golden directory should hold, computed now."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bundle.zip"
        _tree, checkpoint = write_sample_bundle(path, 3, KEY)
        with zipfile.ZipFile(path) as archive:
            files = {name: archive.read(name) for name in MEMBERS}
            manifest = json.loads(archive.read("manifest.json"))
    files["manifest.payload.json"] = base64.b64decode(manifest["payload"]) + b"\n"
    files["checkpoint.note"] = signed_note_text(checkpoint, ORIGIN, KEY.public).encode()
    files["verifier.key"] = verifier_key(ORIGIN, KEY.public).encode() + b"\n"
    return files


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, data in golden_files().items():
        (GOLDEN / name).write_bytes(data)
