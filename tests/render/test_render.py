"""Renderers: golden files for text and Markdown, and the Markdown length limit."""

from __future__ import annotations

import functools
import hashlib

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from connectors import github, gitlab
from connectors.interface import Provider
from gatekeeper.facts import (
    Coverage,
    Facts,
    Finding,
    FindingLevels,
    Findings,
    PatchCoverage,
    UncoveredLines,
)
from gatekeeper.render import verdict_markdown, verdict_text
from gatekeeper.render.markdown import Links
from tests.render._sample import GOLDEN, sample_facts, sample_verdict


def test_text_golden() -> None:
    """The terminal table matches its golden file (python -m tests.render._sample regenerates)."""
    expected = (GOLDEN / "verdict.txt").read_text(encoding="utf-8")
    assert verdict_text(sample_verdict(), sample_facts()) == expected


def test_markdown_golden() -> None:
    """The Markdown matches its golden file."""
    expected = (GOLDEN / "verdict.md").read_text(encoding="utf-8")
    assert verdict_markdown(sample_verdict(), sample_facts()) == expected


def test_markdown_limited_golden() -> None:
    """A cut Markdown matches its golden file and says what was cut."""
    expected = (GOLDEN / "verdict_limit_1500.md").read_text(encoding="utf-8")
    text = verdict_markdown(sample_verdict(), sample_facts(40), limit=1500)
    assert text == expected
    assert "_Cut to fit 1500 characters:" in text


def test_text_lists_failures_first_and_escapes_nothing() -> None:
    """Failed rules come first in the table, and the headline says FAIL."""
    text = verdict_text(sample_verdict(), sample_facts())
    assert text.index("tests-green") < text.index("line-coverage")
    assert "Gatekeeper: FAIL" in text


def test_markdown_escapes_cells() -> None:
    """Pipes and HTML in messages cannot break the table or inject markup."""
    text = verdict_markdown(sample_verdict(), sample_facts())
    assert "\\| &lt;details&gt;" in text


@pytest.mark.parametrize("limit", [0, 50, 200, 400, 800, 1500, 4000, 65536])
def test_markdown_never_exceeds_limit(limit: int) -> None:
    """Whatever the limit, the Markdown is at most that many characters."""
    assert len(verdict_markdown(sample_verdict(), sample_facts(1000), limit=limit)) <= limit


def test_markdown_keeps_failed_rules_before_test_failures() -> None:
    """Under a tight limit failed rules stay, test failures come next, passing rules go first."""
    text = verdict_markdown(sample_verdict(), sample_facts(1000), limit=1600)
    assert "`tests-green`" in text
    assert "`custom`" in text
    assert "test_charge_0" in text
    assert "`payments`" not in text
    assert "rules and" in text.splitlines()[-1]


def test_markdown_without_limit_keeps_everything() -> None:
    """With no limit every rule appears and nothing is cut."""
    text = verdict_markdown(sample_verdict(), sample_facts(3))
    for rule in sample_verdict().rules:
        assert f"`{rule.id}`" in text
    assert "Cut to fit" not in text


def test_markdown_links_the_run_and_the_record_when_they_are_web_addresses() -> None:
    """The comment ends with links to the CI run and the record page; other URLs are left out."""
    links = Links(
        run_url="https://github.com/acme/shop/actions/runs/7",
        record_url="https://evidence.example/records/r-1",
    )
    text = verdict_markdown(sample_verdict(), sample_facts(), links=links)
    assert (
        "[CI run](<https://github.com/acme/shop/actions/runs/7>) · "
        "[evidence record](<https://evidence.example/records/r-1>)"
    ) in text
    hostile = Links(run_url="javascript:alert(1)", record_url="https://x.example/a>b")
    assert "](" not in verdict_markdown(sample_verdict(), sample_facts(), links=hostile)


def _links(entry: Provider, change_url: str, commit: str | None) -> Links:
    """Links to changed lines as the CLI builds them from the provider's table entry."""
    return Links(lines_link=functools.partial(entry.changed_lines_url, change_url, commit))


def _facts_with_uncovered() -> Facts:
    patch = PatchCoverage(
        lines_valid=10,
        lines_covered=6,
        rate=0.6,
        uncovered=(UncoveredLines(file="src/pay ment.py", ranges=((12, 14), (31, 31))),),
        uncovered_files=1,
    )
    return Facts(coverage=Coverage(lines_valid=10, lines_covered=6, line_rate=0.6, patch=patch))


@pytest.mark.parametrize(
    ("links", "first", "second"),
    [
        (
            _links(github.PROVIDER, "https://github.com/acme/shop/pull/7", None),
            "[12-14](<https://github.com/acme/shop/pull/7/files#diff-"
            f"{hashlib.sha256(b'src/pay ment.py').hexdigest()}R12>)",
            "[31](<https://github.com/acme/shop/pull/7/files#diff-",
        ),
        (
            _links(gitlab.PROVIDER, "https://gitlab.example/g/shop/-/merge_requests/3", "a" * 40),
            f"[12-14](<https://gitlab.example/g/shop/-/blob/{'a' * 40}/src/pay%20ment.py#L12-14>)",
            f"[31](<https://gitlab.example/g/shop/-/blob/{'a' * 40}/src/pay%20ment.py#L31-31>)",
        ),
        (None, "`src/pay ment.py`: 12-14, 31", "12-14, 31"),
    ],
)
def test_uncovered_changed_lines_are_listed_and_linked(
    links: Links | None, first: str, second: str
) -> None:
    """The comment says which changed lines no test ran, linked to the diff where it can."""
    text = verdict_markdown(sample_verdict(), _facts_with_uncovered(), links=links)
    assert "**Changed lines no test ran**" in text
    assert first in text
    assert second in text


def _facts_with_findings() -> Facts:
    items = (
        Finding(rule_id="E501", level="note", file="a.py", line=3, message="line too long"),
        Finding(
            rule_id="B105",
            level="error",
            file="src/</details>.py",
            line=9,
            message="@acme/security hard-coded password ![x](https://evil.example/x.png)",
        ),
        Finding(rule_id="W291", level="warning", file=None, line=None, message="trailing space"),
    )
    findings = Findings(
        total=14, by_level=FindingLevels(error=1, warning=8, note=5), new=2, items=items
    )
    return sample_facts().model_copy(update={"findings": findings})


def test_comment_shows_findings_by_level_new_ones_and_the_top_items_escaped() -> None:
    """SARIF findings appear as totals by level, the count on changed lines and the top items,
    errors first, their text inert."""
    text = verdict_markdown(sample_verdict(), _facts_with_findings())
    assert "**Findings: 14** (1 error, 8 warning, 5 note) · 2 new on changed lines" in text
    listed = [line for line in text.splitlines() if line.startswith("- error `B105`")]
    assert listed
    assert "`src/</details>.py:9`" in listed[0]
    assert text.index("`B105`") < text.index("`W291`") < text.index("`E501`")
    assert "- … and 11 more" in text
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    assert html.count("<details>") == html.count("</details>") == 2
    assert "<img" not in html
    assert "<a " not in html
    assert "@\u2060acme" in html


def test_terminal_verdict_has_a_findings_line() -> None:
    """The CI log says how many findings of each level there are."""
    text = verdict_text(sample_verdict(), _facts_with_findings())
    assert "Findings: 14 (1 error, 8 warning, 5 note), 2 new on changed lines" in text


def test_cut_comment_keeps_the_findings_headline() -> None:
    """Under a tight limit the findings' totals stay while their items are cut."""
    text = verdict_markdown(sample_verdict(), _facts_with_findings(), limit=1200)
    assert len(text) <= 1200
    assert "**Findings: 14**" in text
