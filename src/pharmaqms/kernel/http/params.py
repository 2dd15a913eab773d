"""Typed parameters every API route shares, bounded so that no value a caller sends can
overflow the database: a record id is a positive integer no larger than the id columns hold
(every table's key is an INTEGER: 32 bits on PostgreSQL, so 2³¹ − 1; SQLite's would take 2⁶³ − 1,
and a bound below both answers the same on both), and paging never asks for more than a database
can count. A value outside the bounds is a 422 naming the parameter, before any handler runs.

The bounds are annotated-types constraints, not ``Path``/``Query`` markers, so one type serves a
path parameter (``/deviations/{deviation_id}``) and a query parameter (``?lot_id=``) alike, and
the OpenAPI document states them (``minimum``/``maximum``) for clients and fuzzers."""

from __future__ import annotations

from collections import Counter
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import Interval
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pharmaqms.kernel.errors import InvalidInput

# The highest id an INTEGER key holds on PostgreSQL (a table keyed by BIGINT would need a type
# of its own: none is today).
MAX_ID = 2**31 - 1
# Paging past two billion rows is never a real request; the bound keeps OFFSET arithmetic
# (offset + limit) far from any overflow on either database.
MAX_OFFSET = 2**31 - 1

RecordId = Annotated[int, Interval(ge=1, le=MAX_ID)]
"""The id of a stored row (path or query parameter)."""

Offset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]
"""How many rows of a listing to skip."""


def _takes_many(annotation: Any) -> bool:
    """Whether a parameter's type is a list of values (``?batch=A&batch=B``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_many(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return origin in (list, set, tuple, frozenset) or annotation in (list, set, tuple, frozenset)


def _single_valued(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params if not _takes_many(p.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _single_valued(sub)
    return names


def _declared(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


# openapi_extra flag of a route whose handler refuses unknown query parameters itself.
JUDGES_OWN_QUERY = "x-refuses-unknown-query"


def query_parameters(route: APIRoute) -> set[str]:
    """Every query parameter a route takes: its own, its dependencies', and those it reads
    itself and documents in ``openapi_extra`` (the data platform's filters)."""
    extra = (route.openapi_extra or {}).get("parameters", [])
    return _declared(route.dependant) | {p["name"] for p in extra if p.get("in") == "query"}


async def check_query_parameters(request: Request) -> None:
    """Query parameters an API route does not take, or one value given twice, are refused
    with a 422 naming the parameter (the app-wide dependency, like the NUL check):

    - ``?stauts=open`` (a typo) would otherwise list everything, as if no filter were asked;
    - ``?status=open&status=closed`` to a route that filters by one status is ambiguous: the
      framework would silently keep the last."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.path.startswith("/api/"):
        return
    counts = Counter(name for name, _ in request.query_params.multi_items())
    if not counts:
        return
    takes = query_parameters(route)
    # A route that reads its filters itself names what it takes in its own words.
    judged = bool((route.openapi_extra or {}).get(JUDGES_OWN_QUERY))
    for name in counts:
        if name not in takes and not judged:
            known = ", ".join(sorted(takes)) or "none"
            raise InvalidInput(
                f"{name!r} is no parameter of this route; it takes: {known}", field=name
            )
    single = _single_valued(route.dependant)
    if not judged:
        single |= takes - _declared(route.dependant)
    for name, n in counts.items():
        if n > 1 and name in single:
            raise InvalidInput(f"{name}: give one value, not {n}", field=name)
