"""A policy carried as a document evaluates again to the same verdict, and what cannot be carried
(Rego modules, extends) or read (bad facts, no rules) is refused with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.policy.recompute import first_difference, load_document, policy_document
from tests.policy._helpers import NOW, facts, failing_tests, policy_of, run

RULES = """
- id: tests-green
  expr: tests.failed + tests.errors == 0
- id: line-coverage
  metric: coverage.line_rate
  op: ">="
  threshold: 0.8
"""


def test_a_document_evaluates_again_to_the_same_verdict(tmp_path: Path) -> None:
    """The merged policy as a document gives the same outcomes over the same facts and time."""
    loaded = policy_of(tmp_path, RULES)
    given = facts(tests=failing_tests())
    verdict = run(loaded, given)
    document = policy_document(loaded)
    assert document is not None
    assert "extends" not in document
    again = load_document(document, "d" * 64)
    outcomes = tuple((r.id, r.outcome) for r in verdict.rules)
    assert first_difference(again, given.to_json_dict(), NOW, verdict.verdict, outcomes) is None


def test_a_policy_with_rego_rules_has_no_document(tmp_path: Path) -> None:
    """A Rego rule reads a module file the document does not hold: no document is carried."""
    (tmp_path / "deny.rego").write_text("package gate\n", encoding="utf-8")
    loaded = policy_of(tmp_path, "- id: r\n  rego: deny.rego\n")
    assert policy_document(loaded) is None


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"version": 1, "name": "x", "extends": "other.yml", "rules": []}, "may not extend"),
        ({"version": 1, "name": "x", "rules": [{"id": "r", "rego": "a.rego"}]}, "Rego"),
        ({"version": 1, "name": "x"}, "no rules"),
        ("not a mapping", "mapping"),
    ],
)
def test_an_unusable_document_is_a_policy_error(document: object, says: str) -> None:
    """A document that extends, uses Rego, has no rules or is not a mapping is refused."""
    with pytest.raises(PolicyError, match=says):
        load_document(document, "d" * 64)


def test_facts_that_are_not_facts_are_a_policy_error(tmp_path: Path) -> None:
    """Carried facts the model does not read are refused, naming the place."""
    loaded = load_document(policy_document(policy_of(tmp_path, RULES)), "d" * 64)
    with pytest.raises(PolicyError, match="tests"):
        first_difference(loaded, {"tests": {"total": "many"}}, NOW, "pass", ())
