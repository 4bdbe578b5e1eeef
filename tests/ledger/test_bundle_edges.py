"""Bundle verification on hand-made malformed bundles: every odd shape is named, none crashes."""

from __future__ import annotations

import base64
import json
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.dsse import sign_envelope
from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import InputError
from gatekeeper.ledger import (
    BundleFailure,
    BundleReport,
    bundle_checkpoint,
    sign_checkpoint,
    verify_bundle,
)
from gatekeeper.ledger.bundle import MANIFEST_PAYLOAD_TYPE, _records, _state
from gatekeeper.ledger.testing import ORIGIN, write_sample_bundle

KEY = SigningKey.from_seed(b"\x41" * 32)
COUNT = 9


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("edges") / "bundle.zip"
    write_sample_bundle(path, COUNT, KEY, since_size=4)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def make(tmp_path: Path) -> Callable[..., Path]:
    """Write a bundle zip from members, returning its path."""
    counter = iter(range(1000))

    def _make(members: dict[str, bytes]) -> Path:
        path = tmp_path / f"b{next(counter)}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return path

    return _make


def _with_line(
    members: dict[str, bytes], member: str, number: int, line: bytes
) -> dict[str, bytes]:
    lines = members[member].split(b"\n")
    lines[number - 1] = line
    return {**members, member: b"\n".join(lines)}


def _messages(report: BundleReport, record: int | None = None) -> list[str]:
    return [f.message for f in report.failures if record is None or f.record == record]


def _resigned_manifest(members: dict[str, bytes], **changes: object) -> bytes:
    envelope = json.loads(members["manifest.json"])
    manifest = json.loads(base64.b64decode(envelope["payload"]))
    manifest.update(changes)
    signed = sign_envelope(canonical_json(manifest), KEY, payload_type=MANIFEST_PAYLOAD_TYPE)
    return canonical_json(signed.to_json_dict()) + b"\n"


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (b"[]", "the line is not a JSON object"),
        (b'{"id": 1}', "the record's fields are wrong"),
        (b"{", "invalid JSON"),
    ],
)
def test_records_that_are_not_records_are_named(
    members: dict[str, bytes], make: Callable[..., Path], line: bytes, sentence: str
) -> None:
    """A record line that is not a record object is named with what is wrong."""
    report = verify_bundle(make(_with_line(members, "records.jsonl", 3, line)))
    assert any(sentence in m for m in _messages(report, 3))


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("log_index", -1, "log_index: not of the record's type (a non-negative integer)"),
        ("log_index", True, "log_index: not of the record's type (a non-negative integer)"),
        ("project", 5, "id, project or integrated_at: not of the record's type (strings)"),
        (
            "leaf_hash",
            "AB" * 32,
            "leaf_hash: not of the record's type (64 lowercase hex characters)",
        ),
        ("envelope", [], "envelope: not of the record's type (an object)"),
    ],
)
def test_record_fields_of_the_wrong_type_are_named(
    members: dict[str, bytes], make: Callable[..., Path], field: str, value: object, sentence: str
) -> None:
    """A record field of the wrong type is named."""
    record = json.loads(members["records.jsonl"].split(b"\n")[1])
    record[field] = value
    report = verify_bundle(
        make(_with_line(members, "records.jsonl", 2, json.dumps(record).encode()))
    )
    assert sentence in _messages(report, 2)


def test_odd_envelopes_are_named_and_still_hashed(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """An envelope with an extra field, or a lone surrogate, fails with a sentence."""
    record = json.loads(members["records.jsonl"].split(b"\n")[0])
    record["envelope"]["extra"] = 1.5
    report = verify_bundle(
        make(_with_line(members, "records.jsonl", 1, json.dumps(record).encode()))
    )
    assert any("envelope: the envelope is not" in m for m in _messages(report, 1))
    assert "leaf_hash is not the hash of the envelope" in _messages(report, 1)
    record["envelope"] = {"payloadType": "\\udc00", "payload": "", "signatures": []}
    line = json.dumps(record).encode().replace(b"\\\\udc00", b"\\udc00")
    report = verify_bundle(make(_with_line(members, "records.jsonl", 1, line)))
    assert any("lone surrogate" in m for m in _messages(report, 1))


def test_proof_lines_in_other_json_forms_still_verify(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A proof line written with spaces (not the canonical form) is read by the JSON reader."""
    proof = json.loads(members["proofs.jsonl"].split(b"\n")[4])
    spaced = json.dumps(proof, indent=1).replace("\n", " ").encode()
    report = verify_bundle(make(_with_line(members, "proofs.jsonl", 5, spaced)))
    assert report.failed_records() == set()


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"index": 0}, "the proof is for log index 0"),
        ({"size": 99}, "the proof is to tree size 99, not 9"),
        ({"hashes": ["AB" * 32]}, "not 64 lowercase hex characters each"),
        ({"extra": 1}, 'the proof is not {"index", "size", "hashes"}'),
        ({"hashes": []}, "the inclusion proof has 0 hashes"),
    ],
)
def test_wrong_proofs_are_named(
    members: dict[str, bytes], make: Callable[..., Path], change: dict[str, object], sentence: str
) -> None:
    """A proof for another index or size, or of the wrong shape, names its record."""
    proof = json.loads(members["proofs.jsonl"].split(b"\n")[5])
    line = json.dumps({**proof, **change}).encode()
    report = verify_bundle(make(_with_line(members, "proofs.jsonl", 6, line)))
    assert any(sentence in m for m in _messages(report, 6)), report.failures


def test_a_bundle_without_final_newline_verifies_its_last_record(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """The last line is read even without a newline (and the manifest then names the change)."""
    stripped = {name: data.rstrip(b"\n") for name, data in members.items()}
    report = verify_bundle(make(stripped))
    assert report.records == COUNT
    assert report.failed_records() == set()


@pytest.mark.parametrize(
    ("keys", "sentence"),
    [
        (b"[]", 'expected {"keys": [...]}'),
        (b'{"keys": [{"key_id": "x"}]}', "key 1 is unusable"),
        (b'{"keys": [{"key_id": "x", "public_key_pem": "junk"}]}', "key 1 is unusable"),
    ],
)
def test_bad_keys_files_are_named(
    members: dict[str, bytes], make: Callable[..., Path], keys: bytes, sentence: str
) -> None:
    """A keys.json of the wrong shape or with unusable keys is named."""
    report = verify_bundle(make({**members, "keys.json": keys}))
    assert any(sentence in f.message for f in report.failures if f.member == "keys.json")


def test_a_key_id_that_is_not_the_keys_hash_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A key published under another key id is refused."""
    keys = json.loads(members["keys.json"])
    keys["keys"][0]["key_id"] = "00" * 32
    report = verify_bundle(make({**members, "keys.json": json.dumps(keys).encode()}))
    assert "key 1: key_id is not the SHA-256 of its key" in _messages(report)


def test_a_checkpoint_file_that_is_not_a_checkpoint_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """checkpoint.json of the wrong shape is named, and the records are still checked."""
    report = verify_bundle(make({**members, "checkpoint.json": b'{"size": 9}'}))
    assert any(
        f.member == "checkpoint.json" and "not a checkpoint" in f.message for f in report.failures
    )
    with pytest.raises(InputError, match=r"checkpoint\.json cannot be read"):
        bundle_checkpoint(make({**members, "checkpoint.json": b"{}"}))


def test_an_unknown_bundle_format_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A manifest of another format version is refused even when correctly signed."""
    manifest = _resigned_manifest(members, format="gatekeeper-bundle/99")
    report = verify_bundle(make({**members, "manifest.json": manifest}))
    assert "unknown bundle format 'gatekeeper-bundle/99'" in _messages(report)


def test_a_manifest_for_another_checkpoint_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A signed manifest naming another checkpoint than checkpoint.json is refused."""
    manifest = _resigned_manifest(members, checkpoint={"size": 1, "root_hash": "00", "key_id": "k"})
    report = verify_bundle(make({**members, "manifest.json": manifest}))
    assert "names another checkpoint than checkpoint.json" in _messages(report)


def test_a_bad_bundled_consistency_proof_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """consistency.json with malformed hashes is named; the old checkpoint is then unproven."""
    consistency = json.loads(members["consistency.json"])
    consistency["hashes"] = ["XY"]
    path = make({**members, "consistency.json": json.dumps(consistency).encode()})
    checkpoint = bundle_checkpoint(path)
    old = sign_checkpoint(ORIGIN, 4, checkpoint.root(), KEY)
    report = verify_bundle(path, old_checkpoint=old)
    assert any(f.member == "consistency.json" for f in report.failures)


def test_a_corrupt_member_header_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A member whose zip header is damaged is named as corrupt; the rest is still checked."""
    path = make(members)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo("proofs.jsonl").header_offset
    data[offset : offset + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    report = verify_bundle(path)
    assert any(f.member == "proofs.jsonl" and "corrupt" in f.message for f in report.failures)
    assert any("no inclusion proof" in m for m in _messages(report, 1))


def test_many_chunks_in_two_workers_keep_their_order(
    members: dict[str, bytes], make: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more chunks than workers in flight, results still come back in record order."""
    monkeypatch.setattr(_records, "_CHUNK", 2)
    path = make(_with_line(members, "records.sha256", 8, b"00"))
    report = verify_bundle(path, workers=2)
    assert report.records == COUNT
    assert report.failed_records() == {8}


def test_a_threaded_caller_gets_spawned_workers(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """In a process with threads the workers are spawned, not forked, and still verify."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert verify_bundle(make(members), workers=2).ok
    finally:
        stop.set()
        thread.join()


def test_a_checkpoint_with_a_bad_signature_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A checkpoint whose signature does not match its note is named."""
    checkpoint = json.loads(members["checkpoint.json"])
    checkpoint["signature"] = base64.b64encode(bytes(64)).decode()
    report = verify_bundle(make({**members, "checkpoint.json": json.dumps(checkpoint).encode()}))
    assert any(
        f.member == "checkpoint.json" and "signature does not match" in f.message
        for f in report.failures
    )


def test_a_bundle_without_records_is_named(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A bundle with no records.jsonl names the missing member."""
    report = verify_bundle(make({k: v for k, v in members.items() if k != "records.jsonl"}))
    assert report.records == 0
    assert any(f.member == "records.jsonl" and "missing" in f.message for f in report.failures)


def test_failures_without_an_id_are_described_by_line() -> None:
    """A failure of an unreadable record names only its line number."""
    failure = BundleFailure(member="records.jsonl", message="invalid JSON", record=3)
    assert failure.describe() == "record 3: invalid JSON"


def test_two_members_of_one_name_are_named(members: dict[str, bytes], tmp_path: Path) -> None:
    """A zip holding a second records.jsonl (tools disagree on which is read) fails."""
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("records.jsonl", members["records.jsonl"])
    report = verify_bundle(path)
    assert any("more than one member of this name" in f.message for f in report.failures)


def test_oversized_members_and_lines_are_refused(
    members: dict[str, bytes], make: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge keys.json or a huge line is refused before it is read into memory."""
    monkeypatch.setattr(_state, "MAX_MEMBER_BYTES", 100)
    monkeypatch.setattr(_records, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(_records, "_BLOCK", 64)
    report = verify_bundle(make(members))
    assert any(f.member == "keys.json" and "more than 100" in f.message for f in report.failures)
    assert any("a line is longer than 100 bytes" in f.message for f in report.failures)


def _flag_member(path: Path, member: str, *, encrypted: bool = False, method: int = 0) -> Path:
    """Set the encryption bit or a compression method on `member`'s local and central headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # signature, offset of the flags, of the method, of the name length, of the name
    headers = ((b"PK\x03\x04", 6, 8, 26, 30), (b"PK\x01\x02", 8, 10, 28, 46))
    for signature, flags, method_at, length_at, name_at in headers:
        start = 0
        while (at := data.find(signature, start)) >= 0:
            length = int.from_bytes(data[at + length_at : at + length_at + 2], "little")
            if data[at + name_at : at + name_at + length] == name:
                if encrypted:
                    data[at + flags] |= 1
                if method:
                    data[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
            start = at + 4
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("member", ["checkpoint.json", "records.jsonl", "manifest.json"])
def test_an_encrypted_or_oddly_compressed_member_is_one_fail_line(
    members: dict[str, bytes], make: Callable[..., Path], member: str
) -> None:
    """An encrypted member or an unknown compression gives one FAIL naming it, not a crash."""
    encrypted = verify_bundle(_flag_member(make(members), member, encrypted=True))
    assert [f.message for f in encrypted.failures if f.member == member] == [
        "the member is encrypted (a bundle never is); it was not read"
    ]
    compressed = verify_bundle(_flag_member(make(members), member, method=99))
    assert [f.message for f in compressed.failures if f.member == member] == [
        "the member uses compression method 99, not stored or deflate; it was not read"
    ]


def test_a_duplicate_encrypted_member_is_named_once(
    members: dict[str, bytes], tmp_path: Path
) -> None:
    """Two encrypted members of one name give one encryption FAIL line for that name."""
    path = tmp_path / "twice.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("README.md", b"again")
    report = verify_bundle(_flag_member(path, "README.md", encrypted=True))
    messages = [f.message for f in report.failures if f.member == "README.md"]
    assert messages.count("the member is encrypted (a bundle never is); it was not read") == 1


def test_a_huge_integer_is_one_fail_line_naming_the_member(
    members: dict[str, bytes], make: Callable[..., Path]
) -> None:
    """A JSON integer of thousands of digits fails the member it is in with a sentence."""
    report = verify_bundle(make({**members, "checkpoint.json": b'{"size": ' + b"9" * 5000 + b"}"}))
    assert any(
        f.member == "checkpoint.json" and "(5000 digits) is beyond 2^53-1" in f.message
        for f in report.failures
    )
