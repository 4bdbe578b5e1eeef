"""Export bundles: writing, offline verification, and random tampering that must be named."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.attest.keys import SigningKey
from gatekeeper.errors import InputError
from gatekeeper.ledger import (
    BundleReport,
    BundleWriter,
    MemoryTree,
    bundle_checkpoint,
    sign_checkpoint,
    verifier_key,
    verify_bundle,
)
from gatekeeper.ledger.testing import ORIGIN, keys_document, sample_records, write_sample_bundle

KEY = SigningKey.from_seed(b"\x11" * 32)
COUNT = 50
SINCE = 20
LINE_MEMBERS = ("records.jsonl", "proofs.jsonl", "records.sha256")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MemoryTree]:
    path = tmp_path_factory.mktemp("bundle") / "bundle.zip"
    tree, _checkpoint = write_sample_bundle(path, COUNT, KEY, since_size=SINCE)
    return path, tree


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _named(report: BundleReport, member: str) -> bool:
    return any(failure.member == member for failure in report.failures)


def test_a_fresh_bundle_verifies(built: tuple[Path, MemoryTree]) -> None:
    """Every record of a freshly written bundle verifies against its checkpoint."""
    path, tree = built
    report = verify_bundle(path)
    assert report.ok, report.failures
    assert report.records == COUNT
    assert report.checkpoint is not None
    assert report.checkpoint.root_hash == tree.root().hex()
    assert bundle_checkpoint(path) == report.checkpoint


def test_the_bundle_holds_the_designed_members(built: tuple[Path, MemoryTree]) -> None:
    """The zip holds records, proofs, digests, checkpoint, keys, consistency, README, manifest."""
    members = _members(built[0])
    assert list(members) == [
        "records.jsonl",
        "proofs.jsonl",
        "records.sha256",
        "checkpoint.json",
        "keys.json",
        "consistency.json",
        "README.md",
        "manifest.json",
    ]
    assert members["records.jsonl"].count(b"\n") == COUNT
    assert b"gatekeeper verify" in members["README.md"]


def test_a_pinned_key_is_enforced(built: tuple[Path, MemoryTree]) -> None:
    """With --key the checkpoint, the manifest and every record must be signed by that key."""
    path, _tree = built
    assert verify_bundle(path, pinned_key_pem=KEY.public.public_pem().encode()).ok
    stranger = SigningKey.from_seed(b"\x12" * 32).public.public_pem().encode()
    report = verify_bundle(path, pinned_key_pem=stranger)
    assert _named(report, "checkpoint.json")
    assert _named(report, "manifest.json")
    assert report.failed_records() == set(range(1, report.records + 1))


def test_a_verifier_key_line_can_be_pinned(built: tuple[Path, MemoryTree]) -> None:
    """--key also takes the C2SP verifier key line (`origin+hash+base64`) instead of a PEM."""
    line = verifier_key(ORIGIN, KEY.public).encode() + b"\n"
    report = verify_bundle(built[0], pinned_key_pem=line)
    assert report.ok
    assert report.pinned_key_ids == (KEY.key_id,)
    with pytest.raises(InputError, match="--key: not a verifier key"):
        verify_bundle(built[0], pinned_key_pem=b"nonsense")


def test_a_bad_pinned_key_is_an_input_error(built: tuple[Path, MemoryTree]) -> None:
    """A --key that is not an Ed25519 PEM is unreadable input, not a failed bundle."""
    with pytest.raises(InputError, match="--key"):
        verify_bundle(built[0], pinned_key_pem=b"not a key")


def test_flipping_any_byte_of_any_member_is_caught_and_named(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """A random byte changed anywhere fails verification and names the record or member."""
    members = _members(built[0])
    rng = random.Random(20261125)
    weights = {name: len(data) for name, data in members.items()}
    for trial in range(120):
        name = rng.choices(list(weights), weights=list(weights.values()))[0]
        if trial < len(members):
            name = list(members)[trial]  # every member at least once
        data = bytearray(members[name])
        position = rng.randrange(len(data))
        data[position] ^= rng.randrange(1, 256)
        path = tmp_path / f"tampered-{trial}.zip"
        _rezip(path, {**members, name: bytes(data)})
        report = verify_bundle(path)
        assert not report.ok, (name, position)
        if name in LINE_MEMBERS:
            line = members[name][:position].count(b"\n") + 1
            assert line in report.failed_records(), (name, position, report.failures)
        else:
            assert _named(report, name), (name, position, report.failures)


def test_a_changed_record_is_named_by_line_and_id(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """Changing a record's project (not signed in the envelope) still names that record."""
    members = _members(built[0])
    lines = members["records.jsonl"].split(b"\n")
    lines[6] = lines[6].replace(b'"project":"acme/widgets"', b'"project":"acme/gadgets"')
    path = tmp_path / "changed.zip"
    _rezip(path, {**members, "records.jsonl": b"\n".join(lines)})
    report = verify_bundle(path)
    assert report.failed_records() == {7}
    failure = next(f for f in report.failures if f.record == 7)
    assert failure.record_id == "rec-00000006"
    assert failure.log_index == 6
    assert failure.describe().startswith("record 7 (id rec-00000006, log index 6): ")
    assert _named(report, "records.jsonl")


def test_flipping_compressed_bytes_of_the_records_is_caught(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """A byte changed inside the zip's compressed records fails verification."""
    raw = built[0].read_bytes()
    with zipfile.ZipFile(built[0]) as archive:
        info = archive.getinfo("records.jsonl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 20
    rng = random.Random(7)
    for trial in range(20):
        data = bytearray(raw)
        data[rng.randrange(start, start + info.compress_size - 40)] ^= 0x55
        path = tmp_path / f"raw-{trial}.zip"
        path.write_bytes(bytes(data))
        assert not verify_bundle(path).ok


def test_missing_and_extra_members_are_named(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """A member removed from or added to the bundle is named."""
    members = _members(built[0])
    for name in ["records.sha256", "proofs.jsonl", "keys.json", "checkpoint.json", "README.md"]:
        path = tmp_path / f"without-{name}.zip"
        _rezip(path, {k: v for k, v in members.items() if k != name})
        assert _named(verify_bundle(path), name), name
    path = tmp_path / "extra.zip"
    _rezip(path, {**members, "extra.txt": b"hello"})
    assert _named(verify_bundle(path), "extra.txt")


def test_removed_records_are_caught(built: tuple[Path, MemoryTree], tmp_path: Path) -> None:
    """Dropping a record line (and its proof and digest) breaks the signed manifest."""
    members = _members(built[0])
    dropped = {
        name: b"".join(members[name].splitlines(keepends=True)[:-1]) for name in LINE_MEMBERS
    }
    path = tmp_path / "dropped.zip"
    _rezip(path, {**members, **dropped})
    report = verify_bundle(path)
    assert _named(report, "manifest.json")
    assert _named(report, "records.jsonl")


def test_records_without_proofs_and_duplicates_are_named(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """A record line without a proof line, and a repeated record, are named."""
    members = _members(built[0])
    records = members["records.jsonl"].splitlines(keepends=True)
    digests = members["records.sha256"].splitlines(keepends=True)
    path = tmp_path / "dup.zip"
    _rezip(
        path,
        {
            **members,
            "records.jsonl": b"".join([*records, records[3]]),
            "records.sha256": b"".join([*digests, digests[3]]),
        },
    )
    report = verify_bundle(path)
    assert COUNT + 1 in report.failed_records()
    messages = [f.message for f in report.failures if f.record == COUNT + 1]
    assert any("same log index as record 4" in m for m in messages)
    assert any("no inclusion proof" in m for m in messages)


def test_garbage_is_an_input_error(tmp_path: Path) -> None:
    """A file that is not a zip is unreadable input (exit 2), not a failed verification."""
    path = tmp_path / "garbage.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable bundle zip"):
        verify_bundle(path)
    with pytest.raises(InputError, match="not a readable bundle zip"):
        bundle_checkpoint(path)


def test_consistency_with_an_older_checkpoint(built: tuple[Path, MemoryTree]) -> None:
    """An old checkpoint is proven a prefix by the bundled or a given consistency proof."""
    path, tree = built
    old = sign_checkpoint(ORIGIN, SINCE, tree.root(SINCE), KEY)
    report = verify_bundle(path, old_checkpoint=old)
    assert report.ok, report.failures
    assert report.consistency_from == SINCE
    other = sign_checkpoint(ORIGIN, 33, tree.root(33), KEY)
    assert verify_bundle(
        path, old_checkpoint=other, consistency_proof=tree.consistency_proof(33)
    ).ok
    missing = verify_bundle(path, old_checkpoint=other)
    assert any("since_size=33" in f.message for f in missing.failures)


def test_a_forked_log_fails_consistency(built: tuple[Path, MemoryTree]) -> None:
    """An old checkpoint over different leaves (a rewritten history) fails consistency."""
    path, tree = built
    forked = MemoryTree()
    for number in range(33):
        forked.append(b"rewritten %d" % number)
    old = sign_checkpoint(ORIGIN, 33, forked.root(), KEY)
    report = verify_bundle(path, old_checkpoint=old, consistency_proof=tree.consistency_proof(33))
    assert [f.member for f in report.failures] == ["old checkpoint"]
    assert "did not only grow" in report.failures[0].message


def test_old_checkpoints_of_other_logs_or_keys_fail(built: tuple[Path, MemoryTree]) -> None:
    """An old checkpoint of another origin, or signed by an unknown key, is refused."""
    path, tree = built
    elsewhere = sign_checkpoint("other.example/log", SINCE, tree.root(SINCE), KEY)
    assert "is of log" in verify_bundle(path, old_checkpoint=elsewhere).failures[0].message
    stranger = SigningKey.from_seed(b"\x13" * 32)
    unknown = sign_checkpoint(ORIGIN, SINCE, tree.root(SINCE), stranger)
    assert "unknown key" in verify_bundle(path, old_checkpoint=unknown).failures[0].message


def test_the_writer_streams_to_an_unseekable_output(tmp_path: Path) -> None:
    """BundleWriter works on a write-only stream, as an HTTP response body is."""

    class _WriteOnly(io.RawIOBase):
        def __init__(self) -> None:
            self.buffer = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            chunk = bytes(data)  # type: ignore[call-overload]
            self.buffer += chunk
            return len(chunk)

    out = _WriteOnly()
    tree = MemoryTree()
    writer = BundleWriter(out, signing_key=KEY, exported_at="2026-02-01T00:00:00Z")
    for record in list(sample_records(5, KEY, tree)):
        writer.write_record(record, tree.inclusion_proof(record["log_index"], 5))
    assert writer.count == 5
    writer.finish(sign_checkpoint(ORIGIN, tree.size, tree.root(), KEY), keys_document(KEY))
    path = tmp_path / "streamed.zip"
    path.write_bytes(bytes(out.buffer))
    assert verify_bundle(path).ok
    with pytest.raises(ValueError, match="already finished"):
        writer.write_record({}, [])
    with pytest.raises(ValueError, match="already finished"):
        writer.finish(sign_checkpoint(ORIGIN, tree.size, tree.root(), KEY), keys_document(KEY))
    writer.close()


def test_the_writer_refuses_incomplete_records() -> None:
    """A record without the designed fields is refused before anything is written."""
    with (
        BundleWriter(io.BytesIO(), signing_key=KEY, exported_at="2026-02-01T00:00:00Z") as writer,
        pytest.raises(ValueError, match="lacks envelope"),
    ):
        writer.write_record(
            {"id": "x", "project": "p", "log_index": 0, "leaf_hash": "", "integrated_at": ""}, []
        )


def test_the_writer_refuses_a_consistency_proof_to_another_size() -> None:
    """A bundled consistency proof must end at the bundle's checkpoint size."""
    tree = MemoryTree()
    records = list(sample_records(2, KEY, tree))
    with BundleWriter(io.BytesIO(), signing_key=KEY, exported_at="2026-02-01T00:00:00Z") as writer:
        for record in records:
            writer.write_record(record, tree.inclusion_proof(record["log_index"]))
        checkpoint = sign_checkpoint(ORIGIN, tree.size, tree.root(), KEY)
        with pytest.raises(ValueError, match="consistency must be"):
            writer.finish(
                checkpoint, keys_document(KEY), consistency={"old": 1, "new": 5, "hashes": []}
            )


def test_rotated_keys_verify_old_records(tmp_path: Path) -> None:
    """Records signed by a retired key verify when both keys are pinned, not with the new alone."""
    old_key, new_key = SigningKey.from_seed(b"\x21" * 32), SigningKey.from_seed(b"\x22" * 32)
    tree = MemoryTree()
    records = [*sample_records(3, old_key, tree), *sample_records(3, new_key, tree)]
    path = tmp_path / "rotated.zip"
    with path.open("wb") as out:
        writer = BundleWriter(out, signing_key=new_key, exported_at="2026-02-01T00:00:00Z")
        for record in records:
            writer.write_record(record, tree.inclusion_proof(record["log_index"]))
        writer.finish(
            sign_checkpoint(ORIGIN, tree.size, tree.root(), new_key),
            keys_document(old_key, new_key),
        )
    assert verify_bundle(path).ok
    both = old_key.public.public_pem() + new_key.public.public_pem()
    assert verify_bundle(path, pinned_key_pem=both.encode()).ok
    only_new = verify_bundle(path, pinned_key_pem=new_key.public.public_pem().encode())
    assert only_new.failed_records() == {1, 2, 3}


def test_parallel_verification_reports_the_same(
    built: tuple[Path, MemoryTree], tmp_path: Path
) -> None:
    """Checking records in two worker processes names the same failures as one process."""
    members = _members(built[0])
    data = bytearray(members["proofs.jsonl"])
    data[data.index(b'"hashes":["') + 12] ^= 1
    path = tmp_path / "parallel.zip"
    _rezip(path, {**members, "proofs.jsonl": bytes(data)})
    serial = verify_bundle(path, workers=1)
    parallel = verify_bundle(path, workers=2)
    assert serial.failures == parallel.failures
    assert serial.failed_records() == {1}


def test_a_filtered_subset_of_the_log_verifies(tmp_path: Path) -> None:
    """An export of some records only (one project) proves each against the whole log's root."""
    tree = MemoryTree()
    records = [
        *sample_records(4, KEY, tree, project="acme/a"),
        *sample_records(5, KEY, tree, project="acme/b"),
        *sample_records(3, KEY, tree, project="acme/a"),
    ]
    chosen = [r for r in records if r["project"] == "acme/a"]
    path = tmp_path / "subset.zip"
    with path.open("wb") as out:
        writer = BundleWriter(
            out, signing_key=KEY, exported_at="2026-02-01T00:00:00Z", filters={"project": "acme/a"}
        )
        for record in reversed(chosen):
            writer.write_record(record, tree.inclusion_proof(record["log_index"]))
        writer.finish(sign_checkpoint(ORIGIN, tree.size, tree.root(), KEY), keys_document(KEY))
    report = verify_bundle(path)
    assert report.ok, report.failures
    assert report.records == 7


_POOL_TREE = MemoryTree()
_POOL = list(sample_records(40, KEY, _POOL_TREE))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_subset_of_any_log_prefix_verifies(tmp_path: Path, data: st.DataObject) -> None:
    """Any subset of the records of any log size, in any order, verifies against its root."""
    size = data.draw(st.integers(min_value=1, max_value=len(_POOL)), label="size")
    chosen = data.draw(st.lists(st.sampled_from(_POOL[:size]), unique_by=lambda r: r["log_index"]))
    path = tmp_path / f"subset-{size}-{len(chosen)}.zip"
    with path.open("wb") as out:
        writer = BundleWriter(out, signing_key=KEY, exported_at="2026-02-01T00:00:00Z")
        for record in chosen:
            writer.write_record(record, _POOL_TREE.inclusion_proof(record["log_index"], size))
        writer.finish(sign_checkpoint(ORIGIN, size, _POOL_TREE.root(size), KEY), keys_document(KEY))
    report = verify_bundle(path)
    assert report.ok, report.failures
    assert report.records == len(chosen)
