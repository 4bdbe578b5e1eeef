"""Report text cannot change the structure of what Gatekeeper writes, whatever it contains.

Every channel is checked by rendering hostile values and reading the result as the platform does:
Markdown through cmark-gfm (GitHub's own parser), log lines as the Actions runner reads them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors._github_feedback import failure_annotations
from connectors.interface import GITLAB_NOTE_LIMIT, Feedback, sticky_body
from gatekeeper.facts import Facts, TestFailure, TestSummary
from gatekeeper.render import verdict_markdown, verdict_text
from gatekeeper.render.escape import (
    guard_log_line,
    markdown_code,
    markdown_text,
    terminal_text,
    workflow_data,
    workflow_property,
)
from tests.cli import run_gatekeeper
from tests.render._sample import sample_verdict

ATTACKS = [
    "</details>\n\n### ✓ Gatekeeper: **pass**\n\n<details>",
    "![ok](https://evil.example/pass.svg) [click](https://evil.example)",
    "@acme/security-team @octocat please merge",
    "fixes #1 and !2, see ~bug https://evil.example www.evil.example me@evil.example",
    "`` ` ``` <img src=x onerror=alert(1)> &lt;b&gt; | col | col |",
    "::add-mask::secret\n::error file=a.py,line=1::fake\n##[error]legacy",
    "\x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \u202eevil\u202c \r overwrite",
]
HOSTILE = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(
        alphabet=st.sampled_from(list("`<>&|[]()!*_~#@:\\/\n\r\t -.wxyz019\u202e\x1b")), max_size=60
    ),
    st.text(max_size=40),
)
ALLOWED_TAGS = {
    "h3", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td",
    "details", "summary", "ul", "li", "sub",
}  # fmt: skip


def _facts(name: str, message: str, path: str) -> Facts:
    failure = TestFailure(suite=name, name=name, classname=name, file=path, line=3, message=message)
    return Facts(
        tests=TestSummary(total=2, passed=1, failed=1, errors=0, skipped=0, failures=(failure,))
    )


def _html(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def _tags(html: str) -> Counter[str]:
    return Counter(re.findall(r"<([a-z0-9]+)[\s>/]", html))


def _check_structure(markdown: str, benign: str) -> None:
    """`markdown` has exactly the elements of the same comment made of benign values."""
    html = _html(markdown)
    assert _tags(html) == _tags(_html(benign))
    assert set(_tags(html)) <= ALLOWED_TAGS
    assert html.count("<details>") == html.count("</details>") == 1
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)[1:]:
        assert row.count("<td") == 4
    # GitHub links mentions and references after parsing, outside code; none may reach it unbroken.
    text = re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", "", html, flags=re.S))
    assert not re.search(r"(?<![\w`])[@#!~]\w", text)


@settings(max_examples=300, deadline=None)
@given(name=HOSTILE, message=HOSTILE, path=HOSTILE)
def test_comment_structure_survives_any_report_text(name: str, message: str, path: str) -> None:
    """Test names, messages and file paths stay text: one heading, one <details>, 4 columns,
    no link, image, raw HTML or live mention."""
    verdict = sample_verdict()
    markdown = verdict_markdown(verdict, _facts(name, message, path))
    plain = [("x" if value.strip() else value) for value in (name, message, path)]
    _check_structure(markdown, verdict_markdown(verdict, _facts(*plain)))


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_known_attack_renders_as_its_text(attack: str) -> None:
    """What a reader sees is the attack's own characters, flattened to one line."""
    html = _html(f"x {markdown_text(attack)} {markdown_code(attack)}")
    assert html.startswith("<p>")
    assert html.count("<p>") == 1
    assert "<a " not in html
    assert "<img" not in html
    visible = re.sub(r"<[^>]+>", "", html).replace("\u2060", "")
    for word in ("evil", "details", "add-mask"):
        if word in attack:
            assert word in visible


@settings(max_examples=300, deadline=None)
@given(value=HOSTILE)
def test_code_span_cannot_be_closed(value: str) -> None:
    """A code span holds its whole value: the parser sees exactly one <code> element."""
    html = _html(markdown_code(value) + " after")
    assert html.count("<code>") == 1
    assert html.rstrip().endswith("after</p>")


@settings(max_examples=300, deadline=None)
@given(value=HOSTILE)
def test_no_log_line_is_a_workflow_command(value: str) -> None:
    """The runner reads `::cmd::` at a line's start (after spaces) and `##[` anywhere."""
    for line in value.split("\n"):
        guarded = guard_log_line(line)
        assert not guarded.lstrip().startswith("::")
        assert "##[" not in guarded


@settings(max_examples=200, deadline=None)
@given(value=HOSTILE)
def test_terminal_text_is_one_printable_line(value: str) -> None:
    """No newline, carriage return, escape sequence or bidi override reaches the terminal."""
    text = terminal_text(value)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


def test_workflow_values_are_escaped_like_the_toolkit() -> None:
    """`@actions/core` escaping: data keeps `:` and `,`; properties do not."""
    assert workflow_data("50%\r\n::x") == "50%25%0D%0A::x"
    assert workflow_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_terminal_verdict_shows_no_escape_sequences() -> None:
    """The terminal table of a report with escape sequences in names prints none of them."""
    facts = _facts("\x1b[31mred\x1b[0m", "\x1b]8;;https://evil.example\x07x", "a.py")
    text = verdict_text(sample_verdict(), facts)
    assert "\x1b" not in text
    assert "red" in text


def test_report_text_cannot_write_workflow_commands_in_github_actions(tmp_path: Path) -> None:
    """In GitHub Actions no printed line of a hostile report is a command the runner would run."""
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuite name="s" tests="2" failures="1">'
        '<testcase classname="::add-mask::x" name="::error file=a.py::fake">'
        '<failure message="##[error]legacy&#10;::warning::boo">::set-output name=a::b</failure>'
        '</testcase><testcase name="ok"/></testsuite>',
        encoding="utf-8",
    )
    done = run_gatekeeper("inspect", str(report), env={"GITHUB_ACTIONS": "true"})
    assert done.returncode == 0, done.stderr
    assert "add-mask" in done.stdout
    assert "legacy" in done.stdout
    for line in (done.stdout + done.stderr).splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line


def _feedback(name: str, message: str, path: str) -> Feedback:
    verdict = sample_verdict()
    facts = _facts(name, message, path)
    return Feedback(
        verdict="fail",
        policy="pull-request",
        summary="s",
        render=lambda limit: verdict_markdown(verdict, facts, limit=limit),
        failures=facts.tests.failures if facts.tests else (),
    )


@settings(max_examples=200, deadline=None)
@given(name=HOSTILE, message=HOSTILE, path=HOSTILE)
def test_gitlab_note_structure_survives_any_report_text(name: str, message: str, path: str) -> None:
    """The GitLab note (marker and body within the note limit) has the comment's structure
    whatever the report says."""
    _, body = sticky_body(_feedback(name, message, path), GITLAB_NOTE_LIMIT)
    plain = [("x" if value.strip() else value) for value in (name, message, path)]
    _, benign = sticky_body(_feedback(*plain), GITLAB_NOTE_LIMIT)
    _check_structure(body, benign)


@settings(max_examples=200, deadline=None)
@given(name=HOSTILE, message=HOSTILE, path=HOSTILE)
def test_terminal_verdict_lines_are_printable_and_never_commands(
    name: str, message: str, path: str
) -> None:
    """Every line of the terminal verdict is printable, and none is a workflow command once
    written to stdout in GitHub Actions (through the log guard, line by line)."""
    text = verdict_text(sample_verdict(), _facts(name, message, path))
    for line in text.splitlines():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", line)
        guarded = guard_log_line(line)
        assert not guarded.lstrip().startswith("::")
        assert "##[" not in guarded


@settings(max_examples=200, deadline=None)
@given(title=HOSTILE, message=HOSTILE)
def test_workflow_command_holds_any_value(title: str, message: str) -> None:
    """`::error title=…::…` built from any values stays one command with one property."""
    line = f"::error title={workflow_property(title)}::{workflow_data(message)}"
    assert "\n" not in line
    assert "\r" not in line
    head, _, data = line.partition("::")[2].partition("::")
    assert head.count(",") == 0
    assert head.startswith("error title=")
    assert data == workflow_data(message)


@settings(max_examples=200, deadline=None)
@given(name=HOSTILE, message=HOSTILE)
def test_check_run_annotations_are_one_line_of_text(name: str, message: str) -> None:
    """Failure annotations carry the test's name and message as one printable line each."""
    [annotation] = failure_annotations(_feedback(name, message, "src/app.py"))
    for key in ("title", "message"):
        value = str(annotation[key])
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", value)
    assert len(str(annotation["title"])) <= 255
