"""GitLab facts and feedback through the real python-gitlab client against the loopback fake."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from connectors.gitlab import GitLab
from connectors.interface import (
    CollectOptions,
    Feedback,
    ProviderError,
    ProviderPermissionError,
    RetryPolicy,
    fit,
)
from gatekeeper.facts import Facts, UncoveredLines
from tests.connectors.conftest import TOKEN, SleepLog, gitlab_client
from tests.fakes.gitlab import FakeGitLab, user


def _collect(fake: FakeGitLab, policy: RetryPolicy, **options: bool) -> Facts:
    return (
        gitlab_client(fake, policy)
        .collector(fake.number, options=CollectOptions(**options))
        .collect()
    )


def test_merge_request_facts_on_a_self_managed_url(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """Subject and change come from the MR on a GitLab served under /gitlab/api/v4."""
    facts = _collect(fake_gitlab, policy)
    assert facts.subject is not None
    assert facts.change is not None
    assert facts.subject.provider == "gitlab"
    assert facts.subject.repo == "group/app"
    assert facts.subject.commit == fake_gitlab.head
    assert facts.subject.number == 27117
    assert facts.change.branch == "stable-reviewer-roulette"
    assert facts.change.base_ref == "master"
    assert facts.change.labels == ("Danger bot", "Plan", "backend", "backstage")
    assert facts.change.author == "smcgivern"
    assert facts.change.linked_issues == ("QA-7",)
    assert facts.change.files == ("danger/roulette/Dangerfile", "lib/gitlab/danger/helper.rb")
    assert all(r.path.startswith("/gitlab/api/v4/") for r in fake_gitlab.requests)
    assert all(r.headers.get("private-token") == TOKEN for r in fake_gitlab.requests)


def test_author_bot_and_committer_exclusions(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """The author and bots never count; committers only when asked or the project says so."""
    fake_gitlab.add_commit("1" * 40, "Dana Scully", "help")
    fake_gitlab.approve("smcgivern", name="Sean McGivern")
    fake_gitlab.approve("project_42_bot_abc", bot=True)
    fake_gitlab.approve("dana", name="Dana Scully")
    fake_gitlab.approve("reprazent")
    reviews = _collect(fake_gitlab, policy).reviews
    assert reviews is not None
    assert reviews.approvers == ("dana", "reprazent")
    strict = _collect(fake_gitlab, policy, exclude_commit_authors=True).reviews
    assert strict is not None
    assert strict.approvers == ("reprazent",)
    fake_gitlab.settings = {"merge_requests_disable_committers_approval": True}
    by_project = _collect(fake_gitlab, policy).reviews
    assert by_project is not None
    assert by_project.approvers == ("reprazent",)


def test_approvals_before_the_last_push_are_stale_when_the_project_resets(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """With reset_approvals_on_push, an approval older than the latest push is stale."""
    fake_gitlab.approve("early", approved_at="2026-11-25T08:00:00.000Z")
    fake_gitlab.approve("late", approved_at="2026-11-25T11:00:00.000Z")
    fake_gitlab.versions = [
        {"id": 2, "head_commit_sha": fake_gitlab.head, "created_at": "2026-11-25T10:00:00.000Z"},
        {"id": 1, "head_commit_sha": "0" * 40, "created_at": "2026-11-25T07:00:00.000Z"},
    ]
    assert _collect(fake_gitlab, policy).reviews.approvals == 2  # type: ignore[union-attr]
    fake_gitlab.settings = {"reset_approvals_on_push": True}
    reviews = _collect(fake_gitlab, policy).reviews
    assert reviews is not None
    assert reviews.approvers == ("late",)
    assert reviews.stale_approvals == 1


def test_changes_requested_from_reviewer_states(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """Reviewers in state requested_changes count; an old GitLab without the API is missing."""
    fake_gitlab.reviewers = [
        {"user": user("kim"), "state": "requested_changes"},
        {"user": user("lee"), "state": "reviewed"},
    ]
    assert _collect(fake_gitlab, policy).reviews.changes_requested == 1  # type: ignore[union-attr]
    fake_gitlab.reviewers = None
    facts = _collect(fake_gitlab, policy)
    assert "reviewer states" in facts.missing["reviews.changes_requested"]


def test_approval_rules_become_checks(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """Each approval rule is a check; one short of its required approvals has failed."""
    fake_gitlab.approve("jdoe")
    fake_gitlab.rules = [
        {
            "id": 1,
            "name": "Ruby",
            "rule_type": "regular",
            "approvals_required": 2,
            "approved_by": [user("jdoe")],
            "approved": True,
        },
        {
            "id": 2,
            "name": "Docs",
            "rule_type": "regular",
            "approvals_required": 1,
            "approved_by": [user("jdoe")],
            "approved": True,
        },
    ]
    checks = _collect(fake_gitlab, policy).checks
    assert checks is not None
    assert [c.name for c in checks.failed] == ["approval rule: Ruby"]
    assert "approval rule: Docs" in [c.name for c in checks.runs]


@pytest.mark.parametrize(
    ("codeowners", "approved"),
    [
        ("[Backend][1] @reprazent\n*.rb\n^[Docs]\n* @docs-team\n", True),
        ("[Backend]\n*.rb @reprazent\n[Danger]\n/danger/ @someone\n", False),
        ("[Backend] @reprazent\n*.rb\n[Danger]\n/danger/ @dbalexandre\n", True),
        ("[Backend]\n*.rb @maintainers\n", True),
        ("* @nobody\n", False),
    ],
)
def test_codeowners_sections(
    fake_gitlab: FakeGitLab, policy: RetryPolicy, codeowners: str, approved: bool
) -> None:
    """GitLab sections: every required section matching a file needs one of its owners."""
    fake_gitlab.contents[".gitlab/CODEOWNERS"] = codeowners
    fake_gitlab.groups["maintainers"] = ["reprazent"]
    fake_gitlab.files = ["lib/helper.rb", "danger/roulette/Dangerfile"]
    fake_gitlab.approve("reprazent")
    fake_gitlab.approve("dbalexandre")
    facts = _collect(fake_gitlab, policy)
    assert facts.reviews is not None
    assert facts.reviews.codeowners_approved is approved
    lookups = [r.path.rsplit("/files/", 1)[1] for r in fake_gitlab.requests if "/files/" in r.path]
    assert lookups == ["CODEOWNERS/raw", "docs%2FCODEOWNERS/raw", ".gitlab%2FCODEOWNERS/raw"]


def test_pipeline_jobs_tests_and_coverage(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """Head pipeline and jobs are checks, the test report gives tests, coverage a line rate."""
    fake_gitlab.add_job("e2e", "failed")
    fake_gitlab.add_job("flaky-lint", "failed", allow_failure=True)
    fake_gitlab.add_job("deploy", "manual")
    fake_gitlab.add_job("gatekeeper/mr", "failed")  # our own status from an earlier run
    facts = _collect(fake_gitlab, policy)
    assert facts.checks is not None
    assert [c.name for c in facts.checks.failed] == ["e2e"]
    assert facts.checks.runs[0].name == "pipeline #46"
    assert facts.tests is not None
    assert (facts.tests.total, facts.tests.passed, facts.tests.errors) == (9, 5, 4)
    assert [f.name for f in facts.tests.failures] == [
        "Error testcase 1",
        "Error testcase 2",
        "Error testcase 3",
    ]
    assert facts.tests.failures[0].file == "/path/file.ext"
    assert facts.coverage is not None
    assert facts.coverage.line_rate == pytest.approx(0.7634)
    assert facts.coverage.lines_valid is None
    assert "coverage percentage" in facts.missing["coverage.lines_valid"]


def test_no_head_pipeline_means_missing_checks(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """Without a head pipeline, checks are missing with a reason (the gate fails closed)."""
    fake_gitlab.pipeline = None
    facts = _collect(fake_gitlab, policy)
    assert facts.checks is None
    assert facts.tests is None
    assert "no head pipeline" in facts.missing["checks"]


def test_a_502_then_success(fake_gitlab: FakeGitLab, policy: RetryPolicy, sleeps: SleepLog) -> None:
    """A 502 is retried with backoff; the client counts every attempt."""
    fake_gitlab.fail(502, path_contains="/approvals", times=1)
    gl = gitlab_client(fake_gitlab, policy)
    assert gl.collector(fake_gitlab.number).collect().reviews is not None
    assert len(sleeps.waits) == 1
    assert gl.stats.requests == len(fake_gitlab.requests)


def test_persistent_5xx_is_a_clear_error(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """GitLab failing every attempt gives one sentence with the status and the attempts."""
    fake_gitlab.fail(500, path_contains="/merge_requests/27117", times=None)
    with pytest.raises(ProviderError, match="500") as caught:
        _collect(fake_gitlab, policy)
    assert "merge request !27117" in str(caught.value)


def test_403_names_the_scope(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """A 403 on the MR names the scope the token lacks and the project."""
    fake_gitlab.fail(403, body={"message": "403 Forbidden"}, path_contains="/commits", times=None)
    with pytest.raises(ProviderPermissionError, match="read_api") as caught:
        _collect(fake_gitlab, policy)
    assert "group/app" in str(caught.value)


def test_job_token_is_sent_as_job_token(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """CI_JOB_TOKEN goes in the JOB-TOKEN header."""
    gl = GitLab(
        api_url=fake_gitlab.server_url + "/api/v4",
        token=TOKEN,
        repo="group/app",
        job_token=True,
        retry=policy,
    )
    gl.collector(fake_gitlab.number).collect()
    assert fake_gitlab.requests[0].headers.get("job-token") == TOKEN


def _feedback(body: str) -> Feedback:
    return Feedback(
        verdict="fail", policy="mr", summary="1 rule failed", render=lambda limit: fit(body, limit)
    )


def test_note_is_sticky_status_set_and_dotenv_written(
    fake_gitlab: FakeGitLab, policy: RetryPolicy, tmp_path: Path
) -> None:
    """Two publishes leave one MR note updated in place, a failed status and a dotenv file."""
    dotenv = tmp_path / "gatekeeper.env"
    publisher = gitlab_client(fake_gitlab, policy).publisher(
        number=fake_gitlab.number, commit=fake_gitlab.head, dotenv=dotenv
    )
    publisher.publish(_feedback("first"))
    result = publisher.publish(_feedback("second"))
    assert len(fake_gitlab.notes) == 1
    assert fake_gitlab.notes[0]["body"] == "<!-- gatekeeper:mr -->\nsecond"
    assert fake_gitlab.count("PUT", "/notes/") == 1
    assert fake_gitlab.statuses[-1]["name"] == "gatekeeper/mr"
    assert fake_gitlab.statuses[-1]["state"] == "failed"
    assert dotenv.read_text().splitlines()[0] == "GATEKEEPER_VERDICT=fail"
    assert result.notices == ()


def test_uncovered_changed_lines_become_code_quality_entries(
    fake_gitlab: FakeGitLab, policy: RetryPolicy, tmp_path: Path
) -> None:
    """Beside the dotenv report the publisher writes GitLab's code-quality report: one minor
    issue per run of changed lines no test ran, paths outside the repository left out."""
    dotenv = tmp_path / "gatekeeper.env"
    uncovered = (
        UncoveredLines(file="src/pay.py", ranges=((12, 14), (31, 31))),
        UncoveredLines(file="../outside.py", ranges=((1, 1),)),
    )
    feedback = _feedback("body").model_copy(update={"uncovered": uncovered})
    publisher = gitlab_client(fake_gitlab, policy).publisher(
        number=fake_gitlab.number, commit=fake_gitlab.head, dotenv=dotenv
    )
    result = publisher.publish(feedback)
    report = tmp_path / "gatekeeper-codequality.json"
    assert result.written["codequality"] == str(report)
    issues = json.loads(report.read_text(encoding="utf-8"))
    assert [
        (i["location"]["path"], i["location"]["lines"], i["severity"], i["description"])
        for i in issues
    ] == [
        (
            "src/pay.py",
            {"begin": 12, "end": 14},
            "minor",
            "No test ran lines 12-14 of this change.",
        ),
        ("src/pay.py", {"begin": 31, "end": 31}, "minor", "No test ran line 31 of this change."),
    ]
    assert len({i["fingerprint"] for i in issues}) == 2


def test_long_note_is_cut_to_a_million_characters(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """A verdict longer than GitLab's note limit is cut with a line saying so."""
    publisher = gitlab_client(fake_gitlab, policy).publisher(
        number=fake_gitlab.number, commit=fake_gitlab.head
    )
    publisher.publish(_feedback("z" * 1_200_000))
    body = fake_gitlab.notes[0]["body"]
    assert len(body) <= 1_000_000
    assert "cut" in body[-100:]


def test_read_only_token_writes_become_notices(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """403 on the note and the status are notices, not errors."""
    fake_gitlab.fail(403, body={"message": "403 Forbidden"}, method="POST", times=None)
    result = (
        gitlab_client(fake_gitlab, policy)
        .publisher(number=fake_gitlab.number, commit=fake_gitlab.head)
        .publish(_feedback("x"))
    )
    assert result.written == {}
    assert len(result.notices) == 2


def test_commits_across_several_pages(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """250 MR commits come back over three pages (Link / X-Next-Page) and are all read."""
    for index in range(249):
        fake_gitlab.add_commit(f"{index:040x}", "Bot Person", f"chore {index}")
    facts = _collect(fake_gitlab, policy)
    assert facts.change is not None
    assert len(facts.change.commits) == 250
    pages = [r.query.get("page", "1") for r in fake_gitlab.requests if r.path.endswith("/commits")]
    assert pages == ["1", "2", "3"]


def test_429_waits_until_ratelimit_reset(
    fake_gitlab: FakeGitLab, policy: RetryPolicy, sleeps: SleepLog
) -> None:
    """GitLab's 429 with RateLimit-Remaining 0 waits until RateLimit-Reset, then retries."""
    reset = int(time.time()) + 10
    fake_gitlab.fail(
        429,
        path_contains="/approvals",
        headers={"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
    )
    assert _collect(fake_gitlab, policy).reviews is not None
    assert len(sleeps.waits) == 1
    assert 5 <= sleeps.waits[0] <= 12


def test_404_names_the_project(fake_gitlab: FakeGitLab, policy: RetryPolicy) -> None:
    """A wrong project path gives one sentence naming the project and the URL."""
    gl = GitLab(api_url=fake_gitlab.server_url, token=TOKEN, repo="group/nope", retry=policy)
    fake_gitlab.fail(404, body={"message": "404 Project Not Found"}, path_contains="group%2Fnope")
    with pytest.raises(ProviderPermissionError, match="right project") as caught:
        gl.collector(fake_gitlab.number).collect()
    assert "group/nope" in str(caught.value)


def test_issue_references_in_the_mr_description_are_linked(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """`Closes #12` and `group/other#3` in the MR description are linked issues, next to keys."""
    fake_gitlab.description = "Closes #12\n\nAlso group/other#3."
    facts = _collect(fake_gitlab, policy)
    assert facts.change is not None
    assert facts.change.linked_issues == ("#12", "group/other#3", "QA-7")
