"""`when`: rules that apply only on some branches, events, labels or paths (ISO 9001 6.1)."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.facts import Subject
from tests.policy._helpers import change, facts, message, outcome, policy_of, reviews, run

RULE = """
- id: payments-two-approvals
  title: Two approvals when payments change
  metric: reviews.approvals
  op: ">="
  threshold: 2
  when:
{when}
"""


def _policy(tmp_path: Path, when: str) -> object:
    return policy_of(tmp_path, RULE.format(when=when))


def test_paths_glob(tmp_path: Path) -> None:
    """A paths condition applies the rule only when a changed file matches the glob."""
    policy = policy_of(tmp_path, RULE.format(when="    paths: ['src/payments/**']"))
    touched = facts(reviews=reviews(1), change=change(files=("src/payments/api/charge.py",)))
    other = facts(reviews=reviews(1), change=change(files=("docs/readme.md",)))
    assert outcome(run(policy, touched), "payments-two-approvals") == "fail"
    verdict = run(policy, other)
    assert outcome(verdict, "payments-two-approvals") == "skipped"
    assert "no changed file matches src/payments/**" in message(verdict, "payments-two-approvals")


def test_unknown_files_apply_the_rule(tmp_path: Path) -> None:
    """When the changed files are unknown, the stricter rule applies (fail closed)."""
    policy = policy_of(tmp_path, RULE.format(when="    paths: ['src/payments/**']"))
    assert outcome(run(policy, facts(reviews=reviews(1))), "payments-two-approvals") == "fail"


def test_branches_from_change_or_subject_ref(tmp_path: Path) -> None:
    """Branch globs match change.branch, else subject.ref without refs/heads/."""
    policy = policy_of(tmp_path, RULE.format(when="    branches: [main, 'release/*']"))
    on_release = facts(reviews=reviews(1), subject=Subject(ref="refs/heads/release/1.2"))
    on_feature = facts(reviews=reviews(1), change=change(branch="feature/x"))
    assert outcome(run(policy, on_release), "payments-two-approvals") == "fail"
    assert outcome(run(policy, on_feature), "payments-two-approvals") == "skipped"


def test_events_and_labels(tmp_path: Path) -> None:
    """Events match exactly; labels apply the rule when any listed label is present."""
    policy = policy_of(
        tmp_path, RULE.format(when="    events: [pull_request]\n    labels: [risky, payments]")
    )
    labelled = facts(reviews=reviews(1), change=change(event="pull_request", labels=("risky",)))
    unlabelled = facts(reviews=reviews(1), change=change(event="pull_request", labels=()))
    push = facts(reviews=reviews(1), change=change(event="push", labels=("risky",)))
    assert outcome(run(policy, labelled), "payments-two-approvals") == "fail"
    assert outcome(run(policy, unlabelled), "payments-two-approvals") == "skipped"
    assert outcome(run(policy, push), "payments-two-approvals") == "skipped"
