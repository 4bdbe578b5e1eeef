"""The in-toto Statement v1 that Gatekeeper stores: subject = repository + commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from gatekeeper.attest.canonical import CanonicalJSONError, canonical_json, strict_json_loads
from gatekeeper.attest.predicate import PREDICATE_TYPE, VerdictPredicate
from gatekeeper.errors import AttestError

__all__ = [
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Statement",
    "StatementError",
    "Subject",
    "build_statement",
    "parse_statement",
    "statement_bytes",
    "statement_from_json",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

_HEX = re.compile(r"[0-9a-f]+")
_GIT_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class StatementError(AttestError):
    """The bytes are not an in-toto Statement v1; `str()` is one sentence saying why."""


class Subject(BaseModel):
    """One artifact the statement is about: an in-toto ResourceDescriptor with at least one
    digest (lowercase hex). Gatekeeper writes `name` and `gitCommit`; what others write (`uri`,
    `annotations`, `mediaType`...) is read as the spec allows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, min_length=1)
    uri: str | None = Field(default=None, min_length=1)
    digest: dict[str, str] = Field(min_length=1)
    content: str | None = None
    downloadLocation: str | None = None  # noqa: N815 - the in-toto wire name
    mediaType: str | None = None  # noqa: N815 - the in-toto wire name
    annotations: dict[str, JsonValue] | None = None

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The subject's `name` (unless `_`, which the spec uses for "no meaningful name") and
        `uri`, those that are set."""
        found = [] if self.name is None or self.name == "_" else [self.name]
        if self.uri is not None:
            found.append(self.uri)
        return tuple(found)

    def to_json_dict(self) -> dict[str, Any]:
        """The subject as plain JSON values, the fields it does not set left out."""
        return self.model_dump(mode="json", exclude_none=True)

    @field_validator("digest")
    @classmethod
    def _hex_digests(cls, value: dict[str, str]) -> dict[str, str]:
        for algorithm, digest in value.items():
            if algorithm == "gitCommit":
                if not _GIT_COMMIT.fullmatch(digest):
                    raise ValueError("gitCommit must be 40 or 64 lowercase hex characters")
            elif not _HEX.fullmatch(digest):
                raise ValueError(f"digest {algorithm!r} must be lowercase hex")
        return value


class Statement(BaseModel):
    """An in-toto Statement v1 (`_type`, `subject`, `predicateType`, `predicate`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type_: str = Field(alias="_type")
    subject: tuple[Subject, ...] = Field(min_length=1)
    predicateType: str = Field(min_length=1)  # noqa: N815 - the in-toto wire name
    predicate: dict[str, Any]

    @field_validator("type_")
    @classmethod
    def _statement_v1(cls, value: str) -> str:
        if value != STATEMENT_TYPE:
            raise ValueError(f"must be {STATEMENT_TYPE!r}")
        return value

    def to_json_dict(self) -> dict[str, Any]:
        """The statement as plain JSON values with its wire names (a subject's unset fields
        left out, the predicate as it is)."""
        return {
            "_type": self.type_,
            "subject": [subject.to_json_dict() for subject in self.subject],
            "predicateType": self.predicateType,
            "predicate": self.model_dump(mode="json", include={"predicate"})["predicate"],
        }


def _sentence(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the statement"
    message = str(first["msg"]).removeprefix("Value error, ")
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"not an in-toto Statement v1: {where}: {message}{suffix}"


def statement_from_json(value: Any) -> Statement:
    """Validate an already parsed JSON value as a Statement."""
    if not isinstance(value, dict):
        raise StatementError("not an in-toto Statement v1: the JSON is not an object")
    try:
        return Statement.model_validate(value)
    except ValidationError as error:
        raise StatementError(_sentence(error)) from error


def parse_statement(data: bytes) -> Statement:
    """Parse strict JSON bytes into a Statement; StatementError says what is wrong."""
    try:
        value = strict_json_loads(data)
    except CanonicalJSONError as error:
        raise StatementError(f"not an in-toto Statement v1: {error}") from error
    return statement_from_json(value)


def build_statement(
    repo: str, commit: str, predicate: VerdictPredicate | Mapping[str, Any]
) -> Statement:
    """A Gatekeeper verdict statement about `commit` of `repo`."""
    if isinstance(predicate, VerdictPredicate):
        predicate = predicate.to_json_dict()
    return statement_from_json(
        {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": repo, "digest": {"gitCommit": commit}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": dict(predicate),
        }
    )


def statement_bytes(stmt: Statement) -> bytes:
    """The canonical (RFC 8785) bytes of the statement: what the DSSE payload carries."""
    return canonical_json(stmt.to_json_dict())
