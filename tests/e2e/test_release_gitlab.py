"""Acceptance (issue 13) on GitLab: a tag pipeline's release lists every MR since the previous
tag with its record, and the deployment approvers; loopback GitLab, a real evidence service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors._gitlab_release import GitLabReleaseSource
from connectors.evidence import EvidenceClient, lookup_records
from connectors.gitlab import GitLab
from connectors.release import collect_release
from gatekeeper.facts import Release
from tests.e2e._harness import FAST as FAST_ENV
from tests.e2e._harness import Evidence, auditor_page, gatekeeper, stored_record
from tests.e2e.test_release import FAST, RELEASE_POLICY, CountingTransport, sha
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.gitlab_release import GitLabReleaseRepo
from tests.service.live import statement

TOKEN = "glpat-release-token"
PROJECT = "group/app"


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, GitLabReleaseRepo]]:
    """The loopback GitLab with a release history to fill."""
    with FakeGitLab(token=TOKEN, repo=PROJECT) as fake:
        assert isinstance(fake, FakeGitLab)
        yield fake, GitLabReleaseRepo(fake)


def store(evidence: Evidence, commit: str, verdict: str) -> str:
    """A record of `verdict` for `commit` of group/app in the service; its id."""
    with EvidenceClient(evidence.url, evidence.ingest, retries=0) as client:
        record = statement(commit=commit, verdict=verdict, project=PROJECT)
        return client.submit(PROJECT, record).record_id


def history(repo: GitLabReleaseRepo, name: str, mrs: int) -> list[str]:
    """v1.0.0, then `mrs` merged MRs, then v1.1.0; the squash commits."""
    repo.commit(sha(name + "-root"))
    repo.tag("v1.0.0")
    merges = [sha(f"{name}-{n}") for n in range(mrs)]
    for n, merge in enumerate(merges):
        repo.merged_mr(200 + n, merge)
    repo.tag("v1.1.0")
    return merges


def release_of(
    fake: FakeGitLab, evidence: Evidence, tag_commit: str
) -> tuple[Release | None, CountingTransport]:
    """The release facts of v1.1.0 as a GitLab tag pipeline finds them."""
    gl = GitLab(api_url=fake.server_url, token=TOKEN, repo=PROJECT, retry=FAST)
    transport = CountingTransport()
    with EvidenceClient(evidence.url, evidence.read, transport=transport, retries=0) as client:
        release, _ = collect_release(
            GitLabReleaseSource(gl, tag_commit=tag_commit),
            lambda commits: lookup_records(client, PROJECT, commits),
            tag="v1.1.0",
            tag_author="alice",
        )
    return release, transport


def test_a_gitlab_release_lists_mrs_records_direct_pushes_and_approvers(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence
) -> None:
    """Each MR since v1.0.0 with its record, a direct push unreviewed, bob's deployment approval."""
    fake, repo = gitlab
    repo.commit(sha("gl-root"))
    repo.tag("v1.0.0")
    repo.merged_mr(1, sha("gl-mr-1"))
    repo.merged_mr(2, sha("gl-mr-2"))
    repo.commit(sha("gl-direct"), "Mallory", "hotfix")
    repo.tag("v1.1.0")
    record = store(evidence, sha("gl-mr-1"), "pass")
    store(evidence, sha("gl-mr-2"), "fail")
    repo.approve("bob", sha("gl-direct"))
    release, _ = release_of(fake, evidence, sha("gl-direct"))
    assert release is not None
    assert [(c.kind, c.number) for c in release.changes] == [
        ("mr", 1),
        ("mr", 2),
        ("direct push", None),
    ]
    assert (release.changes[0].record_id, release.changes[0].gated) == (record, True)
    assert (release.changes_ungated, release.changes_failed, release.direct_pushes) == (2, 1, 1)
    assert [(a.who, a.environment) for a in release.approvals] == [("bob", "production")]


def test_an_mr_merged_with_a_merge_commit_is_one_change_not_direct_pushes(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence
) -> None:
    """An MR merged without squashing (its branch commits, then a merge commit) is matched to
    its MR through the merge commit's parents: one `mr` change, gated by its head's record."""
    fake, repo = gitlab
    repo.commit(sha("gl-mc-root"))
    repo.tag("v1.0.0")
    branch = [sha("gl-mc-f1"), sha("gl-mc-f2"), sha("gl-mc-f3")]
    repo.merged_mr_by_merge_commit(7, branch, sha("gl-mc-merge"))
    repo.merged_mr(8, sha("gl-mc-squash"))
    repo.tag("v1.1.0")
    record = store(evidence, branch[-1], "pass")
    release, _ = release_of(fake, evidence, repo.tags["v1.1.0"])
    assert release is not None
    assert [(c.kind, c.number) for c in release.changes] == [("mr", 7), ("mr", 8)]
    seven = release.changes[0]
    assert (seven.merge_commit, seven.head_commit) == (sha("gl-mc-merge"), branch[-1])
    assert (seven.record_id, seven.gated) == (record, True)
    assert (release.direct_pushes, release.changes_ungated) == (0, 1)


def test_an_mr_merged_by_fast_forward_brings_its_commits_as_one_change(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence
) -> None:
    """An MR of three commits merged by fast-forward (no merge or squash commit) is one `mr`
    change, not two direct pushes and an MR: its commits are listed with one request for that
    MR. A one-commit fast-forwarded MR and a real direct push take no such request."""
    fake, repo = gitlab
    repo.commit(sha("gl-ff-root"))
    repo.tag("v1.0.0")
    branch = [sha("gl-ff-1"), sha("gl-ff-2"), sha("gl-ff-3")]
    repo.merged_mr_by_fast_forward(9, branch)
    repo.commit(sha("gl-ff-direct"), "Mallory", "hotfix")
    repo.merged_mr_by_fast_forward(10, [sha("gl-ff-single")])
    repo.tag("v1.1.0")
    record = store(evidence, branch[-1], "pass")
    release, _ = release_of(fake, evidence, repo.tags["v1.1.0"])
    assert release is not None
    assert [(c.kind, c.number) for c in release.changes] == [
        ("mr", 9),
        ("direct push", None),
        ("mr", 10),
    ]
    nine = release.changes[0]
    assert (nine.head_commit, nine.record_id, nine.gated) == (branch[-1], record, True)
    assert release.changes[1].merge_commit == sha("gl-ff-direct")
    assert (release.direct_pushes, release.changes_ungated) == (1, 2)
    # MR !10's head follows the direct push, so its commits are asked for too (and claim none)
    assert fake.count("GET", "/merge_requests/9/commits") == 1
    assert fake.count("GET", "/merge_requests/10/commits") == 1


def test_a_500_mr_gitlab_release_takes_a_few_requests_and_one_query_per_page(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence
) -> None:
    """500 MRs: tags, one compare, 5 pages of merged MRs, deployments; 5 evidence queries."""
    fake, repo = gitlab
    history(repo, "gl-five-hundred", 500)
    release, transport = release_of(fake, evidence, repo.tags["v1.1.0"])
    assert release is not None
    assert release.changes_total == 500
    print(f"GitLab requests for a 500-MR release: {len(fake.requests)}")
    assert len(fake.requests) <= 10
    assert len(transport.sent) == 5


def test_a_gitlab_tag_pipeline_stores_the_release_record(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence, tmp_path: Path
) -> None:
    """`gatekeeper evaluate` in a simulated tag pipeline stores the release record."""
    fake, repo = gitlab
    merges = history(repo, "gl-pipeline", 2)
    ids = [store(evidence, merge, "pass") for merge in merges]
    tagged = repo.tags["v1.1.0"]
    repo.approve("bob", tagged)
    fake.push_commit(tagged, "Dev", "Merge branch 'feature-201' into 'main'")
    (tmp_path / "policy.yml").write_text(RELEASE_POLICY)
    env = {
        **FAST_ENV,
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_PATH": PROJECT,
        "CI_COMMIT_SHA": tagged,
        "CI_COMMIT_TAG": "v1.1.0",
        "CI_COMMIT_REF_NAME": "v1.1.0",
        "CI_PIPELINE_SOURCE": "push",
        "CI_JOB_URL": f"{fake.server_url}/{PROJECT}/-/jobs/100",
        "GITLAB_USER_LOGIN": "alice",
        "GITLAB_TOKEN": TOKEN,
        "GATEKEEPER_TOKEN": evidence.ingest,
        "GATEKEEPER_READ_TOKEN": evidence.read,
    }
    result = gatekeeper(
        "evaluate", "--policy", "policy.yml", "--submit", evidence.url,
        "--dotenv", "gatekeeper.env", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dotenv = dict(
        line.split("=", 1) for line in (tmp_path / "gatekeeper.env").read_text().splitlines()
    )
    record = stored_record(evidence, dotenv["GATEKEEPER_RECORD_ID"])
    release = record["statement"]["predicate"]["facts"]["release"]
    assert [c["record_id"] for c in release["changes"]] == ids
    assert [a["who"] for a in release["approvals"]] == ["bob"]
    page = auditor_page(evidence, "/ui/releases", project=record["project"])
    assert all(f"/ui/records/{change}" in page for change in ids)
    assert "<strong>bob</strong>" in page
    assert ">ungated<" not in page


@pytest.mark.parametrize("start", ["--since", "--release-limit"])
def test_a_first_release_under_a_release_pattern_starts_after_since_or_at_the_limit(
    gitlab: tuple[FakeGitLab, GitLabReleaseRepo], evidence: Evidence, tmp_path: Path, start: str
) -> None:
    """`evaluate --since REF` (or `--release-limit 1`) with GATEKEEPER_RELEASE_PATTERN=
    `release-*` on the first `release-*` tag: a `v*` tag is no release, the changes start after
    REF (or go back one commit), and the record says so."""
    fake, repo = gitlab  # the service is shared by the module: commits of its own per case
    repo.commit(sha(f"gl-first-{start}-root"))
    repo.tag("v0.1")
    repo.merged_mr(1, sha(f"gl-first-{start}-1"))
    repo.merged_mr(2, sha(f"gl-first-{start}-2"))
    repo.tag("release-1.0.0")
    record = store(evidence, sha(f"gl-first-{start}-2"), "pass")
    tagged = repo.tags["release-1.0.0"]
    repo.approve("bob", tagged)
    fake.push_commit(tagged, "Dev", "Merge branch 'feature-2' into 'main'")
    (tmp_path / "policy.yml").write_text(RELEASE_POLICY)
    env = {
        **FAST_ENV,
        "GITLAB_CI": "true",
        "CI_API_V4_URL": fake.url,
        "CI_PROJECT_PATH": PROJECT,
        "CI_COMMIT_SHA": tagged,
        "CI_COMMIT_TAG": "release-1.0.0",
        "CI_COMMIT_REF_NAME": "release-1.0.0",
        "CI_PIPELINE_SOURCE": "push",
        "CI_JOB_URL": f"{fake.server_url}/{PROJECT}/-/jobs/101",
        "GITLAB_USER_LOGIN": "alice",
        "GITLAB_TOKEN": TOKEN,
        "GATEKEEPER_TOKEN": evidence.ingest,
        "GATEKEEPER_READ_TOKEN": evidence.read,
        "GATEKEEPER_RELEASE_PATTERN": "release-*",  # a job variable works like the flag
    }
    result = gatekeeper(
        "evaluate", "--policy", "policy.yml", "--submit", evidence.url, "--dotenv", "gk.env",
        start, sha(f"gl-first-{start}-1") if start == "--since" else "1", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dotenv = dict(line.split("=", 1) for line in (tmp_path / "gk.env").read_text().splitlines())
    facts = stored_record(evidence, dotenv["GATEKEEPER_RECORD_ID"])["statement"]["predicate"][
        "facts"
    ]
    release = facts["release"]
    assert [(c["number"], c["record_id"]) for c in release["changes"]] == [(2, record)]
    if start == "--since":
        assert (release.get("previous_tag"), release["since"]) == (None, sha(f"gl-first-{start}-1"))
        where = f"changes after {sha(f'gl-first-{start}-1')}"
    else:
        assert (release.get("previous_tag"), release.get("since"), release["limit"]) == (
            None,
            None,
            1,
        )
        where = "changes from the start, at most 1"
    assert facts["missing"]["release.previous_tag"] == (
        f"first release: no earlier tag matches release-* ({where})"
    )


@pytest.mark.parametrize(
    ("flag", "value", "sentence"),
    [
        ("--since", "main..evil", "--since 'main..evil' is not a git ref or commit"),
        ("--since", "a b", "--since 'a b' is not a git ref or commit"),
        ("--release-pattern", "v*;rm", "--release-pattern 'v*;rm' is not a tag glob"),
        ("--release-limit", "0", "--release-limit '0' is not a number of commits"),
        ("--release-limit", "10001", "--release-limit '10001' is not a number of commits"),
        ("--release-limit", "2.5", "--release-limit '2.5' is not a number of commits"),
        ("--release-limit", "-5", "--release-limit '-5' is not a number of commits"),
    ],
)
def test_release_flags_that_are_not_refs_or_globs_are_refused(
    tmp_path: Path, flag: str, value: str, sentence: str
) -> None:
    """A `--since` that is no ref or a `--release-pattern` that is no glob: one sentence, exit 2,
    before anything is read."""
    (tmp_path / "policy.yml").write_text(RELEASE_POLICY)
    result = gatekeeper("evaluate", "--policy", "policy.yml", flag, value, env={}, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {sentence} (")
