"""Reports from a GitHub workflow run's artifacts: listing, redirect, expiry, hostile zips."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.interface import RetryPolicy
from gatekeeper.errors import ReportError
from tests.connectors.conftest import TOKEN, github_client
from tests.fakes.github import BlobStore, FakeGitHub, RunArtifacts

EXAMPLES = Path(__file__).parents[2] / "gatekeeper" / "data" / "examples"
RUN = 4242


def zipped(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding `members`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def reports_zip(kind: str = "passing") -> bytes:
    """The example JUnit and Cobertura reports, zipped as upload-artifact does."""
    folder = EXAMPLES / kind
    return zipped(
        {
            "junit.xml": (folder / "junit.xml").read_bytes(),
            "cov/coverage.xml": (folder / "coverage.xml").read_bytes(),
            "pr-number": b"7\n",
        }
    )


@pytest.fixture
def blobs() -> Iterator[BlobStore]:
    """The blob store the artifact downloads redirect to (another port)."""
    with BlobStore() as store:
        yield store


@pytest.fixture
def runs(fake_github: FakeGitHub, blobs: BlobStore) -> RunArtifacts:
    """Workflow run RUN of the fake's pull request, without artifacts yet."""
    found = RunArtifacts(fake_github, blobs)
    found.add_run(RUN)
    return found


def test_run_reports_become_facts_and_the_token_never_reaches_the_blob_store(
    fake_github: FakeGitHub, blobs: BlobStore, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """Tests and coverage come from the run's artifact; the blob store sees no Authorization."""
    runs.add_artifact(RUN, "gate-input", reports_zip())
    runs.add_artifact(RUN, "screenshots", zipped({"a.png": b"\x89PNG"}))
    facts = github_client(fake_github, policy).run_collector(RUN, pattern="gate-*").collect()
    assert facts.tests is not None
    assert facts.tests.total > 0
    assert facts.coverage is not None
    assert facts.coverage.line_rate is not None
    assert facts.subject is not None
    assert (facts.subject.commit, facts.subject.number) == (fake_github.head, fake_github.number)
    assert blobs.count("GET", "/blobs/") == 1  # only the matching artifact was downloaded
    assert blobs.authorization_headers() == []
    [api] = [r for r in fake_github.requests if r.path.endswith("/zip")]
    assert api.headers["authorization"] == f"Bearer {TOKEN}"
    locations = [s.location for s in facts.sources if s.kind == "report"]
    assert "artifact 'gate-input' of run 4242:cov/coverage.xml" in locations


def test_artifact_listing_is_paginated(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """An artifact on the second page of the listing is found."""
    for number in range(105):
        runs.add_artifact(RUN, f"other-{number}", zipped({"x.txt": b"x"}))
    runs.add_artifact(RUN, "gate-input", reports_zip())
    facts = github_client(fake_github, policy).run_collector(RUN, pattern="gate-input").collect()
    assert facts.tests is not None
    assert fake_github.count("GET", f"/runs/{RUN}/artifacts") == 2


def test_expired_artifact_is_a_missing_fact_with_its_reason(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """An expired artifact gives no empty pass: tests and coverage are missing, saying why."""
    runs.add_artifact(RUN, "gate-input", reports_zip(), expired=True)
    facts = github_client(fake_github, policy).run_collector(RUN).collect()
    assert facts.tests is None
    assert facts.coverage is None
    assert "artifact 'gate-input' of run 4242 expired" in facts.missing["tests"]


def test_artifact_gone_at_download_410_is_missing(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """An artifact listed as live but answered 410 at download is missing with the status."""
    runs.add_artifact(RUN, "gate-input", reports_zip())
    fake_github.fail(410, body={"message": "Artifact has expired"}, path_contains="/zip")
    facts = github_client(fake_github, policy).run_collector(RUN).collect()
    assert facts.tests is None
    assert "is gone (410" in facts.missing["tests"]


def test_no_matching_artifact_names_what_the_run_has(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """A glob that matches nothing is a missing fact naming the artifacts there are."""
    runs.add_artifact(RUN, "logs", zipped({"x.txt": b"x"}))
    facts = github_client(fake_github, policy).run_collector(RUN, pattern="gate-*").collect()
    assert facts.missing["tests"] == (
        "workflow run 4242 has no artifact matching 'gate-*' (artifacts: logs)"
    )


def test_zip_bomb_is_refused_with_a_sentence(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """A member that inflates 1000-fold is refused before it is written."""
    runs.add_artifact(RUN, "gate-input", zipped({"junit.xml": b"<" + b"a" * 20_000_000}))
    with pytest.raises(ReportError) as caught:
        github_client(fake_github, policy).run_collector(RUN).collect()
    assert "member 'junit.xml': compression ratio" in str(caught.value)
    assert "zip bomb" in str(caught.value)


@pytest.mark.parametrize("name", ["../../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "C:/x"])
def test_zip_slip_is_refused_with_a_sentence(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy, tmp_path: Path, name: str
) -> None:
    """A member whose name leaves the folder is refused and nothing is written outside."""
    runs.add_artifact(RUN, "gate-input", zipped({name: b"<testsuite/>"}))
    with pytest.raises(ReportError) as caught:
        github_client(fake_github, policy).run_collector(RUN).collect()
    assert f"member {name!r}: the name leaves the artifact's folder (zip-slip)" in str(caught.value)


def test_a_broken_report_in_an_artifact_names_the_member(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """A malformed report is named as artifact:member, not as a temporary file."""
    runs.add_artifact(RUN, "gate-input", zipped({"junit.xml": b"<testsuite><testcase>"}))
    with pytest.raises(ReportError) as caught:
        github_client(fake_github, policy).run_collector(RUN).collect()
    assert str(caught.value).startswith("artifact 'gate-input' of run 4242:junit.xml")


def test_a_fork_runs_pull_request_is_found_by_its_head(
    fake_github: FakeGitHub, runs: RunArtifacts, policy: RetryPolicy
) -> None:
    """A run from a fork lists no pull request: the open PR with the run's head is found."""
    runs.add_run(RUN + 1, fork="mallory")
    head = github_client(fake_github, policy).run_collector(RUN + 1).head()
    assert (head.commit, head.pull_number) == (fake_github.head, fake_github.number)
    [search] = [r for r in fake_github.requests if r.path.endswith("/pulls")]
    assert search.query["head"] == f"mallory:{fake_github.head_ref}"


def test_a_small_repetitive_report_is_not_taken_for_a_bomb(tmp_path: Path) -> None:
    """The ratio limit spares members under a MiB: a tiny, highly compressible report is read."""
    from connectors._artifacts import ZipLimits, extract

    archive = tmp_path / "a.zip"
    archive.write_bytes(zipped({"junit.xml": b"<testsuite>" + b" " * 500_000 + b"</testsuite>"}))
    [found] = extract(archive, tmp_path / "out", label="artifact 'x'", limits=ZipLimits())
    assert found.stat().st_size == 500_023


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    """An archive with more members than allowed is refused before anything is written."""
    from connectors._artifacts import ZipLimits, extract

    archive = tmp_path / "a.zip"
    archive.write_bytes(zipped({f"f{n}.txt": b"x" for n in range(11)}))
    with pytest.raises(ReportError, match="11 members is over the limit of 10"):
        extract(archive, tmp_path / "out", label="artifact 'x'", limits=ZipLimits(max_members=10))
    assert not (tmp_path / "out").exists()
