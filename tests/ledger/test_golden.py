"""The bundle format, byte for byte, against golden files (a fixed key signs deterministically)."""

from __future__ import annotations

import pytest

from gatekeeper.ledger.checkpoint import verify_signed_note
from tests.ledger.golden import GOLDEN, golden_files


@pytest.mark.parametrize("name", sorted(golden_files()))
def test_bundle_members_match_the_golden_files(name: str) -> None:
    """Each member is exactly the golden one; regenerate with `python -m tests.ledger.golden`."""
    assert golden_files()[name] == (GOLDEN / name).read_bytes()


def test_the_golden_signed_note_verifies_with_the_golden_verifier_key() -> None:
    """The stored C2SP signed note verifies with the stored verifier key."""
    note = (GOLDEN / "checkpoint.note").read_text()
    vkey = (GOLDEN / "verifier.key").read_text().strip()
    origin, size, _root = verify_signed_note(note, vkey)
    assert (origin, size) == ("gatekeeper.test/log", 3)
