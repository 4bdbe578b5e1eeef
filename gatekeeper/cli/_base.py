"""Where `evaluate` gets the base's measurement for the base-aware facts.

`--base-facts FILE` (saved facts of the base), else the evidence service (`--base-from URL`, or
the `--submit` URL): the latest record of the merge-base commit of `--base REF` (or of the PR/MR's
target branch) and HEAD. Anything that keeps the base out of reach is a reason, never an error:
the base-aware facts are then missing with it (a rule that needs them fails closed).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.evidence import EvidenceClient, commit_records
from connectors.facts_file import load_facts_file
from gatekeeper.attest.predicate import PredicateError, read_predicate
from gatekeeper.base_facts import with_base
from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError
from gatekeeper.facts import Facts
from gatekeeper.reports.diff import merge_base_commit

__all__ = ["NO_BASE", "apply_base", "facts_of_record"]

NO_BASE = (
    "no base measurement: give --base-facts FILE, or --base-from URL (or --submit) with "
    "--base REF so the merge-base commit's evidence record can be read"
)


def facts_of_record(record: dict[str, Any]) -> Facts | None:
    """The facts a stored gate record carries (its statement's predicate), or None."""
    try:
        payload = base64.b64decode(record["envelope"]["payload"], validate=True)
        statement = json.loads(payload)
        predicate = read_predicate(str(statement["predicateType"]), statement["predicate"])
        return Facts.model_validate(predicate.facts)
    except (KeyError, TypeError, ValueError, ValidationError, PredicateError):
        return None


def _base_ref(base: str | None, facts: Facts) -> str | None:
    if base is not None:
        return base
    target = facts.change.base_ref if facts.change is not None else None
    return f"origin/{target}" if target else None


def _from_service(
    url: str, token: str, facts: Facts, base: str | None, cwd: Path
) -> tuple[Facts | None, str]:
    ref = _base_ref(base, facts)
    repo = facts.subject.repo if facts.subject is not None else None
    if ref is None or repo is None:
        return None, NO_BASE
    try:
        commit = merge_base_commit(ref, cwd)
        with EvidenceClient(url, token, retries=1) as client:
            records = commit_records(client, repo, commit)
    except GatekeeperError as error:
        return None, f"no base measurement: {error}"
    for record in sorted(records, key=lambda r: r.get("log_index", -1), reverse=True):
        found = facts_of_record(record)
        if found is not None:
            return found, ""
    return None, f"no base measurement: {url} holds no gate record of {commit[:12]}"


def apply_base(
    facts: Facts,
    *,
    base_facts: Path | None,
    base_from: str | None,
    base: str | None,
    settings: Settings,
    cwd: Path | None = None,
) -> Facts:
    """`facts` with the base-aware facts, or with them missing and the reason why."""
    if base_facts is not None:
        return with_base(facts, load_facts_file(base_facts), "")
    token = settings.token.get_secret_value().strip() if settings.token is not None else ""
    if base_from is None:
        return with_base(facts, None, NO_BASE)
    if not token:
        return with_base(facts, None, "no base measurement: reading it needs GATEKEEPER_TOKEN")
    found, reason = _from_service(base_from, token, facts, base, cwd or Path.cwd())
    return with_base(facts, found, reason)
