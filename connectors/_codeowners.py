"""CODEOWNERS for both providers, with the `codeowners` package doing the pattern matching.

GitHub: one file, the last matching pattern names a path's owners. GitLab adds sections
(`[Name]`, `[Name][2] @default-owners`, optional `^[Name]`): each section is matched on its own, and
a changed path needs an owner's approval in every required section that matches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from codeowners import CodeOwners

TeamResolver = Callable[[str], frozenset[str] | None]
"""Members (lower-case logins) of a team/group named like `org/team`, or None if unknown."""

GITHUB_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
GITLAB_LOCATIONS = ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")

_SECTION = re.compile(r"^(\^)?\[([^\]]+)\](?:\[(\d+)\])?\s*(.*)$")


@dataclass
class _Section:
    name: str
    optional: bool = False
    default_owners: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _sections(text: str) -> list[_Section]:
    sections = [_Section(name="")]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SECTION.match(line)
        if match and not line.startswith("[!"):
            owners = [word for word in match.group(4).split() if not word.startswith("#")]
            sections.append(_Section(match.group(2), bool(match.group(1)), owners))
            continue
        section = sections[-1]
        words = line.split()
        if len(words) == 1 and section.default_owners:
            line = " ".join([line, *section.default_owners])
        section.lines.append(line)
    return [section for section in sections if section.lines]


class _Owners:
    def __init__(self, approvers: Iterable[str], resolve_team: TeamResolver, gitlab: bool) -> None:
        self._approvers = {login.lower() for login in approvers}
        self._resolve = resolve_team
        self._gitlab = gitlab
        self._teams: dict[str, frozenset[str] | None] = {}

    def _team(self, name: str) -> frozenset[str]:
        if name not in self._teams:
            self._teams[name] = self._resolve(name)
        return self._teams[name] or frozenset()

    def approves(self, owners: Sequence[tuple[str, str]]) -> bool:
        for kind, owner in owners:
            name = owner.removeprefix("@").lower()
            if kind == "USERNAME" and name in self._approvers:
                return True
            could_be_group = kind == "TEAM" or (kind == "USERNAME" and self._gitlab)
            if could_be_group and self._team(name) & self._approvers:
                return True
        return False


def unapproved_paths(
    text: str,
    paths: Sequence[str],
    approvers: Iterable[str],
    *,
    resolve_team: TeamResolver,
    gitlab: bool = False,
) -> tuple[str, ...]:
    """Changed paths that lack an approval from one of their owners (empty: all approved)."""
    owners = _Owners(approvers, resolve_team, gitlab)
    if gitlab:
        parsed = [(CodeOwners("\n".join(s.lines)), s.optional) for s in _sections(text)]
    else:
        parsed = [(CodeOwners(text), False)]
    missing: list[str] = []
    for path in paths:
        for rules, optional in parsed:
            path_owners = rules.of(path.lstrip("/"))
            if optional or not path_owners:
                continue
            if not owners.approves(path_owners):
                missing.append(path)
                break
    return tuple(missing)
