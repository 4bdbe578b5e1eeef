"""Expression budgets: the worker pool kills an overrunning expression, recovers, serves many
threads at once and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gatekeeper.errors import PolicyError
from gatekeeper.facts import TestFailure, TestSummary
from gatekeeper.policy import evaluate, load_policy
from gatekeeper.policy._budget import worker_pids
from tests.policy._helpers import NOW, facts, failing_tests, outcome, policy_of

_SLOW = (
    "tests.failures.all(a, tests.failures.all(b, tests.failures.all(c, a.name + b.name != c.name)))"
)
_RULES = """
- id: few-failures
  expr: tests.failed < 3
- id: named
  expr: tests.failures.all(f, f.message.startsWith("assert"))
"""


def _slow_facts() -> TestSummary:
    failures = tuple(TestFailure(name=f"test_{i}", message="x") for i in range(600))
    return TestSummary(total=600, passed=0, failed=600, errors=0, skipped=0, failures=failures)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_overrun_kills_its_worker_and_the_next_evaluation_is_served(tmp_path: Path) -> None:
    """The worker running an expression past its budget is killed (its process is gone), and
    the next evaluation gets a fresh worker and correct results."""
    slow = policy_of(tmp_path, f"- id: slow\n  expr: '{_SLOW}'\n")
    before = set(worker_pids())
    with pytest.raises(PolicyError, match="rule 'slow': the expression ran longer"):
        evaluate(slow, facts(tests=_slow_facts()), now=NOW, budget=0.3)
    killed = before - set(worker_pids())
    assert killed
    assert all(_gone(pid) for pid in killed)
    quick = policy_of(tmp_path, _RULES)
    assert outcome(evaluate(quick, facts(tests=failing_tests(2)), now=NOW), "few-failures") == (
        "pass"
    )


def test_many_threads_evaluating_at_once_each_get_their_own_results(tmp_path: Path) -> None:
    """Thirty-two evaluations from eight threads over different facts each see their own
    facts, while another thread's expression overruns and is killed."""
    policy = policy_of(tmp_path, _RULES)
    slow = load_policy(_written(tmp_path / "slow.yml", f"- id: slow\n  expr: '{_SLOW}'\n"))

    def judge(count: int) -> tuple[int, str]:
        verdict = evaluate(policy, facts(tests=failing_tests(count % 6)), now=NOW)
        return count, outcome(verdict, "few-failures")

    def overrun() -> str:
        with pytest.raises(PolicyError) as caught:
            evaluate(slow, facts(tests=_slow_facts()), now=NOW, budget=0.3)
        return str(caught.value)

    with ThreadPoolExecutor(max_workers=8) as threads:
        slow_run = threads.submit(overrun)
        results = list(threads.map(judge, range(32)))
    assert results == [(n, "pass" if n % 6 < 3 else "fail") for n in range(32)]
    assert "rule 'slow'" in slow_run.result()


def _written(path: Path, rules: str) -> Path:
    path.write_text("version: 1\nname: t\nrules:\n" + textwrap.indent(rules, "  "), "utf-8")
    return path


def test_no_worker_outlives_the_process_that_started_it(tmp_path: Path) -> None:
    """A process that evaluated a policy leaves no worker process running once it exits."""
    path = _written(tmp_path / "policy.yml", "- id: c\n  expr: tests.failed == 0\n")
    script = textwrap.dedent(
        f"""
        import datetime as dt
        from gatekeeper.facts import Facts, TestSummary
        from gatekeeper.policy import evaluate, load_policy
        from gatekeeper.policy._budget import worker_pids
        policy = load_policy({str(path)!r})
        tests = TestSummary(total=1, passed=1, failed=0, errors=0, skipped=0)
        evaluate(policy, Facts(tests=tests), now=dt.datetime.now(dt.UTC))
        print(*worker_pids())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    pids = [int(pid) for pid in done.stdout.split()]
    assert pids
    assert all(_gone(pid) for pid in pids)
