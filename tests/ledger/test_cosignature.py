"""C2SP cosignature/v1 lines, and the witness cosignatures `verify --witness-key` requires."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zipfile
from pathlib import Path

import pytest

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import LedgerError, VerificationError
from gatekeeper.ledger import checkpoint_from_json, sign_checkpoint, verify_bundle
from gatekeeper.ledger.cosignature import (
    cosign,
    cosigned_message,
    cosigner_key_hash,
    cosigner_vkey,
    parse_cosignature,
    witnessed_by,
)
from gatekeeper.ledger.testing import write_rotated_bundle
from tests.ledger.test_key_chain import FIRST, SECOND, _rewrite

NOTE = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
WITNESS = SigningKey.from_seed(b"\x05" * 32)
OTHER = SigningKey.from_seed(b"\x06" * 32)


def test_the_signed_message_and_key_id_follow_the_spec() -> None:
    """The message is the header, the time line and the whole note; the key ID hashes the
    name, a newline, 0x04 and the raw key."""
    assert cosigned_message(NOTE, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + NOTE.encode()
    )
    expected = hashlib.sha256(b"w.example/1\n\x04" + WITNESS.public.raw()).digest()[:4]
    assert cosigner_key_hash("w.example/1", WITNESS.public) == expected
    name, key_hash, encoded = cosigner_vkey("w.example/1", WITNESS.public).split("+", 2)
    assert (name, key_hash) == ("w.example/1", expected.hex())
    assert base64.b64decode(encoded) == b"\x04" + WITNESS.public.raw()


def test_a_cosignature_line_round_trips_and_verifies() -> None:
    """A line holds key ID, big-endian time and signature, and verifies only for its key."""
    line = cosign(NOTE, "w.example/1", WITNESS, 1679315147).line()
    assert line.startswith("\u2014 w.example/1 ")
    assert line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    parsed = parse_cosignature(line)
    assert parsed.verifies(NOTE, WITNESS.public)
    assert not parsed.verifies(NOTE, OTHER.public)
    assert not parsed.verifies(NOTE.replace("2085", "2086"), WITNESS.public)
    witnesses = {WITNESS.key_id: WITNESS.public, OTHER.key_id: OTHER.public}
    assert witnessed_by(NOTE, [parsed], witnesses) == {WITNESS.key_id}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("- w AAAA", "not a cosignature line"),
        ("\u2014 w", "not a cosignature line"),
        ("\u2014 w+x AAAA", "has a space or '\\+'"),
        ("\u2014 w ***", "is not valid base64"),
        ("\u2014 w " + base64.b64encode(b"\0" * 10).decode(), "is 10 bytes, not 76"),
        (
            "\u2014 w " + base64.b64encode(b"\0" * 4 + b"\xff" * 8 + b"\0" * 64).decode(),
            "has a time beyond 2\\*\\*63 - 1",
        ),
    ],
)
def test_a_bad_cosignature_line_is_refused_with_a_sentence(line: str, message: str) -> None:
    """Each malformed line is refused, naming what is wrong."""
    with pytest.raises(VerificationError, match=message):
        parse_cosignature(line)


def test_cosigning_refuses_bad_names_and_times() -> None:
    """A name with a space or '+', or a time outside 0..2**63-1, is a programming error."""
    with pytest.raises(LedgerError, match="cosigner name"):
        cosign(NOTE, "a b", WITNESS, 1)
    with pytest.raises(LedgerError, match="timestamp"):
        cosign(NOTE, "w", WITNESS, -1)


def _verify(path: Path, *keys: SigningKey, required: int | None = None) -> list[str]:
    report = verify_bundle(
        path,
        pinned_key_pem=FIRST.public.public_pem().encode(),
        witness_keys={key.key_id: key.public for key in keys},
        witnesses=required,
    )
    return [failure.describe() for failure in report.failures]


def test_verify_requires_the_witness_cosignatures_it_is_given(tmp_path: Path) -> None:
    """All given witness keys must have cosigned the bundle's checkpoint unless --witnesses
    asks for fewer."""
    path = tmp_path / "witnessed.zip"
    write_rotated_bundle(path, (FIRST, SECOND), witnesses=(WITNESS,))
    report = verify_bundle(
        path,
        pinned_key_pem=FIRST.public.public_pem().encode(),
        witness_keys={WITNESS.key_id: WITNESS.public},
    )
    assert report.ok, report.failures
    assert report.witnessed_by == (WITNESS.key_id,)
    [message] = _verify(path, WITNESS, OTHER)
    assert message == (
        "witnesses.json: 1 of the 2 witness keys cosigned the bundle's checkpoint (size 5), 2 "
        f"required; not cosigned by {OTHER.key_id[:16]}... (export with witnessed=true for the "
        "newest cosigned one)"
    )
    assert _verify(path, WITNESS, OTHER, required=1) == []


def test_a_bundle_without_cosignatures_fails_when_witnesses_are_required(tmp_path: Path) -> None:
    """No witnesses.json: zero of the witness keys cosigned, one FAIL line."""
    path = tmp_path / "plain.zip"
    write_rotated_bundle(path, (FIRST, SECOND))
    [message] = _verify(path, WITNESS)
    assert message.startswith("witnesses.json: 0 of the 1 witness keys cosigned")


def test_malformed_or_misplaced_cosignatures_fail(tmp_path: Path) -> None:
    """A witnesses.json of the wrong shape, with a bad line or for another size is named."""
    path = tmp_path / "witnessed.zip"
    write_rotated_bundle(path, (FIRST, SECOND), witnesses=(WITNESS,))
    with zipfile.ZipFile(path) as archive:
        value = json.loads(archive.read("witnesses.json"))
    cases = {
        "shape": ([], 'expected {"size", "cosignatures"}'),
        "lines": ({**value, "cosignatures": [1]}, "the cosignatures are not a list of signature"),
        "line": ({**value, "cosignatures": ["nope"]}, "not a cosignature line"),
        "size": ({**value, "size": 4}, "the cosignatures are of size 4, not the bundle's"),
    }
    for name, (content, message) in cases.items():
        target = _rewrite(path, tmp_path / f"{name}.zip", "witnesses.json", json.dumps(content))
        messages = _verify(target, WITNESS)
        assert any(m.startswith("witnesses.json: ") and message in m for m in messages), name


def test_without_a_checkpoint_only_the_checkpoint_fails(tmp_path: Path) -> None:
    """An unreadable checkpoint is reported once; the witnesses are not checked against it."""
    path = tmp_path / "witnessed.zip"
    write_rotated_bundle(path, (FIRST, SECOND), witnesses=(WITNESS,))
    target = _rewrite(path, tmp_path / "nocp.zip", "checkpoint.json", b"{}")
    assert not any(m.startswith("witnesses.json") for m in _verify(target, WITNESS))


def test_the_checkpoint_json_with_cosignatures_reads_as_its_checkpoint() -> None:
    """GET /v1/log/checkpoint's `cosignatures` list is not part of the signed checkpoint."""
    checkpoint = sign_checkpoint("example.com/log", 1, b"\0" * 32, FIRST)
    value = {**checkpoint.model_dump(), "cosignatures": [{"name": "w"}]}
    assert checkpoint_from_json(value) == checkpoint
