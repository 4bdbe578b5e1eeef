"""Values from reports, providers and policies, made safe for the channel they are written to.

A test name, a failure message or a file attribute is written by whoever wrote the report; a PR
title by whoever opened the pull request. Rendered as they come, they could close the comment's
`<details>`, add a fake "pass" heading or an image, mention a team, or write GitHub workflow
commands (`::add-mask::`) into the job log. Every renderer passes every foreign value through one
of these functions, one per channel:

- `markdown_text`: inline text in GitHub/GitLab Markdown (PR comment, MR note, job summary).
  Whitespace flattened, cut, HTML and Markdown punctuation escaped, references (`@team`, `#12`,
  `!3`, `~label`) and autolinks (`https://`, `www.`, `a@b.c`) defused with a word joiner (U+2060),
  which renders as nothing and breaks the pattern the platforms look for.
- `markdown_code`: an inline code span no content can close (a fence longer than any backtick run).
- `terminal_text`: one line for a terminal or CI log, without control characters or escapes.
- `workflow_data`, `workflow_property`: the escaping GitHub's toolkit applies to command values.
- `guard_log_line`: a log line that the Actions runner cannot read as a workflow command.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "WORD_JOINER",
    "guard_log_line",
    "markdown_code",
    "markdown_text",
    "terminal_text",
    "workflow_data",
    "workflow_property",
]

WORD_JOINER = "\u2060"
ELLIPSIS = "…"

# Bidirectional overrides and isolates reorder what a reader sees (CVE-2021-42574, "Trojan Source").
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_MARKDOWN_ESCAPES = {
    "\\": "\\\\",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "\\|",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "~": "\\~",
}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN_ESCAPES)
# A reference or mention: the sigil followed by what the platform would link.
_REFERENCE = re.compile(r"([@#!~%$])(?=\S)")
_AUTOLINK_SCHEME = re.compile(r"(?<=[A-Za-z0-9])(?=://)")
_AUTOLINK_WWW = re.compile(r"(?i)\b(www)(?=\.)")
_COMMAND_START = re.compile(r"^(\s*)(?=::)")
_LEGACY_COMMAND = "##["


def _printable(text: str) -> str:
    """`text` without escape sequences, control characters and bidi overrides; whitespace is one
    space."""
    text = _ANSI.sub("", text).translate(_BIDI)
    text = "".join(
        char if not unicodedata.category(char).startswith("C") or char in "\t\n\r " else " "
        for char in text
        if char != WORD_JOINER
    )
    return " ".join(text.split())


def _cut(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + ELLIPSIS
    return text


def markdown_text(value: str, limit: int | None = None) -> str:
    """`value` as inline Markdown text that renders as exactly those characters."""
    text = _cut(_printable(value), limit).translate(_MARKDOWN_TABLE)
    text = _REFERENCE.sub(lambda match: match.group(1) + WORD_JOINER, text)
    text = _AUTOLINK_SCHEME.sub(WORD_JOINER, text)
    return _AUTOLINK_WWW.sub(lambda match: match.group(1) + WORD_JOINER, text)


def markdown_code(value: str, limit: int | None = None, *, in_table: bool = False) -> str:
    """`value` as an inline code span; in a table cell `|` is escaped, as GFM requires there."""
    text = _cut(_printable(value), limit)
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def terminal_text(value: str, limit: int | None = None) -> str:
    """`value` as one line of plain text for a terminal or a CI log."""
    return _cut(_printable(value), limit)


def annotation_text(value: str, limit: int | None = None) -> str:
    """`value` as a check-run annotation's title or message: one line of plain text (GitHub
    shows annotations as text, so only control characters and line breaks are taken out)."""
    return _cut(_printable(value), limit)


def workflow_data(value: str) -> str:
    """A workflow command's message, escaped as `@actions/core` escapes data."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(value: str) -> str:
    """A workflow command's property value (`title=`, `file=`), escaped as `@actions/core` does."""
    return workflow_data(value).replace(":", "%3A").replace(",", "%2C")


def guard_log_line(line: str) -> str:
    """`line` as the runner shows it but never runs it: `::cmd::` at its start, `##[` anywhere."""
    line = line.replace(_LEGACY_COMMAND, "##" + WORD_JOINER + "[")
    return _COMMAND_START.sub(lambda match: match.group(1) + WORD_JOINER, line, count=1)
