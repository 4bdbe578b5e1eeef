"""What a VSA says about a record: its decision and the resource it names."""

from __future__ import annotations

import pytest

from gatekeeper.attest.statement import statement_from_json
from gatekeeper.attest.vsa import VsaError, decision_of, resource_uri

COMMIT = "c" * 40


def _statement(name: str, url: object = None) -> object:
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
    with pytest.raises(VsaError, match="no policy digest"):
        decision_of({"verdict": "pass", "policy": {"name": "pull-request"}})
    decision = decision_of({"verdict": "fail", "policy": {"digest": "ab" * 32}})
    assert decision.result == "FAILED"


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
    assert resource_uri(_statement(name, url)) == expected  # type: ignore[arg-type]
