"""Who may call which route: one table, enforced before every handler and read by the test
that tries every role on every route (tests/web/test_access_matrix.py).

Part 11 §11.10(d), (g): only authorised people use the system, and authority checks decide who
may sign, alter a record or perform an operation. Each route names what it needs:

- ``PUBLIC``: nobody needs to be logged in (the login form, the token exchange, the change of an
  expired password: each proves the person by their password itself);
- ``SIGNED_IN``: any account, for what is its own (its inbox, its password resets, log out);
- ``Needs(permission, what)``: a role of the actor holds the permission (or ``*``);
- ``Step(record type, transition)`` and ``NAMED_TRANSITION``: a workflow transition; the
  workflow engine checks its roles, guards and signature when it is taken (the engine, not this
  table, is the one place that decides a status change), so here it only takes a logged-in
  actor, and the test expects a success only from a role the transition names.

A route without an entry is refused to everyone (deny by default), and the test fails: a new
route is not reachable until it says who may call it. The check here comes before the handler
and before the request body is read, so a refusal reveals nothing of what was sent; handlers
and services keep their own, finer checks (the reporter edits their own deviation only).
"""

from __future__ import annotations

from fastapi import Request

from pharmaqms.kernel.errors import PermissionDenied
from pharmaqms.kernel.http.context import current_actor
from pharmaqms.platform.data import entities as _entities  # noqa: F401 - declares the entities
from pharmaqms.platform.data.query import ENTITIES
from pharmaqms.web.access.api import API
from pharmaqms.web.access.pages import PAGES
from pharmaqms.web.access.rules import (
    NAMED_TRANSITION,
    PUBLIC,
    SIGNED_IN,
    Access,
    NamedTransition,
    Needs,
    Public,
    SignedIn,
    Step,
)

__all__ = [
    "NAMED_TRANSITION",
    "PUBLIC",
    "ROUTES",
    "SIGNED_IN",
    "Access",
    "NamedTransition",
    "Needs",
    "Public",
    "SignedIn",
    "Step",
    "access_of",
    "authorise",
]

ROUTES: dict[tuple[str, str], Access] = {**API, **PAGES}

# The data services serve one listing per entity; each reads with the entity's permission.
for _name, _entity in ENTITIES.items():
    ROUTES[("GET", f"/api/v1/data/{_name}")] = Needs(
        _entity.permission, f"read {_entity.title.lower()}"
    )


def access_of(method: str, path: str) -> Access | None:
    return ROUTES.get((method, path))


async def authorise(request: Request) -> None:
    """The app-wide dependency: refuse the request unless the route's entry allows it."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    access = access_of(request.method, path) if isinstance(path, str) else None
    if access is None:
        raise PermissionDenied(
            f"{request.method} {path} says nobody may call it: every route declares who may "
            "(pharmaqms.web.access)"
        )
    if isinstance(access, Public):
        return
    actor = await current_actor(request)
    if isinstance(access, Needs):
        access.check(actor)
