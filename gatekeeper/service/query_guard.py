"""Unknown query parameters are refused (422) instead of ignored: `?projet=acme/shop` must not
answer every record the token may read."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gatekeeper.service.problems import ApiError

_KNOWN: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known(route: APIRoute) -> frozenset[str]:
    names = _KNOWN.get(id(route))
    if names is None:
        names = _KNOWN[id(route)] = frozenset(_query_names(route.dependant))
    return names


async def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency: 422 naming the query parameters the route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _known(route)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        named = ", ".join(repr(name[:40]) for name in unknown[:5])
        takes = ", ".join(sorted(known)) or "none"
        raise ApiError(422, f"unknown query parameter {named}; this endpoint takes: {takes}")
