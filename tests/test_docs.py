"""The documentation tells the truth: its examples parse, its commands exist, its help is current.

Blocks in README.md and docs/*.md are read by their fence language; an HTML comment on the line
before a fence marks it:

- `<!-- help: gatekeeper ... --help -->`: the block is that command's real output (COLUMNS=100);
  `python -m tests.test_docs --write` regenerates every such block in the README;
- `<!-- file: examples/NAME -->`: the block equals that file byte for byte (less the last newline);
- `<!-- docs-test: fragment -->`: a part of a file, parsed but neither validated as a policy nor
  checked as a command line;
- `<!-- docs-test: synopsis -->`: a command overview (`gatekeeper db upgrade|current [--flag X]`):
  every command named and every flag shown must exist.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from typer import _click as click  # the click that Typer's own command classes use

from gatekeeper.cli.app import app
from gatekeeper.policy import load_policy
from tests.conftest import ROOT
from tests.test_ci_files import _errors, _Yaml12Loader

_FENCE = re.compile(r"^\s*```(\S*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*(help|file|docs-test):\s*(.*?)\s*-->\s*$")
_SHELLS = {"sh", "shell", "bash", "console"}
_HELP_ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


@dataclass(frozen=True)
class _Block:
    path: Path
    line: int
    lang: str
    text: str
    marker: tuple[str, str] | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def fragment(self) -> bool:
        return self.marker == ("docs-test", "fragment")


def _doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: Path) -> Iterator[_Block]:
    lines = path.read_text("utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not _FENCE.match(lines[index]):
            index += 1
        previous = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        found = _MARKER.match(previous)
        marker = (found.group(1), found.group(2)) if found else None
        text = "\n".join(lines[start + 1 : index])
        yield _Block(path, start + 1, opening.group(1).lower(), text, marker)
        index += 1


def _all_blocks(*langs: str) -> list[_Block]:
    return [b for path in _doc_files() for b in _blocks(path) if b.lang in langs]


def _ids(blocks: list[_Block]) -> list[str]:
    return [block.where for block in blocks]


_YAML = _all_blocks("yaml", "yml")
_JSON = _all_blocks("json")
_SH = [block for block in _all_blocks(*_SHELLS) if not block.fragment]


def _load_yaml(block: _Block) -> list[Any]:
    return list(yaml.load_all(block.text, Loader=_Yaml12Loader))


@pytest.mark.parametrize("block", _YAML, ids=_ids(_YAML))
def test_yaml_blocks_parse(block: _Block) -> None:
    """Every yaml block in the docs parses as YAML 1.2 the way GitHub and GitLab read it."""
    try:
        documents = _load_yaml(block)
    except yaml.YAMLError as error:
        pytest.fail(f"{block.where}: {error}")
    assert documents, f"{block.where}: empty yaml block"


@pytest.mark.parametrize("block", _JSON, ids=_ids(_JSON))
def test_json_blocks_parse(block: _Block) -> None:
    """Every json block in the docs is valid JSON."""
    try:
        json.loads(block.text)
    except json.JSONDecodeError as error:
        pytest.fail(f"{block.where}: {error}")


def _workflows() -> list[_Block]:
    found = []
    for block in _YAML:
        documents = _load_yaml(block)
        if len(documents) == 1 and isinstance(documents[0], dict) and "jobs" in documents[0]:
            found.append(block)
    return found


_WORKFLOWS = _workflows()


@pytest.mark.parametrize("block", _WORKFLOWS, ids=_ids(_WORKFLOWS))
def test_github_workflows_in_the_docs_match_the_schema(block: _Block) -> None:
    """Every whole GitHub workflow shown in the docs is valid against the workflow schema."""
    assert _errors(_load_yaml(block)[0], "github-workflows") == [], block.where


def test_the_docs_show_workflows() -> None:
    """The README and github.md show whole workflows (the quick start, release, two-phase)."""
    assert len(_WORKFLOWS) >= 4


def _policies() -> list[_Block]:
    found = []
    for block in _YAML:
        if block.fragment:
            continue
        documents = _load_yaml(block)
        if len(documents) == 1 and isinstance(documents[0], dict) and "version" in documents[0]:
            found.append(block)
    return found


_POLICIES = _policies()


def test_the_docs_show_policies() -> None:
    """The policy examples are found, so the validation below cannot pass by finding none."""
    assert len(_POLICIES) >= 3


@pytest.mark.parametrize("block", _POLICIES, ids=_ids(_POLICIES))
def test_policy_examples_load(block: _Block, tmp_path: Path) -> None:
    """Every whole policy shown in the docs loads and compiles with the real policy loader."""
    policy = tmp_path / "policy.yml"
    policy.write_text(block.text + "\n", "utf-8")
    load_policy(policy)


def _root() -> click.Command:
    return typer.main.get_command(app)


def _is_group(command: click.Command) -> bool:
    return hasattr(command, "get_command") and hasattr(command, "list_commands")


def _option_names(command: click.Command) -> set[str]:
    return {
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
    }


def _check_command_line(words: list[str]) -> str | None:
    """None when `gatekeeper WORDS...` names a real command with real options, else why not."""
    root = _root()
    command: click.Command = root
    path = ["gatekeeper"]
    allowed = _option_names(root)
    for word in words:
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            if name not in allowed | _option_names(command):
                return f"`{' '.join(path)}` has no option {name}"
            continue
        if _is_group(command):
            sub = command.get_command(click.Context(command), word)  # type: ignore[attr-defined]
            if sub is None:
                return f"`{' '.join(path)}` has no command {word!r}"
            command = sub
            path.append(word)
    if _is_group(command):
        return f"`{' '.join(path)}` needs a subcommand"
    return None


def _command_lines(text: str) -> Iterator[list[str]]:
    """The words after `gatekeeper` of every gatekeeper command in a shell snippet."""
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = re.sub(r"^\s*\$\s+", "", raw)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        start = True
        for index, word in enumerate(words):
            if word in {"&&", "||", "|", ";", "(", ")"}:
                start = True
            elif start and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
                continue
            elif start and word == "gatekeeper":
                rest = words[index + 1 :]
                end = next((i for i, w in enumerate(rest) if w in {"&&", "||", "|", ";"}), None)
                yield rest[:end]
                start = False
            else:
                start = False


def test_the_docs_show_gatekeeper_commands() -> None:
    """Command lines are found in the docs' shell blocks, so the check below has work to do."""
    assert sum(len(list(_command_lines(b.text))) for b in _SH) >= 15


@pytest.mark.parametrize("block", _SH, ids=_ids(_SH))
def test_shell_blocks_name_real_commands_and_options(block: _Block) -> None:
    """Each `gatekeeper ...` line in a shell block names a real (sub)command and real flags."""
    problems = [
        f"{block.where}: gatekeeper {' '.join(words)}: {problem}"
        for words in _command_lines(block.text)
        if (problem := _check_command_line(words))
    ]
    assert not problems, "\n".join(problems)


def test_the_command_check_catches_mistakes() -> None:
    """The checker rejects an unknown command, an unknown flag and a missing subcommand."""
    assert _check_command_line(["verify", "b.zip", "--key", "k.pem"]) is None
    assert _check_command_line(["-v", "policy", "test", "policies/tests"]) is None
    assert "no command 'nope'" in str(_check_command_line(["nope"]))
    assert "no option --frobnicate" in str(_check_command_line(["inspect", "--frobnicate"]))
    assert "needs a subcommand" in str(_check_command_line(["tokens"]))
    not_a_command = _synopsis_problems(["db", "upgrade|nope"], set())
    assert not_a_command == ["gatekeeper db nope is not a command"]
    no_option = _synopsis_problems(["verify"], {"--key", "--frob"})
    assert no_option == ["gatekeeper verify: no option --frob"]


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_relative_links_in_the_docs_point_at_files() -> None:
    """Every relative link in README.md and docs/*.md names a file or folder of the repository."""
    broken = []
    for path in _doc_files():
        for target in _LINK.findall(path.read_text("utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            resolved = (path.parent / target).resolve()
            if resolved.is_relative_to(ROOT) and not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, broken


def _synopsis_commands(text: str) -> Iterator[tuple[list[str], set[str]]]:
    """(command words, flags) of each `gatekeeper ...` entry; indented lines continue one."""
    entries: list[str] = []
    for line in text.splitlines():
        if line.startswith("gatekeeper "):
            entries.append(line)
        elif line.startswith(" ") and entries:
            entries[-1] += " " + line
    for entry in entries:
        body = entry.split("#", 1)[0]
        words = [w for w in body.split()[1:] if re.fullmatch(r"[a-z][a-z|]*", w)][:2]
        yield words, set(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", body))


def _synopsis_problems(words: list[str], flags: set[str]) -> list[str]:
    first, *rest = words
    alternatives = [[first, sub] for sub in rest[0].split("|")] if rest else [[first]]
    if rest and not _is_group(_resolve([first])):
        alternatives = [[first]]
    problems = []
    for path in alternatives:
        command = _resolve(path)
        if command is None or _is_group(command):
            problems.append(f"gatekeeper {' '.join(path)} is not a command")
    commands = [c for path in alternatives if (c := _resolve(path)) is not None]
    known = set().union(*(_option_names(c) for c in commands), _option_names(_root()))
    problems += [f"gatekeeper {' '.join(words)}: no option {flag}" for flag in flags - known]
    return problems


def _resolve(path: list[str]) -> click.Command | None:
    command: click.Command | None = _root()
    for word in path:
        if command is None or not _is_group(command):
            return None
        command = command.get_command(click.Context(command), word)  # type: ignore[attr-defined]
    return command


def test_the_readme_command_overview_names_real_commands_and_flags() -> None:
    """Each line of the README's command overview names real commands and their real flags."""
    blocks = [b for b in _blocks(ROOT / "README.md") if b.marker == ("docs-test", "synopsis")]
    assert blocks
    entries = [entry for block in blocks for entry in _synopsis_commands(block.text)]
    assert len(entries) >= 10
    problems = [p for words, flags in entries for p in _synopsis_problems(words, flags)]
    assert not problems, problems


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def _real_help(command: str) -> str:
    words = shlex.split(command)
    assert words[0] == "gatekeeper"
    script = Path(sys.executable).parent / "gatekeeper"
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GATEKEEPER_", "COLUMNS"))}
    result = subprocess.run(
        [str(script), *words[1:]],
        env={**keep, **_HELP_ENV},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return _normalise(result.stdout)


def _marked(kind: str) -> list[_Block]:
    return [b for b in _blocks(ROOT / "README.md") if b.marker and b.marker[0] == kind]


_HELP = _marked("help")


def test_readme_has_help_excerpts() -> None:
    """The README shows at least two real --help outputs."""
    assert len(_HELP) >= 2


@pytest.mark.parametrize("block", _HELP, ids=[b.marker[1] for b in _HELP if b.marker])
def test_readme_help_excerpts_match_the_real_output(block: _Block) -> None:
    """A README --help excerpt equals the real output (`python -m tests.test_docs --write`)."""
    assert block.marker is not None
    assert _normalise(block.text) == _real_help(block.marker[1]), (
        f"{block.where}: stale; regenerate with `python -m tests.test_docs --write`"
    )


def test_ci_examples_in_the_docs_are_the_files_in_examples() -> None:
    """The README's workflow and pipeline (and every other copy) equal the files in examples/."""
    readme = {b.marker[1] for b in _marked("file") if b.marker}
    assert readme == {"examples/github-workflow.yml", "examples/gitlab-ci.yml"}
    copies = [
        b for path in _doc_files() for b in _blocks(path) if b.marker and b.marker[0] == "file"
    ]
    for block in copies:
        assert block.marker is not None
        expected = (ROOT / block.marker[1]).read_text("utf-8")
        assert block.text + "\n" == expected, f"{block.where} differs from {block.marker[1]}"


def write_help_excerpts(readme: Path = ROOT / "README.md") -> int:
    """Regenerates every `<!-- help: ... -->` block of the README; returns how many."""
    lines = readme.read_text("utf-8").splitlines()
    blocks = [b for b in _blocks(readme) if b.marker and b.marker[0] == "help"]
    for block in reversed(blocks):
        assert block.marker is not None
        body = _real_help(block.marker[1]).splitlines()
        end = block.line + len(block.text.splitlines())
        lines[block.line : end] = body
    readme.write_text("\n".join(lines) + "\n", "utf-8")
    return len(blocks)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.test_docs --write")
    print(f"regenerated {write_help_excerpts()} help excerpt(s) in README.md")
