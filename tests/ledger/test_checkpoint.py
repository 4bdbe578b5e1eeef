"""Signed checkpoints: the C2SP checkpoint body, its signature, and the signed-note form."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import VerificationError
from gatekeeper.ledger.checkpoint import (
    Checkpoint,
    checkpoint_from_json,
    checkpoint_from_note,
    note_key_hash,
    parse_note,
    parse_signed_note,
    parse_verifier_key,
    sign_checkpoint,
    signed_note_text,
    verifier_key,
    verify_checkpoint,
    verify_signed_note,
)

ORIGIN = "gatekeeper.example/log"
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
KEY = SigningKey.from_seed(b"\x03" * 32)


def _plus_key() -> SigningKey:
    """The first deterministic key whose verifier-key base64 holds a '+'."""
    for number in range(256):
        key = SigningKey.from_seed(bytes([number]) * 32)
        if "+" in verifier_key(ORIGIN, key.public).split("+", 2)[2]:
            return key
    raise AssertionError("no such key among 256 seeds")  # pragma: no cover


def test_the_note_is_the_c2sp_checkpoint_body() -> None:
    """The note is origin, decimal size and base64 root hash, each ending in a newline."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    assert checkpoint.note == f"gatekeeper.example/log\n8\n{base64.b64encode(ROOT).decode()}\n"
    assert checkpoint.size == 8
    assert checkpoint.root_hash == ROOT.hex()
    assert checkpoint.key_id == KEY.key_id
    assert base64.b64decode(checkpoint.signature) == KEY.sign(checkpoint.note.encode())
    assert parse_note(checkpoint.note) == (ORIGIN, 8, ROOT)
    assert checkpoint.origin() == ORIGIN
    assert checkpoint.root() == ROOT


def test_a_signed_checkpoint_verifies() -> None:
    """The checkpoint verifies with its key and round-trips through JSON."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    verify_checkpoint(checkpoint, KEY.public)
    assert checkpoint_from_json(checkpoint.model_dump()) == checkpoint


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"size": 9}, "differs from its signed note"),
        ({"root_hash": "00" * 32}, "differs from its signed note"),
        (
            {"note": "gatekeeper.example/log\n9\nXcnaeacGWamtVZy3Ad7Zoqudgjqtn0lgz+Nw7/ZgQyg=\n"},
            "signature does not match",
        ),
        ({"signature": base64.b64encode(b"\x00" * 64).decode()}, "signature does not match"),
        ({"signature": base64.b64encode(b"\x00" * 63).decode()}, "signature does not match"),
        ({"signature": "!!"}, "not valid base64"),
        ({"key_id": "ab" * 32}, "signed by key abababab"),
    ],
)
def test_tampered_checkpoints_fail(change: dict[str, object], sentence: str) -> None:
    """Any change to a signed checkpoint's fields is caught and named."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY).model_copy(update=change)
    with pytest.raises(VerificationError, match=sentence):
        verify_checkpoint(checkpoint, KEY.public)


def test_another_key_is_refused() -> None:
    """A checkpoint does not verify with a key that did not sign it."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    other = SigningKey.from_seed(b"\x04" * 32)
    with pytest.raises(VerificationError, match="not"):
        verify_checkpoint(checkpoint, other.public)


@pytest.mark.parametrize(
    ("note", "sentence"),
    [
        ("o\n1\nAAAA\n", "has 3 bytes, not 32"),
        ("o\n1\n", "needs an origin, a size and a root hash"),
        ("o\n01\n" + base64.b64encode(ROOT).decode() + "\n", "not a decimal number"),
        ("o\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "not a decimal number"),
        ("o\n1\n" + base64.b64encode(ROOT).decode(), "does not end with a newline"),
        (" o\n1\n" + base64.b64encode(ROOT).decode() + "\n", "padded origin"),
        ("o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n", "empty extension line"),
    ],
)
def test_bad_notes_are_refused(note: str, sentence: str) -> None:
    """A checkpoint body that is not the C2SP layout is refused with a sentence."""
    with pytest.raises(VerificationError, match=sentence):
        parse_note(note)


def test_extension_lines_are_allowed() -> None:
    """C2SP allows extension lines after the root hash."""
    note = f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\nextra line\n"
    assert parse_note(note) == (ORIGIN, 3, ROOT)


def test_bad_checkpoint_json_is_refused() -> None:
    """A JSON object that is not a checkpoint is refused, naming the field."""
    value = sign_checkpoint(ORIGIN, 8, ROOT, KEY).model_dump()
    with pytest.raises(VerificationError, match="root_hash"):
        checkpoint_from_json({**value, "root_hash": "XY"})
    with pytest.raises(VerificationError, match="size"):
        checkpoint_from_json({**value, "size": "eight"})


def test_origins_with_spaces_are_refused() -> None:
    """A log origin cannot contain spaces or '+', which the note format reserves."""
    with pytest.raises(ValueError, match="origin"):
        sign_checkpoint("my log", 1, ROOT, KEY)


def test_the_note_key_hash_follows_the_signed_note_spec() -> None:
    """Key hash = first 4 bytes of SHA-256(name || 0x0A || 0x01 || raw public key)."""
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + KEY.public.raw()).digest()[:4]
    assert note_key_hash(ORIGIN, KEY.public) == expected


def test_signed_note_round_trip() -> None:
    """The signed-note text verifies with the verifier key and gives back the checkpoint."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    text = signed_note_text(checkpoint, ORIGIN, KEY.public)
    body, signatures = parse_signed_note(text)
    assert body == checkpoint.note
    assert (
        text
        == f"{checkpoint.note}\n\u2014 {ORIGIN} "
        + base64.b64encode(
            note_key_hash(ORIGIN, KEY.public) + base64.b64decode(checkpoint.signature)
        ).decode()
        + "\n"
    )
    assert signatures == [
        (ORIGIN, note_key_hash(ORIGIN, KEY.public), base64.b64decode(checkpoint.signature))
    ]
    assert verify_signed_note(text, verifier_key(ORIGIN, KEY.public)) == (ORIGIN, 8, ROOT)


def test_a_verifier_key_with_plus_in_its_base64_works() -> None:
    """A verifier key whose base64 contains '+' parses and verifies (split on the first two)."""
    key = _plus_key()
    vkey = verifier_key(ORIGIN, key.public)
    assert vkey.count("+") > 2
    name, parsed = parse_verifier_key(vkey)
    assert (name, parsed) == (ORIGIN, key.public)
    text = signed_note_text(sign_checkpoint(ORIGIN, 3, ROOT, key), ORIGIN, key.public)
    assert verify_signed_note(text, vkey) == (ORIGIN, 3, ROOT)


def test_signed_notes_by_other_keys_or_tampered_fail() -> None:
    """A note signed by another key, or with a changed body, is refused."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    text = signed_note_text(checkpoint, ORIGIN, KEY.public)
    other = SigningKey.from_seed(b"\x05" * 32)
    with pytest.raises(VerificationError, match="no signature by the verifier key"):
        verify_signed_note(text, verifier_key(ORIGIN, other.public))
    with pytest.raises(VerificationError, match="does not match its text"):
        verify_signed_note(text.replace("\n8\n", "\n9\n"), verifier_key(ORIGIN, KEY.public))
    with pytest.raises(VerificationError, match="no blank line"):
        verify_signed_note(checkpoint.note, verifier_key(ORIGIN, KEY.public))
    with pytest.raises(VerificationError, match="signature line"):
        verify_signed_note(
            checkpoint.note + "\nnot a signature\n", verifier_key(ORIGIN, KEY.public)
        )
    with pytest.raises(VerificationError, match="too short"):
        verify_signed_note(checkpoint.note + "\n\u2014 o AAAA\n", verifier_key(ORIGIN, KEY.public))


@pytest.mark.parametrize(
    ("vkey", "sentence"),
    [
        ("nohash", "expected <name>"),
        ("name+zzzzzzzz+AAAA", "expected <name>"),
        ("name+00000000+AgAA", "not an Ed25519"),
        ("name+00000000+AQAA", "unusable"),
        ("name+00000000+!!", "not valid base64"),
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str, sentence: str) -> None:
    """Malformed verifier keys are refused with a sentence."""
    with pytest.raises(VerificationError, match=sentence):
        parse_verifier_key(vkey)


def test_a_verifier_key_with_a_wrong_hash_is_refused() -> None:
    """The 4-byte hash in a verifier key must match its name and key."""
    _name, key_hash, encoded = verifier_key(ORIGIN, KEY.public).split("+", 2)
    with pytest.raises(VerificationError, match="hash does not match"):
        parse_verifier_key(f"other.example+{key_hash}+{encoded}")


def test_signed_note_text_checks_its_arguments() -> None:
    """The signed-note form needs the checkpoint's own origin and key."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    with pytest.raises(ValueError, match="origin differs"):
        signed_note_text(checkpoint, "other", KEY.public)
    with pytest.raises(ValueError, match="not the one that signed"):
        signed_note_text(checkpoint, ORIGIN, SigningKey.from_seed(b"\x06" * 32).public)


def test_checkpoint_is_frozen() -> None:
    """Checkpoints are immutable values."""
    checkpoint: Checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    with pytest.raises(ValueError, match="frozen"):
        checkpoint.size = 9  # type: ignore[misc]


def test_a_note_whose_origin_is_not_the_key_name_is_refused() -> None:
    """A note signed under one name but naming another origin is refused."""
    checkpoint = sign_checkpoint(ORIGIN, 8, ROOT, KEY)
    name = "other.example/log"
    raw = note_key_hash(name, KEY.public) + base64.b64decode(checkpoint.signature)
    text = f"{checkpoint.note}\n\u2014 {name} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(VerificationError, match="is not the key name"):
        verify_signed_note(text, verifier_key(name, KEY.public))


def test_a_signed_note_reads_back_as_the_checkpoint() -> None:
    """The signed-note text of a checkpoint gives the same checkpoint back with its key."""
    other = SigningKey.from_seed(b"\x44" * 32)
    checkpoint = sign_checkpoint("example.com/log", 7, bytes(range(32)), KEY)
    text = signed_note_text(checkpoint, "example.com/log", KEY.public)
    assert checkpoint_from_note(text, [other.public, KEY.public]) == checkpoint
    with pytest.raises(VerificationError, match="no signature by a pinned key"):
        checkpoint_from_note(text, [other.public])
    renamed = text.replace("\u2014 example.com/log ", "\u2014 elsewhere ")
    with pytest.raises(VerificationError, match="no signature by a pinned key"):
        checkpoint_from_note(renamed, [KEY.public])
