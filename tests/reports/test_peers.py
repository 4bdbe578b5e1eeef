"""Every report of shared/peers (fixtures of other projects' test suites, MANIFEST.tsv) is read as
its format defines or refused where refusing is right; where the peer project's own tests state
the counts, ours are the same, except the differences listed below with why."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.errors import ReportError
from gatekeeper.reports import parse_report, reports_to_facts
from tests.reports.conftest import find_peers

# MANIFEST format -> the registered format that reads it
FORMATS = {
    "junit": "junit",
    "cobertura": "cobertura",
    "clover": "clover",
    "jacoco": "jacoco",
    "lcov": "lcov",
    "go-coverprofile": "go-coverprofile",
    "go-test-json": "gotest",
    "nunit2": "nunit",
    "nunit3": "nunit",
    "nunit-test-suite": "nunit",
    "trx": "trx",
    "xunit.net-v1": "xunit-net",
    "xunit.net-v2": "xunit-net",
    "tap": "tap",
}
NOT_READ = {"dart-json": "a Dart test JSON", "mocha-json": "a mocha JSON", "rspec-json": "RSpec"}

TESTS = ("total", "passed", "failed", "errors", "skipped")

PEERS_MISSING = (
    "the peers' report fixtures are not here: put the shared/ folder (with peers/MANIFEST.tsv)"
    " beside the checkout or an ancestor of it to run the peer tests"
)


def _tests(*counts: int) -> dict[str, int]:
    return {f"tests.{name}": value for name, value in zip(TESTS, counts, strict=True)}


def _lines(covered: int, valid: int, *branches: int) -> dict[str, int]:
    found = {"coverage.lines_covered": covered, "coverage.lines_valid": valid}
    if branches:
        found |= {"coverage.branches_covered": branches[0], "coverage.branches_valid": branches[1]}
    return found


def _dorny(total: int, passed: int, failed: int, skipped: int) -> dict[str, int]:
    return {
        "tests.total": total,
        "tests.passed": passed,
        "tests.failed+errors": failed,
        "tests.skipped": skipped,
    }


def _summary(passed: int, failed: int, skipped: int) -> dict[str, int]:
    return {"tests.passed": passed, "tests.failed+errors": failed, "tests.skipped": skipped}


# What the peer's own tests expect: dorny's __tests__/__outputs__/*.md ("N tests were completed
# ... with P passed, F failed and S skipped"), test-summary's test/junit.ts and test/tap.ts
# (result.counts), gcovr's reference coverage_summary.json / coverage.txt TOTAL row of the test
# that wrote each file (line and branch totals of all its formats), EnricoMi's
# `<name>.results.json` per-run figures (runs, runs_succ, runs_fail, runs_error, runs_skip),
# codecov's insta snapshots (testruns by outcome), and the figures MANIFEST.tsv quotes from
# coverage-model's, junit-plugin's and action-junit-report's tests ("failed" there counts errors
# too: `tests.failed+errors`).
PEER: dict[str, dict[str, int]] = {
    "enricomi/junit-xml/empty-system-out-err.xml": _tests(1, 1, 0, 0, 0),
    "enricomi/junit-xml/jest/jest-junit.xml": _tests(2, 2, 0, 0, 0),
    "enricomi/junit-xml/no-attributes.xml": _tests(4, 1, 1, 1, 1),
    "enricomi/junit-xml/pytest/junit.gloo.elastic.spark.tf.xml": _tests(22, 20, 0, 0, 2),
    "enricomi/junit-xml/pytest/junit.gloo.elastic.spark.torch.xml": _tests(22, 22, 0, 0, 0),
    "enricomi/junit-xml/pytest/junit.gloo.elastic.xml": _tests(14, 10, 0, 0, 4),
    "enricomi/junit-xml/pytest/junit.gloo.standalone.xml": _tests(97, 80, 0, 0, 17),
    "enricomi/junit-xml/pytest/junit.gloo.static.xml": _tests(24, 12, 0, 0, 12),
    "enricomi/junit-xml/pytest/junit.mpi.integration.xml": _tests(3, 3, 0, 0, 0),
    "enricomi/junit-xml/pytest/junit.mpi.standalone.xml": _tests(97, 96, 0, 0, 1),
    "enricomi/junit-xml/pytest/junit.mpi.static.xml": _tests(24, 24, 0, 0, 0),
    "enricomi/junit-xml/pytest/junit.spark.integration.1.xml": _tests(35, 33, 0, 0, 2),
    "enricomi/junit-xml/pytest/junit.spark.integration.2.xml": _tests(35, 33, 0, 0, 2),
    "enricomi/junit-xml/scalatest/TEST-uk.co.gresearch.spark.diff.DiffOptionsSuite.xml": _tests(
        5, 5, 0, 0, 0
    ),
    "enricomi/junit-xml/testsuite-in-testsuite.xml": _tests(5, 5, 0, 0, 0),
    "enricomi/junit-xml/tst/disabled.xml": _tests(31, 11, 19, 1, 0),
    "enricomi/junit-xml/unsupported-unicode.xml": _tests(7, 1, 2, 2, 2),
    "enricomi/nunit/mstest/clicketyclackety.xml": _tests(23, 13, 10, 0, 0),
    "enricomi/nunit/mstest/timewarpinc.xml": _tests(1, 0, 1, 0, 0),
    "enricomi/nunit/nunit3/jenkins/NUnit-correct.xml": _tests(28, 18, 1, 1, 8),
    "enricomi/nunit/nunit3/jenkins/NUnit-ignored.xml": _tests(3, 1, 0, 0, 2),
    "enricomi/nunit/nunit3/jenkins/NUnit-issue33493.xml": _tests(2, 2, 0, 0, 0),
    "enricomi/nunit/nunit3/jenkins/NUnit-issue50162.xml": _tests(6, 3, 3, 0, 0),
    "enricomi/nunit/nunit3/jenkins/NUnit-issue6353.xml": _tests(3, 1, 1, 0, 1),
    "enricomi/nunit/nunit3/jenkins/NUnit.xml": _tests(4, 3, 1, 0, 0),
    "enricomi/trx/mstest/pickles.trx": _tests(4, 3, 1, 0, 0),
    "enricomi/trx/nunit/NUnit-net461-sample.trx": _tests(6, 2, 3, 0, 1),
    "enricomi/trx/nunit/SilentNotes.trx": _tests(79, 67, 0, 0, 12),
    "enricomi/trx/xunit/dotnet-trx.trx": _tests(11, 5, 5, 0, 1),
    "enricomi/trx/yami_YAMILEX_2015-10-24_04_18_59.trx": _tests(25, 2, 2, 0, 21),
    "enricomi/xunit/mstest/fixie.xml": _tests(7, 3, 3, 0, 1),
    "enricomi/xunit/mstest/jenkinsci/testcase1.xml": _tests(3, 1, 1, 0, 1),
    "enricomi/xunit/mstest/jenkinsci/testcase3.xml": _tests(3, 1, 1, 0, 1),
    "enricomi/xunit/mstest/pickles.xml": _tests(4, 3, 1, 0, 0),
    "codecov/ctest.xml": _tests(1, 0, 1, 0, 0),
    "codecov/empty_failure.junit.xml": _tests(2, 1, 1, 0, 0),
    "codecov/jest-junit.xml": _tests(4, 4, 0, 0, 0),
    "codecov/junit-nested-testsuite.xml": _tests(2, 1, 1, 0, 0),
    "codecov/junit-no-testcase-timestamp.xml": _tests(2, 1, 1, 0, 0),
    "codecov/junit.xml": _tests(3, 2, 1, 0, 0),
    "codecov/no-testsuite-name.xml": _tests(1, 0, 1, 0, 0),
    "codecov/no-time.xml": _tests(2, 2, 0, 0, 0),
    "codecov/phpunit.junit.xml": _tests(2, 2, 0, 0, 0),
    "codecov/skip-error.junit.xml": _tests(3, 0, 0, 2, 1),
    "codecov/testsuites.xml": _tests(0, 0, 0, 0, 0),
    "codecov/vitest-junit.xml": _tests(2, 1, 1, 0, 0),
    "codecov/warnings-junit.xml": _tests(0, 0, 0, 0, 0),
    "codecov/with-eval-properties-junit.xml": _tests(1, 0, 1, 0, 0),
    "gcovr/const-functions_gcc-14/clover.xml": _lines(17, 19),
    "gcovr/const-functions_gcc-14/cobertura.xml": _lines(17, 19, 2, 4),
    "gcovr/const-functions_gcc-14/coverage.lcov": _lines(17, 19, 2, 4),
    "gcovr/const-functions_gcc-14/jacoco.xml": _lines(17, 19, 2, 4),
    "gcovr/exclusion_exclude-branch_gcc-5/cobertura.xml": _lines(11, 14),
    "gcovr/exclusion_exclude-branch_gcc-5/coverage.lcov": _lines(11, 14),
    "gcovr/exclusion_exclude-branch_gcc-5/jacoco.xml": _lines(11, 14),
    "gcovr/merging_different-functions-merge-use-line-0_gcc-5/coverage.lcov": _lines(7, 8),
    "gcovr/merging_different-functions-merge-use-line-max_gcc-5/cobertura.xml": _lines(7, 8),
    "gcovr/merging_different-functions-merge-use-line-max_gcc-5/coverage.lcov": _lines(7, 8),
    "gcovr/nested_oos_gcc-5/cobertura.xml": _lines(19, 32),
    "gcovr/nested_oos_gcc-5/coverage.lcov": _lines(19, 32),
    "gcovr/nested_standard_gcc-5/clover.xml": _lines(25, 42),
    "gcovr/nested_standard_gcc-5/cobertura.xml": _lines(25, 42),
    "gcovr/nested_standard_gcc-5/coverage.lcov": _lines(25, 42),
    "gcovr/nested_standard_gcc-5/jacoco.xml": _lines(25, 42),
    "gcovr/several-functions-on-same-line_gcc-8/clover.xml": _lines(41, 43),
    "gcovr/several-functions-on-same-line_gcc-8/cobertura.xml": _lines(41, 43),
    "gcovr/several-functions-on-same-line_gcc-8/coverage.lcov": _lines(41, 43),
    "gcovr/several-functions-on-same-line_gcc-8/jacoco.xml": _lines(41, 43),
    "gcovr/simple_standard_gcc-5/clover.xml": _lines(7, 11),
    "gcovr/simple_standard_gcc-5/cobertura.xml": _lines(7, 11, 2, 4),
    "gcovr/simple_standard_gcc-5/jacoco.xml": _lines(7, 11, 2, 4),
    "gcovr/virtual-classes_gcc-14/clover.xml": _lines(23, 30),
    "gcovr/virtual-classes_gcc-14/cobertura.xml": _lines(23, 30, 18, 36),
    "gcovr/virtual-classes_gcc-14/coverage.lcov": _lines(23, 30, 18, 36),
    "gcovr/virtual-classes_gcc-14/jacoco.xml": _lines(23, 30, 18, 36),
    "gcovr/windows_drive-subst_gcc-14-Windows/clover.xml": _lines(7, 9),
    "gcovr/windows_drive-subst_gcc-14-Windows/cobertura.xml": _lines(7, 9, 2, 4),
    "gcovr/windows_drive-subst_gcc-14-Windows/coverage.lcov": _lines(7, 9, 2, 4),
    "gcovr/windows_drive-subst_gcc-14-Windows/jacoco.xml": _lines(7, 9, 2, 4),
    "gcovr/wspace_gcc-7/cobertura.xml": _lines(7, 9),
    "gcovr/wspace_gcc-7/coverage.lcov": _lines(7, 9),
    "gcovr/wspace_gcc-7/jacoco.xml": _lines(7, 9),
    "coverage-model/clover/clover-empty-package.xml": _lines(69, 69),
    "coverage-model/clover/clover-java.xml": _lines(1, 17, 1, 2),
    "coverage-model/clover/clover.xml": _lines(143, 165),
    "coverage-model/cobertura/cobertura-absolute-path.xml": _lines(12, 12, 6, 6),
    "coverage-model/cobertura/cobertura-counter-aggregation.xml": {
        "coverage.branches_covered": 31,
        "coverage.branches_valid": 32,
    },
    "coverage-model/cobertura/cobertura-duplicate-lines.xml": _lines(5, 7, 6, 14),
    "coverage-model/cobertura/cobertura-merge-a.xml": _lines(22, 22, 2, 3),
    "coverage-model/cobertura/cobertura-merge-b.xml": _lines(16, 22, 0, 3),
    "coverage-model/cobertura/cobertura-npe.xml": _lines(44, 53, 3, 4),
    "coverage-model/cobertura/cobertura-python.xml": _lines(19, 19, 4, 4),
    "coverage-model/cobertura/cobertura-ts.xml": _lines(63, 156, 21, 32),
    "coverage-model/cobertura/cobertura.xml": _lines(62, 82, 2, 4),
    "coverage-model/go/go-coverage-atomic.out": _lines(14, 22),
    "coverage-model/go/go-relative-import.out": _lines(14, 22),
    "coverage-model/jacoco/jacoco-codingstyle.xml": _lines(294, 323, 109, 116),
    "coverage-model/jacoco/jacoco-merge-a.xml": _lines(8, 26, 2, 14),
    "coverage-model/jacoco/jacoco-merge-c.xml": _lines(7, 26, 1, 14),
    "coverage-model/junit/JENKINS-64117.xml": {"tests.total": 3, "tests.passed": 2},
    "coverage-model/junit/TEST-org.jenkinsci.plugins.jvctb.perform.JvctbPerformerTest.xml": {
        "tests.total": 1,
        "tests.passed": 0,
    },
    "coverage-model/junit/TESTS-TestSuites.xml": {"tests.total": 2, "tests.passed": 0},
    "coverage-model/junit/archunit1.xml": {"tests.total": 1, "tests.failed+errors": 1},
    "coverage-model/junit/archunit2.xml": {"tests.total": 3, "tests.passed": 1},
    "coverage-model/junit/cfn-lint.xml": {
        "tests.total": 141,
        "tests.skipped": 19,
        "tests.passed": 121,
    },
    "coverage-model/junit/issue-113.xml": {"tests.total": 1, "tests.passed": 0},
    "coverage-model/junit/jest-junit.xml": {"tests.total": 11, "tests.passed": 10},
    "coverage-model/junit/junit-no-message-or-type.xml": {"tests.total": 3, "tests.passed": 2},
    "coverage-model/junit/junit.xml": {"tests.total": 6, "tests.passed": 4},
    "coverage-model/junit/junit2.xml": {"tests.total": 1, "tests.passed": 0},
    "coverage-model/junit/plainerror.xml": {"tests.total": 1, "tests.passed": 0},
    "coverage-model/lcov/large-hit-counts.lcov": _lines(1, 2),
    "coverage-model/lcov/report.lcov": _lines(4, 6),
    "coverage-model/lcov/single.lcov": _lines(1, 1),
    "junit-plugin/JENKINS-42438/junit-report-1.xml": {"tests.total": 11},
    "junit-plugin/eclipse-plugin-test-report.xml": {"tests.total": 3366},
    "junit-plugin/junit-report-6700.xml": {"tests.total": 1, "tests.failed+errors": 1},
    "junit-plugin/junit-report-with-properties.xml": {"tests.total": 2},
    "mikepenz/cunit/testFailure.xml": {"tests.total": 4, "tests.failed+errors": 1},
    "mikepenz/flaky_retries/flaky_all_failures.xml": {"tests.total": 1, "tests.failed+errors": 1},
    "mikepenz/flaky_retries/flaky_success_first.xml": {"tests.total": 1, "tests.passed": 1},
    "mikepenz/flaky_retries/flaky_with_classname_file.xml": {
        "tests.total": 3,
        "tests.passed": 3,
        "tests.failed+errors": 0,
    },
    "mikepenz/issues/testFailedDisabled.xml": _tests(1, 0, 0, 0, 1),
    "mikepenz/junit-server-test/report.xml": {
        "tests.total": 3,
        "tests.skipped": 1,
        "tests.passed": 2,
        "tests.failed+errors": 0,
    },
    "mikepenz/junit_flaky_failure/marathon_junit_report.xml": {
        "tests.total": 1,
        "tests.skipped": 0,
        "tests.passed": 1,
    },
    "mikepenz/junit_flaky_failure/mixed_flaky_and_passed.xml": {
        "tests.total": 3,
        "tests.passed": 3,
        "tests.failed+errors": 0,
    },
    "mikepenz/marathon_tests/com.mikepenz.DummyTest3_test_01.xml": {
        "tests.total": 1,
        "tests.failed+errors": 1,
    },
    "mikepenz/marathon_tests/com.mikepenz.DummyTest_test_02_dummy.xml": {
        "tests.total": 1,
        "tests.skipped": 0,
        "tests.failed+errors": 0,
    },
    "mikepenz/marathon_tests/com.mikepenz.DummyUtilTest_test_01_dummy.xml": {
        "tests.total": 1,
        "tests.failed+errors": 1,
    },
    "mikepenz/multiple_failures/test_multiple_errors.xml": {
        "tests.total": 3,
        "tests.passed": 1,
        "tests.skipped": 0,
        "tests.failed+errors": 2,
    },
    "mikepenz/nested/multi-level.xml": {
        "tests.total": 3,
        "tests.passed": 3,
        "tests.skipped": 0,
        "tests.failed+errors": 0,
    },
    "mikepenz/python/report.xml": {"tests.total": 3, "tests.failed+errors": 2},
    "mikepenz/tests/utils/target/surefire-reports/TEST-action.surefire.report.calc.CalcUtilsTest.xml": {  # noqa: E501
        "tests.total": 2,
        "tests.failed+errors": 2,
    },
    "mikepenz/xunit/report.xml": {"tests.total": 4, "tests.failed+errors": 1},
    "mikepenz/xunit/report_fl_on_f.xml": {"tests.total": 4, "tests.failed+errors": 1},
    "dorny/dotnet-nunit.xml": _dorny(9, 3, 5, 1),
    "dorny/dotnet-xunitv3.trx": _dorny(4, 1, 3, 0),
    "dorny/empty/dotnet-trx.trx": _dorny(0, 0, 0, 0),
    "dorny/empty/java-junit.xml": _dorny(0, 0, 0, 0),
    "dorny/empty/jest-junit-empty-testsuite.xml": _dorny(0, 0, 0, 0),
    "dorny/external/java/junit4-basic.xml": _dorny(6, 5, 1, 0),
    "dorny/external/java/junit4-complete.xml": _dorny(8, 5, 2, 1),
    "dorny/external/java/pulsar-test-report.xml": _dorny(808, 793, 1, 14),
    "dorny/external/jest/jest-react-component-test-results.xml": _dorny(1, 1, 0, 0),
    "dorny/external/jest/jest-test-results.xml": _dorny(4239, 4207, 2, 30),
    "dorny/external/phpunit/junit-basic.xml": _dorny(9, 8, 1, 0),
    "dorny/external/phpunit/phpcheckstyle-phpunit.xml": _dorny(30, 28, 2, 0),
    "dorny/golang-json.json": _dorny(12, 5, 6, 1),
    "dorny/jest-junit-eslint.xml": _dorny(1, 1, 0, 0),
    "dorny/junit-with-message.xml": _dorny(1, 0, 1, 0),
    "dorny/nette-tester/BootstrapFormRenderer-report.xml": _dorny(4, 4, 0, 0),
    "dorny/nette-tester/tester-v1.7-report.xml": _dorny(65, 61, 1, 3),
    "dorny/test-errors/jest/jest-test-results.xml": _dorny(2, 0, 2, 0),
    "test-summary/junit/01-common.xml": _summary(7, 1, 0),
    "test-summary/junit/02-example.xml": _summary(21, 9, 0),
    "test-summary/junit/03-junit.xml": _summary(4, 4, 2),
    "test-summary/junit/04-bazel-junit.xml": _summary(1, 1, 0),
    "test-summary/junit/05-empty.xml": _summary(0, 0, 0),
    "test-summary/junit/06-empty.xml": _summary(0, 0, 0),
    "test-summary/tap/01-common.tap": _summary(6, 0, 0),
    "test-summary/tap/08-everything.tap": _summary(6, 6, 8),
}

# Where we differ from the peer on purpose: our figures, and why.
DIFFERENT: dict[str, tuple[dict[str, int], str]] = {
    "enricomi/junit-xml/tst/disabled.xml": (
        _tests(31, 6, 19, 1, 5),
        'status="disabled" is skipped; EnricoMi\'s per-run figures count the 5 disabled runs as '
        "passed (its per-test figures, tests_skip 5, agree with ours)",
    ),
    "enricomi/nunit/nunit3/jenkins/NUnit-issue33493.xml": (
        _tests(2, 1, 0, 0, 1),
        "NUnit's Inconclusive is skipped (it did not pass); EnricoMi's per-run figures count it "
        "passed, its per-test figures skipped, as we do",
    ),
    "enricomi/nunit/mstest/clicketyclackety.xml": (
        _tests(23, 13, 1, 9, 0),
        'NUnit 3 result="Failed" label="Error" (an unexpected exception) is an error, as NUnit\'s '
        "own summary counts it; EnricoMi folds errors into failures",
    ),
    "enricomi/nunit/mstest/timewarpinc.xml": (
        _tests(1, 0, 0, 1, 0),
        'NUnit 3 label="Error" is an error (as above)',
    ),
    "enricomi/nunit/nunit3/jenkins/NUnit-correct.xml": (
        _tests(28, 18, 1, 4, 5),
        "NUnit 2's NotRunnable (an invalid test: bad signature, bad arguments) is an error, as "
        "NUnit 3 reports the same tests (Failed, label Invalid): a broken test is never a skip",
    ),
    "enricomi/trx/yami_YAMILEX_2015-10-24_04_18_59.trx": (
        _tests(25, 2, 2, 1, 20),
        'TRX outcome="Aborted" (the run stopped inside the test) is an error: the test never '
        "finished, so it must not pass a gate as a skip",
    ),
    "codecov/warnings-junit.xml": (
        _tests(2, 2, 0, 0, 0),
        "codecov drops testcases whose names exceed its 1000-character storage limit; a gate "
        "counts every testcase (names are capped only when shown)",
    ),
    "coverage-model/cobertura/cobertura.xml": (
        _lines(63, 82, 2, 4),
        'line 38 of PopulateBranchExtensionAttributesPlugin.php has hits="2" and 0/2 branches: '
        "the line ran (its branches are in the branch counts); coverage-model counts it missed",
    ),
    "coverage-model/go/go-coverage-atomic.out": (
        _lines(14, 21),
        "a block listed twice is one block with its counts summed, as `go tool cover` reads it; "
        "coverage-model adds its statements twice to the total",
    ),
    "coverage-model/go/go-relative-import.out": (
        _lines(14, 21),
        "as go-coverage-atomic.out",
    ),
    "coverage-model/lcov/report.lcov": (
        _lines(3, 6),
        "DA:20,0 is a line that did not run; coverage-model counts it covered because one of its "
        "branches (BRDA:20,1,1,1) was taken",
    ),
    "gcovr/const-functions_gcc-14/clover.xml": (
        _lines(17, 17),
        "gcovr counts a line once per function instance that holds it (const and non-const "
        "overloads, templates: line 8 listed with hits 0 and 2); a source line counts once, "
        "with its highest hits (gcovr's JaCoCo, whose counters we read, agrees with gcovr)",
    ),
    "gcovr/const-functions_gcc-14/cobertura.xml": (
        _lines(17, 17, 2, 4),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/const-functions_gcc-14/coverage.lcov": (
        _lines(17, 17, 2, 4),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/several-functions-on-same-line_gcc-8/clover.xml": (
        _lines(30, 30),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/several-functions-on-same-line_gcc-8/cobertura.xml": (
        _lines(30, 30),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/several-functions-on-same-line_gcc-8/coverage.lcov": (
        _lines(30, 30),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/virtual-classes_gcc-14/clover.xml": (
        _lines(23, 24),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/virtual-classes_gcc-14/cobertura.xml": (
        _lines(23, 24, 18, 36),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/virtual-classes_gcc-14/coverage.lcov": (
        _lines(23, 24, 18, 36),
        "as const-functions_gcc-14/cobertura.xml",
    ),
    "gcovr/nested_oos_gcc-5/coverage.lcov": (
        _lines(25, 42),
        "the file holds 42 DA records where its LF totals say 32 (gcovr's out-of-source run "
        "lists lines its summary leaves out): counts come from the records, never the totals",
    ),
    "mikepenz/flaky_retries/flaky_all_failures.xml": (
        {"tests.total": 3, "tests.failed+errors": 3},
        "the figures quoted are with action-junit-report's checkRetries option, which folds "
        "same-named testcases into one; without it (its default) it counts 3, as we do: only a "
        "failure followed by a pass of the same test is a retry",
    ),
    "mikepenz/flaky_retries/flaky_success_first.xml": (
        {"tests.total": 3, "tests.passed": 1},
        "checkRetries again: a pass followed by a failure and an error of the same name is not a "
        "rerun (a rerun follows a failure), so the failure and the error count",
    ),
    "test-summary/tap/08-everything.tap": (
        _summary(6, 7, 8),
        "the plan 1..12 announces 12 tests but 20 ran: TAP makes that a failed run, counted as "
        "one errored test named plan; test-summary ignores the plan",
    ),
    "mikepenz/issues/testFailedDisabled.xml": (
        _tests(1, 0, 1, 0, 0),
        'a testcase with status="disabled" and a <failure> is failed: one outcome per testcase, '
        "error > failure > skipped, so a failure is never hidden as a skip",
    ),
}

# Files we refuse that the peer reads, or read that the peer refuses, and why.
REFUSED_DIFFERENTLY = {
    "enricomi/nunit/nunit3/jenkins/NUnit-sec1752-file.xml": "an ENTITY declaration (XXE): "
    "refused, where EnricoMi reads it without expanding the entity",
    "mikepenz/junit-web-test/expected.xml": "an unescaped '<' in an attribute value "
    '(time="<<computed>>") is not XML; action-junit-report\'s lenient parser reads it',
    "mikepenz/junit-web-test/expectedRetries.xml": "as expected.xml",
    "codecov/windows.junit.xml": "a text file, not a report: refused when named (skipped with a "
    "warning when found in a directory), where codecov returns no results",
}
READ_DIFFERENTLY = {
    "codecov/error.xml": "a testsuite declaring 2 tests with only a stray <skipped/> and no "
    "testcase: read as 0 tests with a warning (a `tests.total` rule catches it), where codecov "
    "refuses the file",
}


def _manifest() -> list[dict[str, str]]:
    peers = find_peers()
    if peers is None:
        return []
    with (peers / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = {row["file"]: row for row in _manifest()}


def _value(facts: Any, name: str) -> int:
    if name == "tests.failed+errors":
        return int(facts.tests.failed + facts.tests.errors)
    section, field = name.split(".")
    return int(getattr(getattr(facts, section), field))


def _path(name: str) -> Path:
    peers = find_peers()
    assert peers is not None
    return peers / "fixtures" / name


@pytest.mark.parametrize("name", sorted(ROWS))
def test_peer_file_is_read_or_refused_as_its_format_says(name: str) -> None:
    """Each peer file is detected as its format and read, refused with a sentence, or named as
    a format Gatekeeper does not read; its counts agree with the peer's tests where they say."""
    row = ROWS[name]
    refuse = (
        row["kind"] in ("reject", "no-results")
        or row["peer_expected_from"].endswith(".exception")  # EnricoMi expects an error
        or name in REFUSED_DIFFERENTLY
    )
    if name in READ_DIFFERENTLY:
        refuse = False
    if row["format"] in NOT_READ:
        with pytest.raises(ReportError, match=f"{NOT_READ[row['format']]}.*does not read"):
            parse_report(_path(name))
        return
    if refuse:
        with pytest.raises(ReportError) as caught:
            parse_report(_path(name))
        assert str(caught.value).startswith(str(_path(name)))
        return
    report = parse_report(_path(name))
    assert report.format == FORMATS[row["format"]]
    facts = reports_to_facts([report])
    assert facts.tests is not None or facts.coverage is not None
    expected = DIFFERENT[name][0] if name in DIFFERENT else PEER.get(name, {})
    assert {key: _value(facts, key) for key in expected} == expected


@pytest.mark.parametrize("table", ["PEER", "DIFFERENT", "REFUSED_DIFFERENTLY", "READ_DIFFERENTLY"])
def test_the_tables_name_only_manifest_files(table: str) -> None:
    """Every file the expectation tables name is a MANIFEST row (no stale entries)."""
    if not ROWS:
        pytest.skip(PEERS_MISSING)
    names = set(globals()[table])
    assert names - set(ROWS) == set()


def test_every_difference_disagrees_with_the_peer() -> None:
    """A listed difference really differs from the peer's figures (else it should go)."""
    for name, (ours, _) in DIFFERENT.items():
        peer = PEER[name]
        assert any(peer.get(key) != value for key, value in ours.items()), name


def test_peer_sarif_files_are_findings() -> None:
    """The peers' SARIF files (not in MANIFEST) read as findings."""
    peers = find_peers()
    if peers is None:
        pytest.skip(PEERS_MISSING)
    for path in sorted((peers / "sarif").glob("*.sarif")):
        report = parse_report(path)
        assert report.format == "sarif"
        assert report.findings is not None
