"""Acceptance (issue 13): a release knows every change it ships, whether each was gated, who
authorised it; against the loopback GitHub and a real evidence service process."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors._github_release import GitHubReleaseSource
from connectors.evidence import EvidenceClient, lookup_records
from connectors.github import GitHub
from connectors.interface import RetryPolicy
from connectors.release import collect_release
from gatekeeper.attest.predicate import build_predicate
from gatekeeper.attest.statement import build_statement
from gatekeeper.facts import Facts, Release
from tests.e2e._harness import FAST as FAST_ENV
from tests.e2e._harness import (
    Evidence,
    auditor_page,
    gatekeeper,
    github_outputs,
    stored_record,
)
from tests.fakes.github import FakeGitHub
from tests.fakes.github_release import ReleaseRepo
from tests.service.live import statement

TOKEN = "ghs_release_token"
FAST = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0, jitter=0.0, max_wait=1.0)


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that counts the requests it sends (the evidence queries)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


def sha(name: str) -> str:
    """A commit SHA unique to `name` (the service is shared by the session's tests)."""
    return hashlib.sha1(name.encode()).hexdigest()


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, ReleaseRepo]]:
    """The loopback GitHub with a release history to fill."""
    with FakeGitHub(token=TOKEN) as fake:
        assert isinstance(fake, FakeGitHub)
        yield fake, ReleaseRepo(fake)


def store(evidence: Evidence, commit: str, verdict: str) -> str:
    """A record of `verdict` for `commit` in the service; its id."""
    with EvidenceClient(evidence.url, evidence.ingest, retries=0) as client:
        receipt = client.submit(
            "octo/app", statement(commit=commit, verdict=verdict, project="octo/app")
        )
    return receipt.record_id


def release_of(
    fake: FakeGitHub, evidence: Evidence, tag: str, **kwargs: object
) -> tuple[Release | None, dict[str, str], CountingTransport]:
    """The release facts of `tag` as a GitHub release run 77 finds them."""
    gh = GitHub(api_url=fake.url, token=TOKEN, repo=fake.repo, retry=FAST)
    transport = CountingTransport()
    client = EvidenceClient(evidence.url, evidence.read, transport=transport, retries=0)
    with client:
        release, missing = collect_release(
            GitHubReleaseSource(gh, run_id=77),
            lambda commits: lookup_records(client, "octo/app", commits),
            tag=tag,
            tag_author="alice",
            **kwargs,  # type: ignore[arg-type]
        )
    return release, missing, transport


def history(repo: ReleaseRepo, name: str, prs: int) -> list[str]:
    """v1.0.0, then `prs` merged PRs, then v1.1.0; the merge commits."""
    repo.commit(sha(name + "-root"))
    repo.tag("v1.0.0")
    merges = [sha(f"{name}-{n}") for n in range(prs)]
    for n, merge in enumerate(merges):
        repo.merged_pr(100 + n, merge, author="dev")
    repo.tag("v1.1.0")
    return merges


def test_all_gated_release_lists_every_change_with_its_record(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """Every merged PR since v1.0.0 is listed with its passing record, and bob's approval."""
    fake, repo = github
    merges = history(repo, "all-gated", 3)
    ids = [store(evidence, merge, "pass") for merge in merges]
    repo.approve("bob", comment="ship it")
    release, missing, _ = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    assert missing == {}
    assert release.previous_tag == "v1.0.0"
    assert [c.number for c in release.changes] == [100, 101, 102]
    assert [c.record_id for c in release.changes] == ids
    assert (release.changes_total, release.changes_ungated, release.changes_failed) == (3, 0, 0)
    assert release.approvals[0].who == "bob"
    assert release.approvals[0].environment == "production"
    assert release.approvers_not_author == 1


def test_records_of_the_predicate_the_cli_writes_gate_their_changes(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """A change whose record is a v2 verdict predicate (what `evaluate --submit` stores today)
    is found with its verdict, like one of the v1 shape."""
    fake, repo = github
    merges = history(repo, "v2-records", 2)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = []
    for merge, verdict in zip(merges, ("pass", "fail"), strict=True):
        decided = {"verdict": verdict, "policy": {"name": "p", "digest": "ab" * 32}}
        predicate = build_predicate({**decided, "evaluated_at": now}, {}, {}, {})
        stated = build_statement("octo/app", merge, predicate).to_json_dict()
        with EvidenceClient(evidence.url, evidence.ingest, retries=0) as client:
            ids.append(client.submit("octo/app", stated).record_id)
    release, _, _ = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    assert [(c.record_id, c.verdict, c.gated) for c in release.changes] == [
        (ids[0], "pass", True),
        (ids[1], "fail", False),
    ]


def test_an_ungated_change_is_counted_and_has_no_record(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """A PR whose commit the service has no record of is listed as ungated, verdict null."""
    fake, repo = github
    merges = history(repo, "one-ungated", 2)
    store(evidence, merges[0], "pass")
    release, _, _ = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    ungated = [c for c in release.changes if not c.gated]
    assert [(c.number, c.record_id, c.verdict) for c in ungated] == [(101, None, None)]
    assert release.changes_ungated == 1


def test_a_change_that_failed_then_was_fixed_counts_as_gated(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """A failing record followed by a passing rerun gates the change; a failure alone does not."""
    fake, repo = github
    merges = history(repo, "failed-fixed", 2)
    store(evidence, merges[0], "fail")
    fixed = store(evidence, merges[0], "pass")
    store(evidence, merges[1], "fail")
    release, _, _ = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    first, second = release.changes
    assert (first.gated, first.verdict, first.record_id) == (True, "pass", fixed)
    assert (second.gated, second.verdict) == (False, "fail")
    assert (release.changes_ungated, release.changes_failed) == (1, 1)


def test_a_direct_push_is_a_change_without_review(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """A commit pushed to the branch without a PR is listed as a direct push, ungated."""
    fake, repo = github
    repo.commit(sha("direct-root"))
    repo.tag("v1.0.0")
    repo.merged_pr(5, sha("direct-pr"))
    repo.commit(sha("direct-push"), "mallory", "hotfix straight to main")
    repo.tag("v1.0.1")
    release, _, _ = release_of(fake, evidence, "v1.0.1")
    assert release is not None
    direct = release.changes[-1]
    assert (direct.kind, direct.author, direct.number) == ("direct push", "mallory", None)
    assert release.direct_pushes == 1


def test_a_pr_merged_by_rebase_is_one_change_gated_by_its_branch_head(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """ "Rebase and merge" puts the PR's three commits on the branch: one `pr` change (not three,
    not direct pushes), found by the record of the head commit CI gated."""
    fake, repo = github
    repo.commit(sha("rebase-root"))
    repo.tag("v1.0.0")
    rebased = [sha("rebase-1"), sha("rebase-2"), sha("rebase-3")]
    repo.rebased_pr(6, rebased, head=sha("rebase-branch-head"))
    repo.tag("v1.1.0")
    record = store(evidence, sha("rebase-branch-head"), "pass")
    release, _, _ = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    assert [(c.kind, c.number) for c in release.changes] == [("pr", 6)]
    six = release.changes[0]
    assert (six.head_commit, six.merge_commit) == (sha("rebase-branch-head"), rebased[-1])
    assert (six.record_id, six.gated, release.direct_pushes) == (record, True, 0)


def test_a_first_release_lists_from_the_start_up_to_the_limit(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """Without an earlier tag every change back to the limit is listed and the limit stated."""
    fake, repo = github
    for n in range(5):
        repo.merged_pr(n + 1, sha(f"first-{n}"))
    repo.tag("v0.1.0")
    release, missing, _ = release_of(fake, evidence, "v0.1.0", limit=3)
    assert release is not None
    assert (release.previous_tag, release.limit, release.changes_total) == (None, 3, 3)
    assert missing == {
        "release.previous_tag": "first release: no earlier tag matches v* "
        "(changes from the start, at most 3)"
    }
    since, missing, _ = release_of(fake, evidence, "v0.1.0", since=sha("first-1"))
    assert since is not None
    assert (since.since, since.limit, [c.number for c in since.changes]) == (
        sha("first-1"),
        None,
        [3, 4, 5],
    )
    assert missing["release.previous_tag"].endswith(f"(changes after {sha('first-1')})")


def test_the_release_pattern_chooses_which_tags_are_releases_and_since_is_for_a_first_one(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """With `release-*` as the pattern, a `v*` tag is not a release: the previous release is
    the nearest `release-*` tag, and `since` is not used when there is one."""
    fake, repo = github
    repo.merged_pr(1, sha("pattern-1"))
    repo.tag("release-1.0")
    repo.merged_pr(2, sha("pattern-2"))
    repo.tag("v1.5.0")
    repo.merged_pr(3, sha("pattern-3"))
    repo.tag("release-2.0")
    found, missing, _ = release_of(
        fake, evidence, "release-2.0", pattern="release-*", since=sha("pattern-2")
    )
    assert found is not None
    assert (found.previous_tag, found.since, found.limit) == ("release-1.0", None, None)
    assert [c.number for c in found.changes] == [2, 3]
    assert missing == {}
    first, missing, _ = release_of(fake, evidence, "release-1.0", pattern="release-*")
    assert first is not None
    assert (first.previous_tag, [c.number for c in first.changes]) == (None, [1])
    assert "no earlier tag matches release-*" in missing["release.previous_tag"]


def test_a_provider_that_cannot_list_changes_leaves_them_missing(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """A compare API that keeps failing makes `release` missing with the reason, not empty."""
    fake, repo = github
    history(repo, "provider-down", 1)
    fake.fail(502, path_contains="/compare/", times=None)
    release, missing, _ = release_of(fake, evidence, "v1.1.0")
    assert release is None
    assert "could not list the release's changes" in missing["release"]
    facts = Facts(missing=missing)
    assert facts.missing_reason("release.changes") == missing["release"]


def test_a_500_pr_release_takes_a_few_provider_requests_and_one_query_per_page(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence
) -> None:
    """500 PRs: provider requests stay near the pages needed (< 30), evidence 1 query per 100."""
    fake, repo = github
    merges = history(repo, "five-hundred", 500)
    store(evidence, merges[0], "pass")
    release, _, transport = release_of(fake, evidence, "v1.1.0")
    assert release is not None
    assert release.changes_total == 500
    assert release.changes_ungated == 499
    print(f"GitHub requests for a 500-PR release: {len(fake.requests)}")
    assert len(fake.requests) < 30
    assert fake.count("POST", "/graphql") == 5
    assert len(transport.sent) == 5


RELEASE_POLICY = """\
version: 1
name: release-evidence
rules:
  - id: release-changes-gated
    title: Every change the release ships has a passing gate record
    metric: release.changes_ungated
    op: "=="
    threshold: 0
    clause: "8.6"
  - id: release-authorised
    title: At least one release approver other than the author of the tag
    metric: release.approvers_not_author
    op: ">="
    threshold: 1
    clause: "8.6"
"""


def _tag_push_run(fake: FakeGitHub, folder: Path, evidence: Evidence, tag: str) -> dict[str, str]:
    """What GitHub Actions sets in a `push` run of `refs/tags/<tag>` (run 77, pushed by alice)."""
    sha = fake_tag_commit(fake, tag)
    (folder / "event.json").write_text(json.dumps({"ref": f"refs/tags/{tag}", "after": sha}))
    return {
        **FAST_ENV,
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(folder / "event.json"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "77",
        "GITHUB_ACTOR": "alice",
        "GITHUB_SHA": sha,
        "GITHUB_REF": f"refs/tags/{tag}",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(folder / "github-output"),
        "GATEKEEPER_TOKEN": evidence.ingest,
        "GATEKEEPER_READ_TOKEN": evidence.read,
    }


def fake_tag_commit(fake: FakeGitHub, tag: str) -> str:
    """The commit `tag` points at in the fake's release history."""
    repo: ReleaseRepo = fake.release  # type: ignore[attr-defined]
    return repo.tags[tag]


def test_a_github_tag_pipeline_stores_the_release_record_and_a_rerun_links_it(
    github: tuple[FakeGitHub, ReleaseRepo], evidence: Evidence, tmp_path: Path
) -> None:
    """`gatekeeper evaluate` on a tag push stores changes, records and approvers; with one
    change ungated the release fails; once a passing record covers it, a rerun of the job
    passes and stores a second record naming the first, which stays as it was; `?kind=release`
    finds both."""
    fake, repo = github
    fake.release = repo  # type: ignore[attr-defined]
    merges = history(repo, "tag-pipeline", 2)
    covered = store(evidence, merges[0], "pass")
    repo.approve("bob")
    (tmp_path / "policy.yml").write_text(RELEASE_POLICY)
    env = _tag_push_run(fake, tmp_path, evidence, "v1.1.0")
    args = ("evaluate", "--policy", "policy.yml", "--submit", evidence.url)
    first = gatekeeper(*args, env=env, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    first_id = github_outputs(tmp_path / "github-output")["record-id"]
    release = stored_record(evidence, first_id)["statement"]["predicate"]["facts"]["release"]
    changes = [(c["number"], c.get("record_id"), c.get("verdict")) for c in release["changes"]]
    assert changes == [(100, covered, "pass"), (101, None, None)]
    assert [a["who"] for a in release["approvals"]] == ["bob"]
    assert (release["tag"], release["previous_tag"], release["changes_ungated"]) == (
        "v1.1.0",
        "v1.0.0",
        1,
    )
    page = auditor_page(evidence, "/ui/releases", project=fake.repo)
    assert "v1.1.0" in page
    assert f"/ui/records/{covered}" in page
    assert ">ungated<" in page
    assert "<strong>bob</strong>" in page
    later = store(evidence, merges[1], "pass")
    (tmp_path / "github-output").unlink()
    rerun = gatekeeper(*args, env=env, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    second_id = github_outputs(tmp_path / "github-output")["record-id"]
    assert second_id != first_id
    second = stored_record(evidence, second_id)["statement"]["predicate"]["facts"]["release"]
    assert [c["record_id"] for c in second["changes"]] == [covered, later]
    assert (second["changes_ungated"], second["previous_record"]) == (0, first_id)
    kept = stored_record(evidence, first_id)["statement"]["predicate"]
    assert (kept["verdict"], kept["facts"]["release"]) == ("fail", release)
    listed = evidence.get("/v1/evidence", project=fake.repo, kind="release").json()["records"]
    assert {first_id, second_id} <= {r["id"] for r in listed}
