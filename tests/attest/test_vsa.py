"""What a VSA says about a record: its decision and the resource it names."""

from __future__ import annotations

import pytest

from gatekeeper.attest.predicate import PREDICATE_TYPE, PREDICATE_TYPE_V1, read_verdict
from gatekeeper.attest.statement import Statement, Subject, statement_from_json
from gatekeeper.attest.vsa import VsaError, decision_of, resource_uri

COMMIT = "c" * 40


def _statement(name: str, url: object = None) -> Statement:
    facts = {"subject": {"url": url}} if url is not None else {}
    return statement_from_json(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"gitCommit": COMMIT}}],
            "predicateType": "https://example.invalid/p",
            "predicate": {"facts": facts},
        }
    )


def test_a_verdict_without_a_policy_digest_has_no_decision() -> None:
    """A VSA must name the policy it verified against; without a digest there is none."""
    with pytest.raises(VsaError, match=r"no gate verdict \(.*policy.digest: Field required"):
        decision_of({"verdict": "pass", "policy": {"name": "pull-request"}})
    with pytest.raises(VsaError, match="names no policy digest"):
        decision_of({"verdict": "pass", "policy": {"name": "p", "digest": ""}})
    decision = decision_of({"verdict": "fail", "policy": {"name": "p", "digest": "ab" * 32}})
    assert (decision.result, decision.policy_name) == ("FAILED", "p")


def test_the_decision_is_read_through_the_typed_predicate() -> None:
    """A v2 predicate of its type and a v1 verdict object both give the decision; a predicate
    read as a version it is not, or of another type, or not an object, holds none."""
    policy = {"name": "", "digest": "cd" * 32}
    v2 = {"verdict": "pass", "policy": policy, "evaluated_at": "2026-12-03T10:00:00Z"}
    decision = decision_of(v2, PREDICATE_TYPE)
    assert (decision.result, decision.policy_name) == ("PASSED", None)
    assert decision_of({"verdict": {"verdict": "fail", "policy": policy}}).result == "FAILED"
    assert (
        decision_of({"verdict": {"verdict": "pass", "policy": policy}}, PREDICATE_TYPE_V1).result
        == "PASSED"
    )
    with pytest.raises(VsaError, match="verdict: Input should be 'pass' or 'fail'"):
        decision_of({"verdict": {"verdict": "fail", "policy": policy}}, PREDICATE_TYPE)
    with pytest.raises(VsaError, match="is not"):
        decision_of(v2, "https://example.invalid/other")
    with pytest.raises(VsaError, match="not an object"):
        decision_of(["pass"])


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("git+https://git.example/acme/shop", None, f"git+https://git.example/acme/shop@{COMMIT}"),
        ("acme/shop", "https://gitlab.example/acme/shop/-/merge_requests/3",
         f"git+https://gitlab.example/acme/shop@{COMMIT}"),
        ("acme/shop", "https://evil host/x", f"git+acme/shop@{COMMIT}"),
        ("acme/shop", "http://plain.example/acme/shop", f"git+acme/shop@{COMMIT}"),
    ],
)  # fmt: skip
def test_the_resource_is_the_commit_as_a_uri(name: str, url: object, expected: str) -> None:
    """A subject that is a URI is used as it is; a host is taken only from an https URL whose
    host is plain; otherwise the name alone."""
    stated = _statement(name, url)
    predicate = {"verdict": "pass", "policy": {"name": "p", "digest": "ab" * 32}}
    typed = read_verdict({**predicate, "facts": stated.predicate["facts"]}, PREDICATE_TYPE_V1)
    assert resource_uri(stated, typed) == expected


def test_the_resource_of_a_subject_with_a_uri_or_no_name() -> None:
    """A subject's `uri` is the resource when its name is not one; a subject with neither a
    meaningful name nor a uri is `git+_`; without the typed predicate no host is guessed."""
    with_uri = statement_from_json(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                {
                    "name": "acme/shop",
                    "uri": "https://git.example/acme/shop",
                    "digest": {"sha256": "ab"},
                }
            ],
            "predicateType": "https://example.invalid/p",
            "predicate": {},
        }
    )
    assert resource_uri(with_uri) == "https://git.example/acme/shop@ab"
    nameless = with_uri.model_copy(
        update={"subject": (Subject(name="_", digest={"gitCommit": COMMIT}),)}
    )
    assert resource_uri(nameless) == f"git+_@{COMMIT}"
    assert (
        resource_uri(_statement("acme/shop", "https://gitlab.example/x"))
        == f"git+acme/shop@{COMMIT}"
    )
