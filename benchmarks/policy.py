"""Policy engine speed: a 200-rule policy over the facts of a 1,000,000-test run.

Limits (issue 3): evaluation < 50 ms after loading; loading + evaluation < 200 ms.
Peer: the same checks written as plain thresholds vs as CEL expressions.
"first run" is the first load + evaluation in the process: for CEL it includes importing the
`cel` package, which imports its own REPL (prompt_toolkit, pygments) and costs ~0.2 s once.

    python benchmarks/policy.py [--failures N] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gatekeeper.facts import (
    Change,
    Check,
    Checks,
    Coverage,
    Facts,
    PatchCoverage,
    Reviews,
    TestFailure,
    TestSummary,
)
from gatekeeper.policy import evaluate, load_policy
from gatekeeper.policy.load import LoadedPolicy

RULES = 200
EVALUATE_LIMIT_MS = 50.0
TOTAL_LIMIT_MS = 200.0
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

# (metric, op, threshold): the same checks become threshold rules or CEL expressions.
CHECKS: list[tuple[str, str, float | int]] = [
    ("tests.total", ">", 0),
    ("tests.failed", "<=", 5000),
    ("tests.errors", "==", 0),
    ("tests.skipped", "<", 20000),
    ("tests.flaky", "<=", 100),
    ("tests.duration_s", "<", 7200.0),
    ("coverage.line_rate", ">=", 0.8),
    ("coverage.branch_rate", ">=", 0.6),
    ("coverage.patch.rate", ">=", 0.75),
    ("reviews.approvals", ">=", 2),
    ("reviews.changes_requested", "==", 0),
    ("reviews.stale_approvals", "==", 0),
]


def big_facts(failures: int) -> Facts:
    """Facts of a 1,000,000-test run with `failures` realistic failures."""
    listed = tuple(
        TestFailure(
            suite=f"suite-{i % 40}",
            name=f"test_case_{i}",
            classname=f"pkg{i % 97}.module{i % 13}.TestThing",
            file=f"src/pkg{i % 97}/module{i % 13}_test.py",
            line=10 + i % 500,
            message=f"AssertionError: expected {i} but got {i + 1}\n  at line {i % 500}" * 2,
        )
        for i in range(failures)
    )
    return Facts(
        tests=TestSummary(
            total=1_000_000,
            passed=1_000_000 - failures - 1200,
            failed=failures,
            errors=0,
            skipped=1200,
            flaky=12,
            duration_s=3480.5,
            failures=listed,
        ),
        coverage=Coverage(
            lines_valid=2_400_000,
            lines_covered=2_040_000,
            line_rate=0.85,
            branches_valid=600_000,
            branches_covered=420_000,
            branch_rate=0.7,
            patch=PatchCoverage(lines_valid=420, lines_covered=380, rate=380 / 420),
        ),
        reviews=Reviews(approvals=2, approvers=("alice", "bob"), codeowners_approved=True),
        checks=Checks(
            runs=tuple(
                Check(name=f"job-{i}", status="completed", conclusion="success") for i in range(60)
            )
        ),
        change=Change(
            branch="main",
            labels=("release",),
            linked_issues=("QA-1",),
            files=tuple(f"src/pkg{i}/x.py" for i in range(300)),
        ),
    )


def _cel(metric: str, op: str, threshold: float | int) -> str:
    bound = float(threshold) if isinstance(threshold, float) else threshold
    return f"{metric} {op} {bound}"


def policy_text(kind: str, failure_rules: int = 0) -> str:
    """A 200-rule policy: every check as a threshold, as CEL, or half and half."""
    lines = ["version: 1", f"name: bench-{kind}", "rules:"]
    for index in range(RULES - failure_rules):
        metric, op, threshold = CHECKS[index % len(CHECKS)]
        use_cel = kind == "cel" or (kind == "mixed" and index % 2)
        lines += [f"  - id: r{index}", f"    title: Rule {index}"]
        if use_cel:
            lines.append(f"    expr: '{_cel(metric, op, threshold)}'")
        else:
            lines += [f"    metric: {metric}", f'    op: "{op}"', f"    threshold: {threshold}"]
    for index in range(failure_rules):
        lines += [
            f"  - id: f{index}",
            f"    title: No failure in package {index}",
            f"    expr: '!tests.failures.exists(f, f.file.startsWith(\"src/pkg{index}x/\"))'",
        ]
    return "\n".join(lines) + "\n"


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def measure(
    folder: Path, kind: str, facts: Facts, repeat: int, failure_rules: int = 0
) -> tuple[float, float, float]:
    """Median load and evaluate times in ms for one policy kind, and the first (cold) run."""
    path = folder / f"{kind}-{failure_rules}.yml"
    path.write_text(policy_text(kind, failure_rules), encoding="utf-8")
    start = time.perf_counter()
    loaded: list[LoadedPolicy] = [load_policy(path)]  # warms caches (imports, probe activation)
    evaluate(loaded[0], facts, now=NOW)
    cold_ms = (time.perf_counter() - start) * 1000
    load_ms = _median_ms(lambda: loaded.__setitem__(0, load_policy(path)), repeat)
    verdict = evaluate(loaded[0], facts, now=NOW)
    assert len(verdict.rules) == RULES, "every rule evaluated"
    eval_ms = _median_ms(lambda: evaluate(loaded[0], facts, now=NOW), repeat)
    return load_ms, eval_ms, cold_ms


def main() -> None:
    """Print load and evaluation times, the CEL/threshold ratio and the limits."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--failures", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    facts = big_facts(args.failures)
    print(f"200 rules over 1,000,000 tests with {args.failures} failures (median of {args.repeat})")
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, failure_rules in (("threshold", 0), ("cel", 0), ("mixed", 0), ("mixed", 2)):
            label = kind if not failure_rules else f"{kind}+{failure_rules} rules on tests.failures"
            load_ms, eval_ms, cold_ms = measure(Path(tmp), kind, facts, args.repeat, failure_rules)
            results[label] = (load_ms, eval_ms)
            total = load_ms + eval_ms
            print(
                f"  {label:<38} load {load_ms:7.2f} ms  evaluate {eval_ms:6.2f} ms "
                f"({eval_ms / EVALUATE_LIMIT_MS:.2f} of the {EVALUATE_LIMIT_MS:.0f} ms limit)  "
                f"load+evaluate {total:7.2f} ms ({total / TOTAL_LIMIT_MS:.2f} of "
                f"{TOTAL_LIMIT_MS:.0f} ms)  first run {cold_ms:.0f} ms"
            )
    cel_eval, threshold_eval = results["cel"][1], results["threshold"][1]
    cel_load, threshold_load = results["cel"][0], results["threshold"][0]
    print(
        f"  CEL vs threshold: evaluate x{cel_eval / threshold_eval:.2f}, "
        f"load x{cel_load / threshold_load:.2f}"
    )


if __name__ == "__main__":
    main()
