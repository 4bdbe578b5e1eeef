"""GitHub facts through the real PyGithub client against the loopback fake."""

from __future__ import annotations

import pytest

from connectors.interface import CollectOptions, RetryPolicy
from tests.connectors.conftest import github_client
from tests.fakes.github import FakeGitHub

OLD = "0ld" + "0" * 37


def _collect(fake: FakeGitHub, policy: RetryPolicy, **options: object):  # type: ignore[no-untyped-def]
    return (
        github_client(fake, policy)
        .collector(
            fake.number,
            options=CollectOptions(**options),  # type: ignore[arg-type]
        )
        .collect()
    )


def test_subject_and_change_come_from_the_pull_request(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Repository, head, branch, title, labels, author, commits and files are collected."""
    fake_github.files = ["a.py", "b/c.py"]
    facts = _collect(fake_github, policy)
    assert facts.subject is not None
    assert facts.change is not None
    assert facts.subject.provider == "github"
    assert facts.subject.repo == "octo/app"
    assert facts.subject.commit == fake_github.head
    assert facts.subject.number == 7
    assert facts.subject.url == "https://github.com/octo/app/pull/7"
    assert facts.change.branch == "feature/QA-12-login"
    assert facts.change.base_ref == "main"
    assert facts.change.labels == ("release",)
    assert facts.change.author == "alice"
    assert facts.change.files == ("a.py", "b/c.py")
    assert [(c.sha, c.author) for c in facts.change.commits] == [(fake_github.head, "alice")]


def test_linked_issues_use_the_configured_pattern(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Issue keys are found in title, branch and commit messages, once each, by the regex given."""
    fake_github.add_commit("1" * 40, "alice", "fix OPS-7 and QA-12")
    assert _collect(fake_github, policy).change.linked_issues == ("QA-12", "OPS-7")  # type: ignore[union-attr]
    custom = _collect(fake_github, policy, issue_pattern=r"#\d+")
    assert custom.change.linked_issues == ()  # type: ignore[union-attr]


def test_stale_approval_does_not_count(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """An approval given to an older head is a stale approval, not an approval."""
    fake_github.add_review("bob", "APPROVED", commit=OLD)
    fake_github.add_review("carol", "APPROVED")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.approvals == 1
    assert reviews.approvers == ("carol",)
    assert reviews.stale_approvals == 1


def test_dismissed_and_commented_reviews_do_not_count(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """A dismissed approval is gone, and a later comment does not undo an approval."""
    fake_github.add_review("bob", "DISMISSED")
    fake_github.add_review("carol", "APPROVED")
    fake_github.add_review("carol", "COMMENTED")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.approvers == ("carol",)


def test_self_and_bot_approvals_never_count(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """The author's own approval and a bot's approval are not approvals."""
    fake_github.add_review("alice", "APPROVED")
    fake_github.add_review("renovate[bot]", "APPROVED", kind="Bot")
    fake_github.add_review("helper-app", "APPROVED", kind="Bot")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.approvals == 0


def test_commit_authors_can_be_excluded(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """With exclude_commit_authors, someone who pushed a commit cannot approve the PR."""
    fake_github.add_commit("2" * 40, "dave", "help out")
    fake_github.add_review("dave", "APPROVED")
    assert _collect(fake_github, policy).reviews.approvals == 1  # type: ignore[union-attr]
    strict = _collect(fake_github, policy, exclude_commit_authors=True)
    assert strict.reviews.approvals == 0  # type: ignore[union-attr]


def test_changes_requested_then_approved_counts_the_latest(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """A reviewer who requested changes and then approved counts as one approval."""
    fake_github.add_review("bob", "CHANGES_REQUESTED")
    fake_github.add_review("carol", "CHANGES_REQUESTED")
    fake_github.add_review("bob", "APPROVED")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.approvers == ("bob",)
    assert reviews.changes_requested == 1


def test_reviews_across_several_pages(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """Reviews on page 3 are read: the latest review decides even across pages."""
    fake_github.add_review("bob", "APPROVED")
    for index in range(230):
        fake_github.add_review(f"user{index}", "COMMENTED")
    fake_github.add_review("bob", "CHANGES_REQUESTED")
    fake_github.add_review("erin", "APPROVED")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.approvers == ("erin",)
    assert reviews.changes_requested == 1
    pages = [r.query.get("page", "1") for r in fake_github.requests if r.path.endswith("/reviews")]
    assert pages == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("codeowners", "approved"),
    [
        ("* @bob\n/docs/ @docs-lead\n", False),
        ("* @bob\n/docs/ @docs-lead @carol\n", True),
        ("* @octo/reviewers\n", True),
        ("/src/ @nobody\n", False),
    ],
)
def test_codeowners_met_and_not_met(
    fake_github: FakeGitHub, policy: RetryPolicy, codeowners: str, approved: bool
) -> None:
    """Every changed file needs an approval from one of its owners (users or team members)."""
    fake_github.contents[".github/CODEOWNERS"] = codeowners
    fake_github.teams["octo/reviewers"] = ["carol", "zed"]
    fake_github.add_review("bob", "APPROVED")
    fake_github.add_review("carol", "APPROVED")
    reviews = _collect(fake_github, policy).reviews
    assert reviews is not None
    assert reviews.codeowners_approved is approved


def test_codeowners_read_at_the_base_ref_from_the_known_locations(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """The file is looked up in .github/, the root and docs/ at the base ref; none is missing."""
    facts = _collect(fake_github, policy)
    assert facts.reviews is not None
    assert facts.reviews.codeowners_approved is None
    assert "no CODEOWNERS" in facts.missing["reviews.codeowners_approved"]
    lookups = [(r.path, r.query["ref"]) for r in fake_github.requests if "/contents/" in r.path]
    assert lookups == [
        ("/repos/octo/app/contents/.github/CODEOWNERS", "main"),
        ("/repos/octo/app/contents/CODEOWNERS", "main"),
        ("/repos/octo/app/contents/docs/CODEOWNERS", "main"),
    ]


def test_checks_combine_check_runs_and_statuses(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Check runs and commit statuses on the head are checks; those not succeeding are failed."""
    fake_github.add_check_run("build")
    fake_github.add_check_run("lint", conclusion="failure")
    fake_github.add_check_run("e2e", status="queued", conclusion=None)
    fake_github.add_status("ci/jenkins", "error")
    fake_github.add_status("ci/docs", "pending")
    fake_github.add_status("gatekeeper/old", "failure")
    checks = _collect(fake_github, policy).checks
    assert checks is not None
    assert [c.name for c in checks.runs] == ["build", "lint", "e2e", "ci/jenkins", "ci/docs"]
    assert [c.name for c in checks.failed] == ["lint", "ci/jenkins"]


def test_ghes_api_url_with_api_v3(policy: RetryPolicy) -> None:
    """GitHub Enterprise Server works through its /api/v3 base URL (GraphQL at /api/graphql)."""
    with FakeGitHub(prefix="/api/v3") as fake:
        fake.add_review("bob", "APPROVED")
        fake.closing_issues = [{"number": 3, "repository": {"nameWithOwner": "octo/app"}}]
        facts = github_client(fake, policy).collector(fake.number).collect()
        assert facts.reviews is not None
        assert facts.reviews.approvals == 1
        assert facts.change is not None
        assert "#3" in facts.change.linked_issues
        rest = [r.path for r in fake.requests if not r.path.endswith("graphql")]
        assert all(path.startswith("/api/v3/") for path in rest)
        assert [r.path for r in fake.requests if r.path.endswith("graphql")] == ["/api/graphql"]


def test_request_budget_for_140_reviews_and_3_check_runs(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """One PR with 140 reviews and 3 check runs takes at most 12 requests, CODEOWNERS included."""
    for index in range(139):
        fake_github.add_review(f"user{index}", "COMMENTED")
    fake_github.add_review("bob", "APPROVED")
    for name in ("build", "lint", "test"):
        fake_github.add_check_run(name)
    fake_github.contents["docs/CODEOWNERS"] = "* @bob\n"
    gh = github_client(fake_github, policy)
    facts = gh.collector(fake_github.number).collect()
    assert facts.reviews is not None
    assert facts.reviews.codeowners_approved is True
    assert gh.stats.requests == len(fake_github.requests)
    assert gh.stats.requests <= 12
    # PR, commits, files, linked issues (GraphQL), reviews x2, CODEOWNERS x3, runs, status
    assert gh.stats.requests == 11


def test_commit_without_pull_request(fake_github: FakeGitHub, policy: RetryPolicy) -> None:
    """A commit alone gives subject, change and checks; reviews are missing with a reason."""
    fake_github.add_check_run("build")
    facts = github_client(fake_github, policy).collector(None, commit=fake_github.head).collect()
    assert facts.subject is not None
    assert facts.subject.commit == fake_github.head
    assert facts.reviews is None
    assert facts.missing["reviews"] == "commit c0ffee0 was pushed without a pull request"
    assert facts.change is not None
    assert facts.change.linked_issues == ("QA-12",)


def test_issue_references_in_title_body_and_commits_are_linked(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """`Fixes #123`, `owner/repo#9` and Jira keys in the PR body and commits are linked issues;
    URL fragments and HTML entities are not."""
    fake_github.body = "Fixes #123, see octo/lib#9 and https://x.example/a#5 &#38;"
    fake_github.add_commit("1" * 40, "alice", "Resolves #123; refs OPS-7")
    linked = _collect(fake_github, policy).change.linked_issues  # type: ignore[union-attr]
    assert linked == ("QA-12", "#123", "octo/lib#9", "OPS-7")


def test_github_linked_issues_include_closing_issues_references(
    fake_github: FakeGitHub, policy: RetryPolicy
) -> None:
    """Issues linked in GitHub's Development sidebar (GraphQL closingIssuesReferences) are
    linked issues too: `#5` in the same repository, `owner/repo#8` in another, once each."""
    fake_github.body = "Fixes #5"
    fake_github.closing_issues = [
        {"number": 5, "repository": {"nameWithOwner": "octo/app"}},
        {"number": 8, "repository": {"nameWithOwner": "octo/lib"}},
        {"number": 9, "repository": {"nameWithOwner": "not a repo](https://evil.example)"}},
    ]
    linked = _collect(fake_github, policy).change.linked_issues  # type: ignore[union-attr]
    assert linked == ("QA-12", "#5", "octo/lib#8")
    graphql = [r for r in fake_github.requests if r.path.endswith("/graphql")]
    assert len(graphql) == 1
    assert graphql[0].body["variables"] == {"owner": "octo", "name": "app", "number": 7}
