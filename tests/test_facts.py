"""The evidence model's help for missing facts: which input provides a fact."""

from __future__ import annotations

from gatekeeper.facts import (
    Facts,
    ReleaseApproval,
    ReleaseChange,
    fact_names,
    make_release,
    provided_by,
)


def test_the_most_specific_section_names_the_input() -> None:
    """A patch-coverage fact points at the diff, not at a plain coverage report."""
    assert provided_by("coverage.patch.rate") == "a coverage report plus --diff FILE or --base REF"
    assert provided_by("coverage.line_rate").startswith("a coverage report (Cobertura")


def test_a_fact_outside_every_section_gets_the_general_advice() -> None:
    """A name no source is known for still gets a sentence, not an error or an empty string."""
    assert provided_by("deploy.tag") == "a source that provides it"
    assert provided_by("") == "a source that provides it"


def _change(kind: str, verdict: str | None, *, number: int | None = 1) -> ReleaseChange:
    return ReleaseChange.model_validate(
        {
            "kind": kind,
            "number": number,
            "merge_commit": "a" * 40,
            "verdict": verdict,
            "gated": verdict == "pass",
        }
    )


def test_a_release_counts_its_ungated_failed_and_direct_changes() -> None:
    """The counts a release policy reads come from the listed changes, not from the caller."""
    changes = (
        _change("pr", "pass"),
        _change("pr", "fail"),
        _change("mr", None),
        _change("direct push", None, number=None),
    )
    approvals = (
        ReleaseApproval(who="alice", environment="production"),
        ReleaseApproval(who="bob"),
        ReleaseApproval(who="bob", comment="again"),
    )
    release = make_release("v2.0.0", changes, approvals, tag_author="alice", previous_tag="v1.9.0")
    assert (release.changes_total, release.changes_ungated, release.changes_failed) == (4, 3, 1)
    assert release.direct_pushes == 1
    assert release.approvers_not_author == 1  # alice tagged it; bob counts once


def test_release_facts_have_names_a_policy_can_address() -> None:
    """`release.*` names are documented facts, and a missing release points at a tag pipeline."""
    names = fact_names()
    for name in ("release.tag", "release.changes", "release.changes_ungated", "release.approvals"):
        assert name in names
    assert "release.changes.verdict" not in names
    assert provided_by("release.changes") == (
        "a tag or release pipeline with --provider github|gitlab"
    )
    facts = Facts(release=make_release("v1.0.0", (), (), limit=100, since=None))
    assert facts.to_json_dict()["release"]["limit"] == 100
