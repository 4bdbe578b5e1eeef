"""The client of the evidence service: submit a statement, get a receipt, retry with backoff.

    client = EvidenceClient("https://evidence.example", token)
    receipt = submit_verdict(client, verdict_json, facts_json, ci_run)

Connection errors, 5xx and 429 are retried `retries` times with exponential backoff and jitter;
after that, or when the service refuses the statement, `EvidenceNotStoredError` (exit 3) says why
in one sentence. `transport` takes any httpx transport (tests hand in their own).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from gatekeeper import __version__, logs
from gatekeeper.attest.canonical import canonical_json
from gatekeeper.attest.predicate import PredicateError, build_predicate, read_verdict
from gatekeeper.attest.statement import StatementError, build_statement
from gatekeeper.errors import (
    EvidenceNotStoredError,
    EvidenceRefusedError,
    UsageError,
    VerificationError,
)
from gatekeeper.ledger.checkpoint import Checkpoint, checkpoint_from_json
from gatekeeper.ledger.record_check import InclusionClaim, check_record

__all__ = [
    "EvidenceClient",
    "InclusionProof",
    "Receipt",
    "RecordSeen",
    "build_verdict_statement",
    "commit_records",
    "lookup_records",
    "submit_verdict",
]

_log = logging.getLogger(__name__)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_DELAY_S = 30.0


class InclusionProof(BaseModel):
    """RFC 9162 audit path of one leaf to a checkpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    size: int
    hashes: tuple[str, ...]


class Receipt(BaseModel):
    """What the service answered: the record, its inclusion proof and the signed checkpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    project: str
    log_index: int
    leaf_hash: str
    integrated_at: str
    created: bool
    inclusion_proof: InclusionProof
    checkpoint: Checkpoint
    envelope: dict[str, Any]

    def check_inclusion(self) -> None:
        """Checks that the envelope is the leaf and the proof leads to the checkpoint's root.

        The checkpoint's signature is checked by whoever holds the service's public key.
        """
        checked = check_record(
            self.envelope,
            leaf_hash=self.leaf_hash,
            log_index=self.inclusion_proof.index,
            keys=None,
            inclusion=InclusionClaim(
                self.inclusion_proof.size,
                self.checkpoint.root(),
                [bytes.fromhex(h) for h in self.inclusion_proof.hashes],
            ),
        )
        if not checked.ok:
            raise VerificationError(f"the receipt: {'; '.join(checked.sentences())}")


def _receipt(body: Any, created: bool) -> Receipt:
    try:
        receipt = body["receipt"]
        return Receipt(
            record_id=body["id"],
            project=body["project"],
            log_index=body["log_index"],
            leaf_hash=body["leaf_hash"],
            integrated_at=body["integrated_at"],
            created=created,
            inclusion_proof=InclusionProof.model_validate(receipt["inclusion_proof"]),
            checkpoint=checkpoint_from_json(receipt["checkpoint"]),
            envelope=body["envelope"],
        )
    except (KeyError, TypeError, ValueError, VerificationError) as error:
        raise EvidenceNotStoredError(
            f"the evidence service answered a record without a usable receipt ({error})"
        ) from error


def _error_sentence(response: httpx.Response) -> str:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text[:200].strip() or response.reason_phrase
    return f"HTTP {response.status_code}: {message}"


class EvidenceClient:
    """Talks to one evidence service with one token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 30.0,
    ) -> None:
        logs.SECRETS.add(token)
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self._client = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"gatekeeper/{__version__}",
            },
        )

    def close(self) -> None:
        """Closes the connection pool."""
        self._client.close()

    def __enter__(self) -> EvidenceClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _delay(self, attempt: int) -> float:
        base: float = min(_MAX_DELAY_S, self.backoff * float(1 << attempt))
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret

    def _get(self, params: Mapping[str, str]) -> Any:
        problem = "no attempt was made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt - 1))
            try:
                response = self._client.get("/v1/evidence", params=dict(params))
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                continue
            if response.status_code == 200:
                return response.json()
            problem = _error_sentence(response)
            if response.status_code not in _RETRY_STATUSES:
                break
        raise EvidenceNotStoredError(
            f"the evidence service at {self.base_url} could not be queried ({problem})"
        )

    def records(self, params: Mapping[str, str]) -> Iterator[Any]:
        """Every record `GET /v1/evidence` answers for `params`, following the cursor."""
        cursor: str | None = None
        while True:
            body = self._get({**params, **({"cursor": cursor} if cursor else {})})
            records = body.get("records") if isinstance(body, dict) else None
            yield from records if isinstance(records, list) else ()
            cursor = body.get("next_cursor") if isinstance(body, dict) else None
            if not isinstance(cursor, str):
                return

    def submit(self, project: str, statement: Mapping[str, Any]) -> Receipt:
        """Stores `statement` for `project`; the same content again returns the same record."""
        body = canonical_json({"project": project, "statement": dict(statement)})
        problem = "no attempt was made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt - 1))
            try:
                response = self._client.post(
                    "/v1/evidence", content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                _log.info("evidence service unreachable (attempt %d): %s", attempt + 1, problem)
                continue
            if response.status_code in (200, 201):
                return _receipt(response.json(), created=response.status_code == 201)
            problem = _error_sentence(response)
            if response.status_code not in _RETRY_STATUSES:
                raise EvidenceRefusedError(
                    f"the evidence service at {self.base_url} refused the evidence ({problem})"
                )
            _log.info("evidence service busy (attempt %d): %s", attempt + 1, problem)
        raise EvidenceNotStoredError(
            f"the evidence service at {self.base_url} did not store the evidence after "
            f"{self.retries + 1} attempts (last: {problem})"
        )


def commit_records(
    client: EvidenceClient, project: str, commit: str, *, max_pages: int = 20
) -> list[dict[str, Any]]:
    """Every stored record of `commit` in `project`, in log order (GET /v1/evidence)."""
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"project": project, "commit": commit}
    for _page in range(max_pages):
        try:
            response = client._client.get("/v1/evidence", params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise EvidenceNotStoredError(
                f"cannot read the base's evidence from {client.base_url}: {error}"
            ) from error
        if response.status_code != 200:
            raise EvidenceNotStoredError(
                f"cannot read the base's evidence from {client.base_url}: "
                f"{_error_sentence(response)}"
            )
        try:
            body = response.json()
            records, cursor = body["records"], body.get("next_cursor")
        except (ValueError, KeyError, TypeError) as error:
            raise EvidenceNotStoredError(
                f"the evidence service at {client.base_url} answered no record list"
            ) from error
        found.extend(r for r in records if isinstance(r, dict))
        if not isinstance(cursor, str) or not cursor:
            break
        params["cursor"] = cursor
    return found


LOOKUP_PAGE = 100
"""Commits one evidence query names: the service's `COMMITS_PER_QUERY`."""


class RecordSeen(BaseModel):
    """The evidence record a release change points at: its id and the gate's verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_id: str
    verdict: Literal["pass", "fail"] | None


def _verdict_of(record: Any) -> tuple[str, RecordSeen] | None:
    """(commit, record) from one record of `GET /v1/evidence`, None for a shape it cannot read."""
    try:
        payload = json.loads(base64.b64decode(record["envelope"]["payload"]))
        commit = payload["subject"][0]["digest"]["gitCommit"]
        record_id = record["id"]
        kind = payload.get("predicateType")
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if not isinstance(commit, str) or not isinstance(record_id, str) or not isinstance(kind, str):
        return None
    try:
        verdict: Literal["pass", "fail"] | None = read_verdict(payload["predicate"], kind).verdict
    except (PredicateError, KeyError):
        verdict = None
    return commit, RecordSeen(record_id=record_id[:100], verdict=verdict)


def lookup_records(
    client: EvidenceClient, project: str, commits: Sequence[str]
) -> dict[str, RecordSeen]:
    """The record of each commit that has one, a passing record preferred over a failing one
    and the latest of equals: ONE query per LOOKUP_PAGE commits (plus cursor pages)."""
    found: dict[str, RecordSeen] = {}
    for start in range(0, len(commits), LOOKUP_PAGE):
        page = ",".join(commits[start : start + LOOKUP_PAGE])
        for record in client.records({"project": project, "commit": page, "limit": "500"}):
            seen = _verdict_of(record)
            if seen is None:
                continue
            commit, now = seen
            before = found.get(commit)
            if before is None or before.verdict != "pass" or now.verdict == "pass":
                found[commit] = now
    return found


def build_verdict_statement(
    verdict: Mapping[str, Any],
    facts: Mapping[str, Any],
    ci_run: Mapping[str, Any],
    tools: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The in-toto statement of a gate result: subject = repository + commit, predicate =
    verdict, policy (name, digest), rules, facts and the CI run."""
    subject = facts.get("subject") if isinstance(facts.get("subject"), Mapping) else None
    repo = subject.get("repo") if subject else None
    commit = subject.get("commit") if subject else None
    if not isinstance(repo, str) or not isinstance(commit, str):
        raise UsageError(
            "the facts name no repository and commit (subject.repo, subject.commit); "
            "evidence is about one commit, so run inside CI or pass --repo and the commit"
        )
    try:
        predicate = build_predicate(
            verdict, facts, ci_run, tools if tools is not None else {"gatekeeper": __version__}
        )
        statement = build_statement(repo, commit.lower(), predicate)
    except (PredicateError, StatementError) as error:
        raise UsageError(f"cannot build the evidence statement: {error}") from error
    return statement.to_json_dict()


def submit_verdict(
    client: EvidenceClient,
    verdict: Mapping[str, Any],
    facts: Mapping[str, Any],
    ci_run: Mapping[str, Any],
    *,
    project: str | None = None,
) -> Receipt:
    """Builds the statement of a gate result and stores it (project: the repository)."""
    statement = build_verdict_statement(verdict, facts, ci_run)
    return client.submit(project or statement["subject"][0]["name"], statement)
