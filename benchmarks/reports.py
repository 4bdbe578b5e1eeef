"""Speed and peak memory of `gatekeeper inspect` against junitparser, pycobertura and the bare
lxml iterparse loop, each as a separate whole process, on generated files of known content; and on
a `go test -json` stream of 1M events against a bare loop that only json-decodes each line.

Run: `make bench` (or `python benchmarks/reports.py [--quick] [--only xml|gotest]`). Prints one
line per measurement and the ratios against the targets of issues 2 and 14. Numbers are
whole-process wall time, CPU time (user + system) and the peak resident set size of the child
(resource.getrusage(RUSAGE_CHILDREN) per fresh runner process). On a loaded machine wall time
mostly measures the load: the CPU-time ratios, printed beside the wall-time ones, are the steadier
figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RSS_MB = 80.0

_RUNNER = r"""
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, done.returncode)
if done.returncode:
    sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
"""

_BARE_ITERPARSE = """
import sys
from lxml import etree
count = 0
for _event, _element in etree.iterparse(sys.argv[1], events=("end",)):
    count += 1
print(count)
"""

_JUNITPARSER = """
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for suite in xml:
    for case in suite:
        counts["tests"] += 1
        for result in case.result:
            if isinstance(result, Failure):
                counts["failures"] += 1
            elif isinstance(result, Error):
                counts["errors"] += 1
            elif isinstance(result, Skipped):
                counts["skipped"] += 1
print(counts)
"""

_NOOP_TARGET = """
import sys
from lxml import etree
class Target:
    def start(self, tag, attrib):
        pass
    def end(self, tag):
        pass
    def close(self):
        return 0
etree.parse(sys.argv[1], etree.XMLParser(target=Target()))
"""
"""The floor of any lxml-based reader that hands each element to Python: a parser target whose
callbacks do nothing (no tree is built; lxml still makes each element's attribute dict)."""

_FROM_TREE = """
import runpy, sys
sys.path[:0] = [sys.argv.pop(1)]
sys.argv[0] = "gatekeeper"
runpy.run_module("gatekeeper", run_name="__main__", alter_sys=True)
"""
"""`gatekeeper` run from another source tree (the --baseline revision) instead of this one."""

_PYCOBERTURA = """
import sys
from pycobertura import Cobertura
cobertura = Cobertura(sys.argv[1])
print(cobertura.total_statements(), cobertura.total_misses())
"""


_BARE_JSON_LINES = """
import json, sys
count = 0
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.loads(line)
        count += 1
print(count)
"""
"""The floor of any `go test -json` reader: decode each line, nothing else."""


def write_gotest(path: Path, events: int) -> dict[str, int]:
    """A `go test -json` stream of about `events` events as go writes them (timestamps, `=== RUN`
    and `--- PASS` output lines, `Elapsed`): packages of 100 tests, every 10th test with two
    subtests, 1% of the tests failing with three output lines, 2% skipped."""
    tests = failed = skipped = written = 0
    stamp = '"Time":"2026-12-03T09:10:28.253750437Z"'
    with path.open("w", encoding="utf-8") as out:

        def test(package: str, name: str, outcome: str, extra: list[str]) -> int:
            head = f'{{{stamp},"Action":"%s","Package":"{package}","Test":"{name}"'
            out.write(head % "run" + "}\n")
            lines = [f"=== RUN   {name}\\n", *extra, f"--- {outcome.upper()}: {name} (0.01s)\\n"]
            for text in lines:
                out.write(head % "output" + f',"Output":"{text}"}}\n')
            out.write(head % outcome + ',"Elapsed":0.01}\n')
            return len(lines) + 2

        number = 0
        while written < events:
            package = f"example.com/project/internal/module{number // 100}"
            if number % 100 == 0:
                out.write(f'{{{stamp},"Action":"start","Package":"{package}"}}\n')
                written += 1
            name = f"TestFunction{number}"
            if number % 100 == 42:
                failed += 1
                extra = [
                    f"    thing_test.go:{number % 900 + 10}: got 1, want 2\\n",
                    "    thing_test.go:99: while handling \\u00fcmlaut input\\n",
                ]
                written += test(package, name, "fail", extra)
            elif number % 50 == 7:
                skipped += 1
                written += test(package, name, "skip", ["    thing_test.go:5: needs a database\\n"])
            elif number % 10 == 3:
                written += test(package, f"{name}/case_one", "pass", [])
                written += test(package, f"{name}/case_two", "pass", [])
                written += test(package, name, "pass", [])
                tests += 2
            else:
                written += test(package, name, "pass", [])
            tests += 1
            number += 1
            if number % 100 == 0 or written >= events:
                outcome = "fail" if (number - 1) // 100 * 100 + 42 < number else "pass"
                out.write(f'{{{stamp},"Action":"{outcome}","Package":"{package}","Elapsed":1.5}}\n')
                written += 1
    return {"tests": tests, "failures": failed, "skipped": skipped}


def write_junit(path: Path, tests: int) -> dict[str, int]:
    """A JUnit file with `tests` testcases in suites of 1000: 4000 failed (whatever the size, so
    that the peak RSS compares parsing, not the failure list the facts must carry), 2% skipped."""
    failed = skipped = 0
    every = max(tests // 4000, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for number in range(tests):
            if number % 1000 == 0:
                if number:
                    out.write("</testsuite>\n")
                out.write(f'<testsuite name="suite{number // 1000}" tests="1000">\n')
            attrs = f'classname="pkg.module{number // 1000}.TestClass" name="test_{number}"'
            if number % every == 7 % every:
                failed += 1
                out.write(
                    f'<testcase {attrs} time="0.012"><failure message="assert 1 == 2">'
                    "Traceback: line 1\nAssertionError</failure></testcase>\n"
                )
            elif number % 50 == 3:
                skipped += 1
                out.write(f'<testcase {attrs} time="0.000"><skipped message="no"/></testcase>\n')
            else:
                out.write(f'<testcase {attrs} time="0.004"/>\n')
        out.write("</testsuite>\n</testsuites>\n")
    return {"tests": tests, "failures": failed, "skipped": skipped}


def write_realistic_junit(path: Path, tests: int) -> dict[str, int]:
    """A JUnit file like real CI output: properties per suite, non-ASCII names, 10% of testcases
    with <system-out>, 4000 failures (1% at 400k; fixed, so that peak RSS compares parsing, not
    the failure list) with a message and a CDATA stack trace, 2% skipped."""
    failed = skipped = 0
    every = max(tests // 4000, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ci">\n')
        for number in range(tests):
            if number % 1000 == 0:
                if number:
                    out.write("</testsuite>\n")
                out.write(
                    f'<testsuite name="paquete.módulo{number // 1000}" tests="1000" time="4.2">\n'
                    '<properties><property name="python" value="3.12.1"/>'
                    '<property name="os" value="Linux"/><property name="ci" value="true"/>'
                    "</properties>\n"
                )
            attrs = (
                f'classname="paquete.módulo{number // 1000}.PruebaÜnicode" '
                f'name="test_cálculo_{number}[αβγ-{number % 7}]" time="0.004"'
            )
            if number % every == 7 % every:
                failed += 1
                out.write(
                    f'<testcase {attrs}><failure message="AssertionError: assert 1 == 2 ‘valor’"'
                    ' type="AssertionError"><![CDATA[Traceback (most recent call last):\n'
                    '  File "tests/test_cálculo.py", line 42, in test_cálculo\n'
                    "    assert compute(1) == 2\nAssertionError: assert 1 == 2\n]]></failure>"
                    "<system-out><![CDATA[calculando… 1\n]]></system-out></testcase>\n"
                )
            elif number % 50 == 3:
                skipped += 1
                out.write(f'<testcase {attrs}><skipped message="sin red"/></testcase>\n')
            elif number % 10 == 5:
                out.write(
                    f"<testcase {attrs}><system-out><![CDATA[registro: paso {number} ✓\n"
                    "segunda línea de salida\n]]></system-out></testcase>\n"
                )
            else:
                out.write(f"<testcase {attrs}/>\n")
        out.write("</testsuite>\n</testsuites>\n")
    return {"tests": tests, "failures": failed, "skipped": skipped}


_DOTNET_CASES = {
    "nunit": (
        '<test-run id="0">\n<test-suite type="Assembly" name="A.dll">\n',
        '<test-case id="{n}" name="Test_{n}(2)" classname="Calc.Tests.C{s}" result="{r3}"'
        ' duration="0.004"{body3}\n',
        "</test-suite>\n</test-run>\n",
    ),
    "xunit-net": (
        '<assemblies>\n<assembly name="A.dll">\n<collection name="c">\n',
        '<test name="Calc.Tests.C{s}.Test_{n}(i: 2)" type="Calc.Tests.C{s}" method="Test_{n}"'
        ' result="{rx}" time="0.004"{bodyx}\n',
        "</collection>\n</assembly>\n</assemblies>\n",
    ),
    "trx": (
        '<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n<Results>\n',
        '<UnitTestResult executionId="e{n}" testId="t{n}" testName="Calc.Tests.C{s}.Test_{n}"'
        ' duration="00:00:00.0040000" outcome="{rt}"{bodyt}\n',
        "</Results>\n</TestRun>\n",
    ),
}


def write_dotnet(path: Path, kind: str, tests: int) -> dict[str, int]:
    """A `kind` (nunit, xunit-net, trx) file of `tests` tests, 1% failed with a message."""
    head, case, tail = _DOTNET_CASES[kind]
    failed = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n' + head)
        for number in range(tests):
            fail = number % 100 == 7
            failed += fail
            message = "<![CDATA[Expected: 1\n  But was: 2\n]]>"
            out.write(
                case.format(
                    n=number,
                    s=number // 1000,
                    r3="Failed" if fail else "Passed",
                    rx="Fail" if fail else "Pass",
                    rt="Failed" if fail else "Passed",
                    body3=f"><failure><message>{message}</message></failure></test-case>"
                    if fail
                    else " />",
                    bodyx=f"><failure><message>{message}</message></failure></test>"
                    if fail
                    else " />",
                    bodyt=f"><Output><ErrorInfo><Message>{message}</Message></ErrorInfo></Output>"
                    "</UnitTestResult>"
                    if fail
                    else " />",
                )
            )
        out.write(tail)
    return {"tests": tests, "failures": failed, "skipped": 0}


def write_cobertura(path: Path, lines: int) -> dict[str, int]:
    """A Cobertura file with `lines` lines in classes of 500 lines; every 5th line is missed."""
    per_class = 500
    covered = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" ?>\n<coverage line-rate="0.8" branch-rate="0" version="7"'
            ' timestamp="1"><sources><source>/src</source></sources><packages>'
            '<package name="pkg" line-rate="0.8" branch-rate="0" complexity="0"><classes>\n'
        )
        for index in range(lines // per_class):
            out.write(
                f'<class name="m{index}.py" filename="pkg/m{index}.py" line-rate="0.8" '
                'branch-rate="0" complexity="0"><methods/><lines>\n'
            )
            for number in range(1, per_class + 1):
                hits = 0 if number % 5 == 0 else 3
                covered += hits > 0
                out.write(f'<line number="{number}" hits="{hits}"/>\n')
            out.write("</lines></class>\n")
        out.write("</classes></package></packages></coverage>\n")
    return {"lines_valid": lines, "lines_covered": covered}


Measured = tuple[float, float, float]
"""Wall time (s), CPU time (s), peak RSS (MB)."""


def measure(command: list[str]) -> Measured:
    """Wall time, CPU time and peak RSS of `command` run as a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, *command], capture_output=True, text=True, check=False
    )
    elapsed, cpu, peak, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{command[:3]} failed: {done.stderr}")
    return float(elapsed), float(cpu), float(peak)


def best_of(command: list[str], runs: int) -> Measured:
    """The fastest wall and CPU times of `runs` runs, and the highest peak RSS seen."""
    results = [measure(command) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), max(r[2] for r in results)


def _gatekeeper(path: Path) -> list[str]:
    return [sys.executable, "-m", "gatekeeper", "inspect", str(path), "--format", "json"]


def _check(label: str, path: Path, expected: dict[str, int]) -> None:
    done = subprocess.run(_gatekeeper(path), capture_output=True, text=True, check=True)
    facts = json.loads(done.stdout)
    if "tests" in expected:
        got = facts["tests"]
        ok = (got["total"], got["failed"], got["skipped"]) == (
            expected["tests"],
            expected["failures"],
            expected["skipped"],
        )
    else:
        got = facts["coverage"]
        ok = (got["lines_valid"], got["lines_covered"]) == (
            expected["lines_valid"],
            expected["lines_covered"],
        )
    print(f"{label}: counts {'match' if ok else 'DIFFER'} the generated content")


def _line(name: str, elapsed: float, cpu: float, peak: float) -> None:
    print(f"  {name:<22} {elapsed:8.2f} s  (CPU {cpu:6.2f} s)   peak RSS {peak:7.1f} MB")


def _verdict(name: str, value: float, limit: float, cpu: float | None = None) -> str:
    verdict = (
        f"  {name:<44} {value:6.2f}  (target <= {limit})  {'OK' if value <= limit else 'MISSED'}"
    )
    if cpu is not None:
        verdict += f"   CPU-time ratio {cpu:5.2f} {'OK' if cpu <= limit else 'MISSED'}"
    return verdict


def run_gotest(workdir: Path, runs: int, events: int) -> None:
    """Generate a `go test -json` stream of `events` events, time `gatekeeper inspect` on it
    against the bare json-decoding loop, print the ratio (target: within 2x)."""
    stream = workdir / "gotest.json"
    _check(f"go test -json {events}", stream, write_gotest(stream, events))
    print(f"go test -json, {events} events ({stream.stat().st_size / 1e6:.0f} MB):")
    gk = best_of(_gatekeeper(stream), runs)
    bare = best_of([sys.executable, "-c", _BARE_JSON_LINES, str(stream)], runs)
    _line("gatekeeper inspect", *gk)
    _line("bare json.loads loop", *bare)
    print(
        _verdict(
            "go test -json: gatekeeper / bare json loop time", gk[0] / bare[0], 2.0, gk[1] / bare[1]
        )
    )
    print(f"  go test -json: gatekeeper peak RSS {gk[2]:.1f} MB (no target: one entry per test)")


def run(workdir: Path, runs: int, sizes: tuple[int, int, int]) -> None:
    """Generate the files, measure every tool on them, print the ratios."""
    junit_400k, junit_1m, cobertura = (
        workdir / "junit-400k.xml",
        workdir / "junit-1m.xml",
        workdir / "cobertura-400k.xml",
    )
    _check("junit 400k", junit_400k, write_junit(junit_400k, sizes[0]))
    _check("junit 1M", junit_1m, write_junit(junit_1m, sizes[1]))
    _check("cobertura 400k", cobertura, write_cobertura(cobertura, sizes[2]))
    python = sys.executable
    print(f"JUnit, {sizes[0]} tests ({junit_400k.stat().st_size / 1e6:.0f} MB):")
    gk = best_of(_gatekeeper(junit_400k), runs)
    jp = best_of([python, "-c", _JUNITPARSER, str(junit_400k)], runs)
    bare = best_of([python, "-c", _BARE_ITERPARSE, str(junit_400k)], runs)
    _line("gatekeeper inspect", *gk)
    _line("junitparser", *jp)
    _line("bare lxml iterparse", *bare)
    print(f"JUnit, {sizes[1]} tests ({junit_1m.stat().st_size / 1e6:.0f} MB):")
    gk_1m = best_of(_gatekeeper(junit_1m), runs)
    _line("gatekeeper inspect", *gk_1m)
    print(f"Cobertura, {sizes[2]} lines ({cobertura.stat().st_size / 1e6:.0f} MB):")
    gk_cob = best_of(_gatekeeper(cobertura), runs)
    pc = best_of([python, "-c", _PYCOBERTURA, str(cobertura)], runs)
    bare_cob = best_of([python, "-c", _BARE_ITERPARSE, str(cobertura)], runs)
    floor = best_of([python, "-c", _NOOP_TARGET, str(cobertura)], runs)
    _line("gatekeeper inspect", *gk_cob)
    _line("pycobertura", *pc)
    _line("bare lxml iterparse", *bare_cob)
    _line("no-op lxml target", *floor)
    print("Ratios:")
    print(_verdict("junit 400k: gatekeeper / junitparser time", gk[0] / jp[0], 0.6, gk[1] / jp[1]))
    print(
        _verdict(
            "junit 400k: gatekeeper / bare iterparse time", gk[0] / bare[0], 1.5, gk[1] / bare[1]
        )
    )
    print(_verdict("junit 400k: gatekeeper peak RSS (MB)", gk[2], TARGET_RSS_MB))
    print(_verdict("junit 1M: gatekeeper peak RSS (MB)", gk_1m[2], TARGET_RSS_MB))
    print(_verdict("junit 1M / 400k peak RSS", gk_1m[2] / gk[2], 1.1))
    cob_ratio, cob_cpu = gk_cob[0] / pc[0], gk_cob[1] / pc[1]
    print(_verdict("cobertura 400k: gatekeeper / pycobertura time", cob_ratio, 0.25, cob_cpu))
    print(_verdict("cobertura 400k: gatekeeper peak RSS (MB)", gk_cob[2], TARGET_RSS_MB))
    print("Limits on the Cobertura file, as fractions of pycobertura's time (wall, CPU):")
    for name, limit in (("bare lxml iterparse", bare_cob), ("no-op lxml target", floor)):
        print(f"  {name:<44} {limit[0] / pc[0]:6.2f}   CPU-time ratio {limit[1] / pc[1]:5.2f}")
    print(
        f"  gatekeeper / bare iterparse on Cobertura     {gk_cob[0] / bare_cob[0]:6.2f}"
        f"   CPU-time ratio {gk_cob[1] / bare_cob[1]:5.2f}"
    )


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, Measured]:
    """Each command run `runs` times, taking turns (so a change in the machine's load falls on
    all of them alike); per command the fastest wall and CPU times and the highest peak RSS."""
    results: dict[str, list[Measured]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            results[name].append(measure(command))
    return {
        name: (min(r[0] for r in got), min(r[1] for r in got), max(r[2] for r in got))
        for name, got in results.items()
    }


def run_realistic(
    workdir: Path, runs: int, sizes: tuple[int, int], baseline: Path | None = None
) -> None:
    """The realistic JUnit file at 400k and 1M cases against junitparser and bare iterparse;
    with `baseline` (a source tree of another revision), its gatekeeper too, in the same run."""
    small, large = workdir / "junit-real-400k.xml", workdir / "junit-real-1m.xml"
    _check("realistic junit 400k", small, write_realistic_junit(small, sizes[0]))
    _check("realistic junit 1M", large, write_realistic_junit(large, sizes[1]))
    python = sys.executable
    print(f"Realistic JUnit, {sizes[0]} tests ({small.stat().st_size / 1e6:.0f} MB):")
    commands = {
        "gatekeeper inspect": _gatekeeper(small),
        "junitparser": [python, "-c", _JUNITPARSER, str(small)],
        "bare lxml iterparse": [python, "-c", _BARE_ITERPARSE, str(small)],
    }
    if baseline is not None:
        commands["baseline gatekeeper"] = [
            python,
            "-c",
            _FROM_TREE,
            str(baseline),
            *_gatekeeper(small)[3:],
        ]
    found = interleaved(commands, runs)
    for name, measured in found.items():
        _line(name, *measured)
    gk, jp, bare = found["gatekeeper inspect"], found["junitparser"], found["bare lxml iterparse"]
    gk_1m = best_of(_gatekeeper(large), runs)
    print(f"Realistic JUnit, {sizes[1]} tests ({large.stat().st_size / 1e6:.0f} MB):")
    _line("gatekeeper inspect", *gk_1m)
    print("Ratios:")
    print(_verdict("real 400k: gatekeeper / junitparser time", gk[0] / jp[0], 0.6, gk[1] / jp[1]))
    print(_verdict("real 400k: gatekeeper / bare iterparse", gk[0] / bare[0], 1.5, gk[1] / bare[1]))
    if baseline is not None:
        base = found["baseline gatekeeper"]
        print(
            _verdict(
                "real 400k: baseline / junitparser time", base[0] / jp[0], 0.6, base[1] / jp[1]
            )
        )
        print(
            _verdict(
                "real 400k: baseline / bare iterparse", base[0] / bare[0], 1.5, base[1] / bare[1]
            )
        )
    print(_verdict("real 1M: gatekeeper peak RSS (MB)", gk_1m[2], TARGET_RSS_MB))
    print(_verdict("real 1M / 400k peak RSS", gk_1m[2] / gk[2], 1.1))


def run_dotnet(workdir: Path, runs: int, tests: int) -> None:
    """Each .NET format at `tests` tests against the bare iterparse loop (target: within 1.5x)."""
    for kind in _DOTNET_CASES:
        path = workdir / f"{kind}-{tests}.xml"
        _check(f"{kind} {tests}", path, write_dotnet(path, kind, tests))
        gk = best_of(_gatekeeper(path), runs)
        bare = best_of([sys.executable, "-c", _BARE_ITERPARSE, str(path)], runs)
        print(f"{kind}, {tests} tests ({path.stat().st_size / 1e6:.0f} MB):")
        _line("gatekeeper inspect", *gk)
        _line("bare lxml iterparse", *bare)
        print(
            _verdict(f"{kind}: gatekeeper / bare iterparse", gk[0] / bare[0], 1.5, gk[1] / bare[1])
        )
        print(f"  {kind}: gatekeeper peak RSS {gk[2]:.1f} MB")


def main() -> None:
    """Parse the flags and run the benchmark in a temporary directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, one run")
    parser.add_argument(
        "--only",
        choices=("all", "xml", "gotest", "realistic", "dotnet"),
        default="all",
        help="which files to measure",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="with --only realistic: also time gatekeeper from this source tree (another "
        "revision, e.g. `git archive main gatekeeper connectors | tar -x -C DIR`), in turns",
    )
    arguments = parser.parse_args()
    sizes, events = (400_000, 1_000_000, 400_000), 1_000_000
    runs = arguments.runs
    if arguments.quick:
        sizes, events, runs = (40_000, 100_000, 40_000), 100_000, 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-") as workdir:
        if arguments.only in ("all", "xml"):
            run(Path(workdir), runs, sizes)
        if arguments.only in ("all", "gotest"):
            run_gotest(Path(workdir), runs, events)
        if arguments.only in ("all", "realistic"):
            run_realistic(Path(workdir), runs, sizes[:2], arguments.baseline)
        if arguments.only in ("all", "dotnet"):
            run_dotnet(Path(workdir), runs, sizes[0])
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
