"""Reading a bundle is bounded before anything is parsed: the zip's member count, each line's
length and each JSON value's depth; a refusal names the bundle or the member."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import InputError
from gatekeeper.ledger import verify_bundle
from gatekeeper.ledger.bundle._state import MAX_JSON_DEPTH, MAX_MEMBERS
from gatekeeper.ledger.testing import write_sample_bundle

KEY = SigningKey.from_seed(b"\x42" * 32)


def _zip_of(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for number in range(count):
            archive.writestr(f"m{number}", b"")
    return path


def test_a_zip_of_many_members_is_refused_before_its_directory_is_read(tmp_path: Path) -> None:
    """A zip declaring more members than a bundle has is one input error naming the count."""
    path = _zip_of(tmp_path / "many.zip", MAX_MEMBERS + 1)
    with pytest.raises(InputError, match=f"declares {MAX_MEMBERS + 1} members; a bundle has"):
        verify_bundle(path)


def test_a_zip64_member_count_is_read_from_its_zip64_record(tmp_path: Path) -> None:
    """A zip of more than 65,535 members (zip64) is refused by its real count; with its zip64
    record damaged, by the 65,535 the plain record holds."""
    path = _zip_of(tmp_path / "zip64.zip", 70_000)
    with pytest.raises(InputError, match="declares 70000 members"):
        verify_bundle(path)
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    (record_at,) = struct.unpack_from("<Q", data, end - 20 + 8)
    data[record_at : record_at + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="declares 65535 members"):
        verify_bundle(path)


@pytest.mark.parametrize(
    "content",
    [b"not a zip at all", b"junk" * 10 + b"PK\x05\x06\x00\x00", b""],
    ids=["no-end-record", "cut-end-record", "empty"],
)
def test_files_that_are_not_zips_are_still_named(tmp_path: Path, content: bytes) -> None:
    """A file with no (or a cut) end-of-directory record is named as not a bundle zip."""
    path = tmp_path / "junk.zip"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a readable bundle zip"):
        verify_bundle(path)


def test_an_unreadable_path_is_named(tmp_path: Path) -> None:
    """A folder given as the bundle is one input error, not a traceback."""
    with pytest.raises(InputError, match="not a readable bundle zip"):
        verify_bundle(tmp_path)


def test_an_empty_zip_is_read_and_its_missing_members_named(tmp_path: Path) -> None:
    """A zip with no members passes the count and fails on what it lacks."""
    path = _zip_of(tmp_path / "empty.zip", 0)
    report = verify_bundle(path)
    assert any(f.member == "records.jsonl" and "missing" in f.message for f in report.failures)


def _members(tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "bundle.zip"
    write_sample_bundle(path, 3, KEY)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_deep_json_is_one_fail_line_naming_the_member(tmp_path: Path) -> None:
    """A record nesting deeper than the limit, and a checkpoint doing so, each fail with one
    line naming where, without being parsed."""
    members = _members(tmp_path)
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    lines = members["records.jsonl"].split(b"\n")
    lines[1] = b'{"envelope": ' + deep + b"}"
    members["records.jsonl"] = b"\n".join(lines)
    members["checkpoint.json"] = b'{"size": ' + deep + b"}"
    report = verify_bundle(_write(tmp_path / "deep.zip", members), pinned_key_pem=None)
    sentence = f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
    assert [f.record for f in report.failures if sentence in f.message] == [None, 2]
    assert {f.member for f in report.failures if sentence in f.message} == {
        "checkpoint.json",
        "records.jsonl",
    }


def test_brackets_inside_strings_do_not_count_as_depth(tmp_path: Path) -> None:
    """Many brackets and escaped quotes inside a string are text, not nesting: the member is
    read (only its changed digest is named)."""
    members = _members(tmp_path)
    keys = json.loads(members["keys.json"])
    keys["note"] = '[{"' * 40 + "\\" + "]}"
    members["keys.json"] = json.dumps(keys).encode()
    report = verify_bundle(_write(tmp_path / "strings.zip", members))
    assert [f.message for f in report.failures] == [
        "the member's SHA-256 differs from the signed manifest"
    ]
