"""The OpenAPI document as a client (and a fuzzer) needs it: how to authenticate (a bearer
token from ``POST /api/v1/auth/token``: the Authorize button of the docs page), and the
RFC 9457 problem+json answers each route gives when it refuses.

Which refusals a route can give follows from its shape, the same way for every route:

- 401 and 403: every route that needs a signed-in caller (who is asking; may they);
- 422: every route that takes a parameter or a body (malformed, out of bounds, a NUL);
- 404: every such route (it names a record, a source, a code: in its path, query or body);
- 400 and 409: every route that changes something (a refused step, a stale version, a
  transition the workflow does not allow); 400 also where a body can't be decoded at all;
- 413: routes that take a whole document say so themselves (``problems(413)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from pharmaqms.kernel.http.problems import PROBLEM

BEARER = "bearer"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
READING = frozenset({"GET", "HEAD"})

DESCRIPTIONS = {
    400: "The request was refused (problem+json).",
    401: "No valid bearer token (problem+json): get one from POST /api/v1/auth/token.",
    403: "The caller may not do this (problem+json).",
    404: "No such record (problem+json).",
    409: "The record's state or version does not allow this (problem+json).",
    413: "The document is too large (problem+json).",
    422: "Invalid input: the field and the reason (problem+json).",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route for refusals its shape does not imply (a 413)."""
    return {
        status: {"description": DESCRIPTIONS[status], "content": {PROBLEM: {"schema": PROBLEM_REF}}}
        for status in statuses
    }


def _query_names(dependant: Dependant) -> list[str]:
    """The query parameters of a route and of the dependencies it takes (a filter object)."""
    names = [p.name for p in dependant.query_params]
    for sub in dependant.dependencies:
        names.extend(_query_names(sub))
    return names


def _takes_input(route: APIRoute) -> bool:
    return bool(
        route.dependant.path_params or _query_names(route.dependant) or route.body_field is not None
    )


def refusals(route: APIRoute, method: str, *, public: bool) -> set[int]:
    statuses: set[int] = {401}
    if not public:
        statuses.add(403)
    if _takes_input(route):
        statuses.add(422)
    if not public and _takes_input(route):
        statuses.add(404)
    if route.body_field is not None:
        statuses.add(400)  # a body that can't be decoded at all
    if method not in READING and not public:
        statuses |= {400, 409}
    return statuses


def _decorate(schema: dict[str, Any], app: FastAPI, is_public: Callable[[str, str], bool]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An API token: POST /api/v1/auth/token with a username and password (a person), "
            "or one an administrator minted for a service account."
        ),
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # FastAPI's own validation error shapes: this API answers a 422 as problem+json instead.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods or ():
            operation = schema["paths"].get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue
            public = is_public(method, str(context.path))
            operation["security"] = [] if public else [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            for status in sorted(refusals(route, method, public=public)):
                responses[str(status)] = problems(status)[status]
            if public:
                responses["401"] = {
                    **responses["401"],
                    "description": "Wrong username or password (problem+json).",
                }
            for status, answer in list(responses.items()):
                if status.startswith(("4", "5")) and "content" in answer:
                    answer["content"] = {PROBLEM: {"schema": PROBLEM_REF}}


def install(app: FastAPI, *, is_public: Callable[[str, str], bool]) -> None:
    """Replace the app's OpenAPI generator by one that adds the security scheme and the
    problem+json answers. ``is_public(method, path)``: whether a route needs no caller."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _decorate(schema, app, is_public)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
