"""Project names and the binding of a statement's subject to the project it is submitted to.

A project is `owner/name`, or `group/subgroup/.../name` on GitLab: two or more parts of letters,
digits, `_`, `-` and `.`, never empty, never `.` or `..` (nor `..` inside a part), at most 200
characters. A subject names the project when its name is the project itself or a repository URI
whose path is the project (`git+https://host/owner/name`, `https://host/owner/name`, optional
`.git`; no user, query or fragment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = [
    "PROJECT_MAX_LENGTH",
    "PROJECT_PATTERN",
    "ProjectNameError",
    "subject_names_project",
    "unbound_subject",
    "validate_project",
]

PROJECT_MAX_LENGTH = 200
PROJECT_PATTERN = r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)+$"
"""The characters a project name may have (published in OpenAPI); `validate_project` checks more."""

_PROJECT = re.compile(PROJECT_PATTERN)
_URI_SCHEMES = ("https", "git+https")


class ProjectNameError(ValueError):
    """The string is not a project name; `str()` is one sentence saying why."""


def validate_project(value: str) -> str:
    """`value` when it is a project name (`owner/name`, GitLab groups allowed).

    Raises ProjectNameError saying what is wrong otherwise."""
    shown = repr(value[:60]) + ("..." if len(value) > 60 else "")
    if len(value) > PROJECT_MAX_LENGTH:
        raise ProjectNameError(f"project {shown} is longer than {PROJECT_MAX_LENGTH} characters")
    if not _PROJECT.fullmatch(value):
        raise ProjectNameError(
            f"project {shown} is not owner/name: two or more non-empty parts separated by '/', "
            "of letters, digits, '_', '-' and '.' (no commas, wildcards or spaces)"
        )
    if ".." in value or "." in value.split("/"):
        raise ProjectNameError(f"project {shown} has a '.' or '..' part or a '..' inside a part")
    return value


def subject_names_project(name: str, project: str) -> bool:
    """True when the subject `name` is `project` or a repository URI whose path is `project`."""
    if name == project:
        return True
    return "://" in name and _uri_path(name) in ("/" + project, f"/{project}.git")


def _uri_path(name: str) -> str | None:
    """The path of a repository URI of an accepted shape, or None."""
    try:
        parts = urlsplit(name)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    plain = (
        parts.scheme in _URI_SCHEMES
        and parts.hostname
        and parts.username is None
        and parts.password is None
        and not (parts.query or parts.fragment)
        and not name.endswith(("?", "#"))  # an empty query or fragment is still one
    )
    return parts.path if plain else None


def unbound_subject(names: Iterable[str], project: str) -> str | None:
    """The first subject name that does not name `project`, or None when every one does."""
    for name in names:
        if not subject_names_project(name, project):
            return name
    return None
