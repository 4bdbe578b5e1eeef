"""Loading: bad input gives one line with file:line:col; extends; digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.facts import Reviews
from gatekeeper.policy import load_policy
from gatekeeper.policy.explain import explain_policy
from gatekeeper.policy.problems import PolicyProblemsError
from tests.policy._helpers import facts, failing_tests, outcome, policy_of, run, write

GOOD_RULE = """  - id: cov
    title: Coverage
    metric: coverage.line_rate
    op: ">="
    threshold: 0.8
"""


def _error(tmp_path: Path, text: str) -> PolicyError:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))
    return caught.value


def test_yaml_syntax_error(tmp_path: Path) -> None:
    """A YAML syntax error points at the `[` that is never closed, not at the file's end."""
    error = _error(tmp_path, "version: 1\nname: t\nrules:\n  - id: [unclosed\n")
    assert (error.line, error.column) == (4, 9)
    assert "YAML error: this [ is never closed (did not find expected ',' or ']' at 5:1)" in str(
        error
    )


@pytest.mark.parametrize(
    ("text", "place", "words"),
    [
        ("version: 1\nname: 't\n\nrules: []\n", (2, 7), "this quoted string is never closed"),
        ("version: 1\nname: t\nrules: {a: 1\nb: 2\n", (3, 8), "this { is never closed"),
    ],
)
def test_unclosed_yaml_constructs_point_at_their_start(
    tmp_path: Path, text: str, place: tuple[int, int], words: str
) -> None:
    """A quote or brace left open is reported where it opens, where the fix goes."""
    error = _error(tmp_path, text)
    assert (error.line, error.column) == place
    assert words in str(error)


def test_unknown_field_suggests(tmp_path: Path) -> None:
    """An unknown key is reported at the key, with the closest allowed field."""
    error = _error(tmp_path, "version: 1\nname: t\nrules:\n" + GOOD_RULE + "    treshold: 1\n")
    assert (error.line, error.column) == (9, 5)
    assert "unknown field 'treshold' in rules[0]; did you mean threshold?" in str(error)


def test_unknown_metric_suggests(tmp_path: Path) -> None:
    """A metric that is no fact names the closest one."""
    text = "version: 1\nname: t\nrules:\n" + GOOD_RULE.replace("line_rate", "linerate")
    error = _error(tmp_path, text)
    assert (error.line, error.column) == (6, 13)
    assert str(error).endswith(
        "rule 'cov': unknown fact 'coverage.linerate'; did you mean coverage.line_rate?"
    )


def test_wrong_threshold_type(tmp_path: Path) -> None:
    """A threshold that is text is rejected at the threshold."""
    text = "version: 1\nname: t\nrules:\n" + GOOD_RULE.replace("0.8", '"80%"')
    error = _error(tmp_path, text)
    assert (error.line, error.column) == (8, 16)
    assert "rules[0].threshold" in str(error)


def test_rate_threshold_as_percent_is_rejected(tmp_path: Path) -> None:
    """A rate compared with 80 instead of 0.8 is a mistake the loader names."""
    text = "version: 1\nname: t\nrules:\n" + GOOD_RULE.replace("0.8", "80")
    assert "write 0.8 for 80%" in str(_error(tmp_path, text))


def test_boolean_threshold_on_number_is_rejected(tmp_path: Path) -> None:
    """A true/false threshold on a numeric fact is a type error."""
    text = "version: 1\nname: t\nrules:\n" + GOOD_RULE.replace("0.8", "true")
    assert "must be a number" in str(_error(tmp_path, text))


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    """Two rules with one id in a file are an error at the second id."""
    error = _error(tmp_path, "version: 1\nname: t\nrules:\n" + GOOD_RULE + GOOD_RULE)
    assert (error.line, error.column) == (9, 9)
    assert "duplicate rule id 'cov'" in str(error)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    """A key given twice in one mapping is an error, not a silent override."""
    error = _error(tmp_path, "version: 1\nname: t\nname: u\nrules:\n" + GOOD_RULE)
    assert (error.line, error.column) == (3, 1)


def test_rule_needs_exactly_one_condition(tmp_path: Path) -> None:
    """A rule with both metric and expr is rejected at the rule."""
    text = "version: 1\nname: t\nrules:\n" + GOOD_RULE + "    expr: tests.failed == 0\n"
    error = _error(tmp_path, text)
    assert "exactly one of metric, expr or rego (found metric, expr)" in str(error)
    assert error.line == 4


def test_empty_rule_set_is_an_error(tmp_path: Path) -> None:
    """A policy without rules would pass anything: it is an error."""
    assert "no rules" in str(_error(tmp_path, "version: 1\nname: t\nrules: []\n"))


def test_empty_file_and_wrong_version(tmp_path: Path) -> None:
    """An empty file and an unsupported version are both errors."""
    assert "empty" in str(_error(tmp_path, ""))
    assert "version" in str(_error(tmp_path, "version: 2\nname: t\nrules:\n" + GOOD_RULE))


def test_missing_file(tmp_path: Path) -> None:
    """A policy path that does not exist is a PolicyError naming it and the ready policies."""
    with pytest.raises(PolicyError, match="cannot read policy") as caught:
        load_policy(tmp_path / "nope.yml")
    assert "use a ready policy by name: iso9001-release, pull-request" in str(caught.value)


def test_single_file_digest_is_sha256_of_bytes(tmp_path: Path) -> None:
    """A policy that stands alone has the SHA-256 of its bytes as digest."""
    path = write(tmp_path, "version: 1\nname: t\nrules:\n" + GOOD_RULE)
    loaded = load_policy(path)
    assert loaded.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run(loaded, facts()).policy.digest == loaded.digest


def test_extends_file_merges_by_id(tmp_path: Path) -> None:
    """A child's rule replaces the parent's rule of the same id in place; new rules append."""
    write(
        tmp_path,
        "version: 1\nname: base\nrules:\n"
        + GOOD_RULE
        + "  - id: green\n    title: G\n    expr: tests.failed == 0\n",
        "base.yml",
    )
    child = write(
        tmp_path,
        "version: 1\nname: child\nextends: base.yml\nrules:\n"
        + GOOD_RULE.replace("0.8", "0.9")
        + "  - id: extra\n    title: E\n    metric: tests.total\n    op: '>'\n    threshold: 0\n",
    )
    loaded = load_policy(child)
    assert [rule.id for rule in loaded.policy.rules] == ["cov", "green", "extra"]
    assert loaded.policy.rules[0].threshold == 0.9
    assert loaded.name == "child"
    assert outcome(run(loaded, facts()), "cov") == "fail"  # 85% < 90%
    parts = [
        hashlib.sha256((tmp_path / n).read_bytes()).digest() for n in ("policy.yml", "base.yml")
    ]
    assert loaded.digest == hashlib.sha256(b"".join(parts)).hexdigest()
    assert [name for name, _ in loaded.files] == [str(child), str(tmp_path / "base.yml")]


def test_extends_ready_policy_by_name(tmp_path: Path) -> None:
    """`extends: pull-request` loads the shipped ready policy."""
    child = write(tmp_path, "version: 1\nname: mine\nextends: pull-request\nrules: []\n")
    loaded = load_policy(child)
    assert "approved" in [rule.id for rule in loaded.policy.rules]


def test_extends_cycle(tmp_path: Path) -> None:
    """Policies extending each other are an error, not an endless loop."""
    write(tmp_path, "version: 1\nname: a\nextends: b.yml\nrules:\n" + GOOD_RULE, "a.yml")
    write(tmp_path, "version: 1\nname: b\nextends: a.yml\nrules:\n" + GOOD_RULE, "b.yml")
    with pytest.raises(PolicyError, match="makes a cycle"):
        load_policy(tmp_path / "a.yml")


def test_extends_unknown_ready_policy(tmp_path: Path) -> None:
    """An unknown ready policy name lists the ready ones."""
    path = write(tmp_path, "version: 1\nname: a\nextends: nope\nrules:\n" + GOOD_RULE)
    with pytest.raises(PolicyError, match=r"no ready policy 'nope'.*pull-request"):
        load_policy(path)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    """YAML aliases that expand exponentially are refused quickly, not expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    error = _error(tmp_path, "\n".join(lines) + "\n")
    assert "too many nodes" in str(error)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    """A recursive alias is refused as nesting too deep."""
    error = _error(tmp_path, "version: 1\nname: &n [*n]\n")
    assert "too deep" in str(error) or "YAML error" in str(error)


def test_rules_without_title_read_as_their_condition(tmp_path: Path) -> None:
    """`title` is optional (DESIGN): the verdict and the explanation use the condition in words."""
    policy = policy_of(
        tmp_path,
        """
        - id: cov
          metric: coverage.line_rate
          op: ">="
          threshold: 0.8
        - id: green
          expr: tests.failed + tests.errors == 0
        """,
    )
    verdict = run(policy, facts(tests=failing_tests(1)))
    titles = {rule.id: rule.title for rule in verdict.rules}
    assert titles == {
        "cov": "Line coverage at least 80.0%",
        "green": "Failed tests plus tests in error exactly 0",
    }
    assert outcome(verdict, "green") == "fail"
    assert "cov (Line coverage at least 80.0%)" in explain_policy(policy)


def test_simple_cel_conditions_read_as_sentences_and_others_as_cel(tmp_path: Path) -> None:
    """Comparisons of facts joined by && read as words; anything else shows the raw CEL."""
    policy = policy_of(
        tmp_path,
        """
        - id: cov
          expr: coverage.line_rate >= 0.8
        - id: base
          expr: size(tests.new_failures) == 0 && coverage.delta >= -0.01
        - id: owners
          expr: reviews.codeowners_approved
        - id: raw
          expr: tests.failures.exists(f, f.name == "x") || tests.total > 2
        - id: unknown-words
          expr: tests.total > 2 && "a" == "a"
        """,
    )
    titles = {rule.id: rule.title for rule in run(policy, facts()).rules}
    assert titles == {
        "cov": "Line coverage at least 80.0%",
        "base": "New failures against the base: none and line coverage change against the base "
        "at least -0.01",
        "owners": "Code owner approval",
        "raw": 'tests.failures.exists(f, f.name == "x") || tests.total > 2 holds',
        "unknown-words": 'tests.total > 2 && "a" == "a" holds',
    }


def test_unquoted_clause_says_to_quote_it(tmp_path: Path) -> None:
    """`clause: 8.6` is a float in YAML; the error says to quote it, at the value's place."""
    error = _error(tmp_path, "version: 1\nname: t\nrules:\n" + GOOD_RULE + "    clause: 8.6\n")
    assert 'quote it: clause: "8.6"' in str(error)
    assert error.line == 9


def test_count_rules_read_as_sentences(tmp_path: Path) -> None:
    """A count against a bound reads "1 test failed (0 allowed)", like a person says it."""
    policy = policy_of(
        tmp_path,
        """
        - id: green
          metric: tests.failed
          op: "<="
          threshold: 0
        - id: eyes
          metric: reviews.approvals
          op: ">="
          threshold: 2
        """,
    )
    verdict = run(
        policy, facts(tests=failing_tests(1), reviews=Reviews(approvals=1, approvers=("bob",)))
    )
    messages = {rule.id: rule.message for rule in verdict.rules}
    assert messages["green"] == "1 test failed (0 allowed)"
    assert messages["eyes"] == "1 approval (2 required)"


def test_shape_problems_do_not_hide_compile_problems(tmp_path: Path) -> None:
    """A wrongly typed field of one rule and the CEL error of another are raised together, each
    at its own line; the rest of the file is still checked."""
    text = """version: 1
name: x
rules:
  - id: typed
    metric: coverage.line_rate
    op: ">="
    threshold: [1]
  - id: broken
    expr: "tests.failed =="
"""
    error = _error(tmp_path, text)
    assert isinstance(error, PolicyProblemsError)
    first, last = error.problems[0], error.problems[-1]
    assert (first.line, first.detail.startswith("rules[0].threshold")) == (7, True)
    assert (last.line, last.detail.startswith("rule 'broken': CEL syntax error")) == (9, True)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("version: 1\nname: x\nrules: 5\n", "rules: Input should be a valid"),
        (f"version: 1\nname: x\nrules:\n{GOOD_RULE}waivers: no\n", "waivers: Input should be"),
    ],
)
def test_rules_or_waivers_not_a_list_is_the_one_problem(
    tmp_path: Path, text: str, detail: str
) -> None:
    """When `rules` or `waivers` is not a list, that is the problem reported, nothing compiled."""
    assert _error(tmp_path, text).detail.startswith(detail)
