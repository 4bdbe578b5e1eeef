"""Waivers (concessions, ISO 9001 8.7) applied to rule results; expired ones are reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gatekeeper.facts import Facts
from gatekeeper.policy._scope import scope_problem
from gatekeeper.policy.model import Waiver
from gatekeeper.policy.verdict import RuleResult, WaiverUse

_WAIVABLE = ("fail", "warn")


def _use(waiver: Waiver, status: str, message: str) -> WaiverUse:
    return WaiverUse.model_validate(
        {
            "rule": waiver.rule,
            "reason": waiver.reason,
            "approved_by": waiver.approved_by,
            "expires": waiver.expires,
            "ticket": waiver.ticket,
            "status": status,
            "message": message,
        }
    )


def _concession(waiver: Waiver) -> str:
    ticket = f", {waiver.ticket}" if waiver.ticket else ""
    return (
        f"waived by {waiver.approved_by} until {waiver.expires.isoformat()} "
        f"({waiver.reason}{ticket})"
    )


def apply_waivers(
    waivers: Sequence[Waiver], results: Sequence[RuleResult], facts: Facts, now: dt.datetime
) -> tuple[list[RuleResult], list[WaiverUse]]:
    """Results with valid waivers applied, and what became of each waiver."""
    by_id = {result.id: index for index, result in enumerate(results)}
    out = list(results)
    uses: list[WaiverUse] = []
    today = now.astimezone(dt.UTC).date()
    for waiver in waivers:
        index = by_id[waiver.rule]
        current = out[index]
        if today > waiver.expires:
            note = f"a waiver by {waiver.approved_by} expired on {waiver.expires.isoformat()}"
            uses.append(_use(waiver, "expired", f"{note}; it no longer applies"))
            if current.outcome in _WAIVABLE:
                out[index] = current.model_copy(update={"message": f"{current.message} ({note})"})
            continue
        problem = scope_problem(waiver.scope, facts)
        if problem is not None:
            uses.append(_use(waiver, "out_of_scope", problem))
            continue
        if current.outcome not in _WAIVABLE:
            uses.append(_use(waiver, "unused", f"rule {waiver.rule} is {current.outcome}"))
            continue
        message = f"{_concession(waiver)}: {current.message}"
        out[index] = current.model_copy(update={"outcome": "waived", "message": message})
        uses.append(_use(waiver, "applied", _concession(waiver)))
    return out, uses
