"""Ready policies and the JSON Schema: shipped, identical to policies/, not stale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from gatekeeper.policy import load_policy, ready_policy_names
from gatekeeper.policy.schema import PACKAGE_FOLDER, SOURCE_FOLDER, schema_text, shipped_files
from tests.policy._helpers import facts, reviews, run

ROOT = Path(__file__).resolve().parents[2]


def test_schema_is_not_stale() -> None:
    """policies/policy.schema.json equals the schema generated from the model.

    Regenerate with `python -m gatekeeper.policy.schema --write`.
    """
    assert (ROOT / "policies" / "policy.schema.json").read_text(encoding="utf-8") == schema_text()


def test_package_data_matches_policies_folder() -> None:
    """The ready policies shipped in the package are byte-identical to policies/."""
    assert SOURCE_FOLDER == ROOT / "policies"
    source = {path.name: path.read_bytes() for path in shipped_files(SOURCE_FOLDER)}
    shipped = {path.name: path.read_bytes() for path in shipped_files(PACKAGE_FOLDER)}
    assert shipped == source


@pytest.mark.parametrize("name", ["pull-request", "iso9001-release"])
def test_ready_policy_loads_and_matches_schema(name: str) -> None:
    """Each ready policy loads by name and validates against the JSON Schema."""
    assert name in ready_policy_names()
    schema = json.loads(schema_text())
    document = yaml.safe_load((ROOT / "policies" / f"{name}.yml").read_text(encoding="utf-8"))
    document["waivers"] = [{**w, "expires": str(w["expires"])} for w in document.get("waivers", [])]
    jsonschema.validate(document, schema)
    assert load_policy(name).name == name


def test_schema_rejects_two_conditions() -> None:
    """The schema tells editors a rule has exactly one condition."""
    schema = json.loads(schema_text())
    bad = {
        "version": 1,
        "name": "x",
        "rules": [
            {
                "id": "a",
                "title": "A",
                "expr": "true",
                "metric": "tests.total",
                "op": ">",
                "threshold": 0,
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_iso_rules_carry_clauses() -> None:
    """Every rule of iso9001-release names one of the clauses it gives evidence for."""
    policy = load_policy("iso9001-release")
    clauses = {rule.clause for rule in policy.policy.rules}
    assert clauses == {"8.3.4", "8.5.6", "8.6", "8.7"}


def test_pull_request_policy_passes_a_good_change() -> None:
    """A green, covered, approved change passes the pull-request policy."""
    from gatekeeper.facts import Coverage, PatchCoverage, Reviews

    cov = Coverage(
        lines_valid=10,
        lines_covered=9,
        line_rate=0.9,
        patch=PatchCoverage(lines_valid=5, lines_covered=5, rate=1.0),
    )
    good = facts(coverage=cov, reviews=Reviews(approvals=1, approvers=("bob",)))
    assert run(load_policy("pull-request"), good).verdict == "pass"
    assert (
        run(load_policy("pull-request"), facts(coverage=cov, reviews=reviews(0))).verdict == "fail"
    )


def test_readme_cel_examples_compile() -> None:
    """Every `expr:` example in policies/README.md compiles and type-checks."""
    from gatekeeper.policy.cel import compile_expression

    readme = (ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    examples = [
        yaml.safe_load(line.strip())["expr"]
        for line in readme.splitlines()
        if line.startswith("expr: ")
    ]
    assert len(examples) >= 5
    for example in examples:
        compile_expression(example)


def test_readme_lists_every_fact() -> None:
    """policies/README.md names every fact section and field policies may use."""
    from gatekeeper.facts import fact_names

    readme = (ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    for name in fact_names():
        leaf = name.rsplit(".", 1)[-1]
        assert f"`{name}`" in readme or f".{leaf}`" in readme or f"`{name}." in readme, name


def test_schema_command_prints_and_rejects_unknown_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m gatekeeper.policy.schema` prints the schema; an unknown flag is exit 2."""
    from gatekeeper.policy.schema import main

    assert main([]) == 0
    assert capsys.readouterr().out == schema_text()
    assert main(["--nope"]) == 2
