"""Where a rule applies (`when`) and where a waiver holds (`scope`), from the change facts.

A `when` condition that cannot be decided (the fact is missing) lets the rule apply: the stricter
side. A waiver scope that cannot be decided does not hold: a concession needs proof.
"""

from __future__ import annotations

from gatekeeper.facts import Facts
from gatekeeper.policy._glob import any_match, glob_match
from gatekeeper.policy.model import WaiverScope, When


def branch_of(facts: Facts) -> str | None:
    """The branch under judgement: change.branch, else subject.ref without refs/heads/."""
    if facts.change is not None and facts.change.branch:
        return facts.change.branch
    if facts.subject is not None and facts.subject.ref:
        return facts.subject.ref.removeprefix("refs/heads/")
    return None


def changed_files(facts: Facts) -> tuple[str, ...] | None:
    """The files the change touches, or None when no source listed them."""
    if facts.change is None or not facts.change.files:
        return None
    return facts.change.files


def _unmet(when: When, facts: Facts) -> list[str]:
    """Sentences for each `when` condition that is known not to hold."""
    unmet: list[str] = []
    branch = branch_of(facts)
    if when.branches and branch is not None and not any_match(when.branches, branch):
        unmet.append(f"branch {branch} is not {' or '.join(when.branches)}")
    event = facts.change.event if facts.change is not None else None
    if when.events and event is not None and event not in when.events:
        unmet.append(f"event {event} is not {' or '.join(when.events)}")
    labels = set(facts.change.labels) if facts.change is not None else None
    if when.labels and labels is not None and not labels & set(when.labels):
        unmet.append(f"no label {' or '.join(when.labels)}")
    files = changed_files(facts)
    if when.paths and files is not None and not any(any_match(when.paths, f) for f in files):
        unmet.append(f"no changed file matches {' or '.join(when.paths)}")
    return unmet


def skip_reason(when: When | None, facts: Facts) -> str | None:
    """Why the rule does not apply to this change, or None when it applies."""
    if when is None:
        return None
    unmet = _unmet(when, facts)
    return "does not apply: " + "; ".join(unmet) if unmet else None


def scope_problem(scope: WaiverScope | None, facts: Facts) -> str | None:
    """Why a waiver's scope does not hold for this change, or None when it holds."""
    if scope is None:
        return None
    if scope.branch is not None:
        branch = branch_of(facts)
        if branch is None:
            return f"the branch is unknown, and the waiver holds only on {scope.branch}"
        if not glob_match(scope.branch, branch):
            return f"the waiver holds only on {scope.branch}, not on {branch}"
    if scope.paths:
        files = changed_files(facts)
        if files is None:
            return "the changed files are unknown, and the waiver holds only for some paths"
        outside = [path for path in files if not any_match(scope.paths, path)]
        if outside:
            return f"{outside[0]} is outside the waiver's paths {', '.join(scope.paths)}"
    return None
