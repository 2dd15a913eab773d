"""Text no database may receive, refused at the door before any handler runs: the NUL
character (U+0000). PostgreSQL can't store it in a text column, SQLite can; refused on both,
so every record moves between the two (a backup of one restores into the other).

One check for the whole application (an app-wide dependency): path and query parameters, the
JSON body a route declares, and form fields. A document delivered to the data platform (a raw
body, or a file in a form) is not judged here: ingest reads its rows and quarantines the bad
ones with their reasons."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from pharmaqms.kernel.errors import InvalidInput

NUL = "\x00"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _refused(field: str) -> InvalidInput:
    return InvalidInput(f"{field}: text may not hold the NUL character (U+0000)", field=field)


def _printable(name: str) -> str:
    """A field name as it can be shown: a NUL in the name itself written as an escape."""
    return name.replace(NUL, "\\u0000")


def _nul_in(value: Any, path: tuple[str, ...]) -> str | None:
    """Where the first NUL sits in a decoded JSON value, as a field path ("batch_ids.1")."""
    if isinstance(value, str):
        return (".".join(path) or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, _printable(key))
            if NUL in key:
                return ".".join(here)
            found = _nul_in(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def _check_pairs(pairs: Iterable[tuple[str, Any]]) -> None:
    for name, value in pairs:
        if NUL in name or (isinstance(value, str) and NUL in value):
            raise _refused(_printable(name))


def _declares_body(request: Request) -> bool:
    """Whether the route takes a body FastAPI parses (a model, form fields). A route that
    declares none reads the bytes itself: a document delivery, which ingest judges."""
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and route.body_field is not None


async def refuse_nul_characters(request: Request) -> None:
    _check_pairs(request.path_params.items())
    _check_pairs(request.query_params.multi_items())
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        if not _declares_body(request):
            return
        body = await request.body()  # read once: FastAPI has it already, and keeps it
        if b"\\u0000" not in body and b"\x00" not in body:
            return  # the common case: no need to decode it again
        try:
            decoded = json.loads(body)
        except ValueError:
            return  # malformed: FastAPI's own 422 says where
        where = _nul_in(decoded, ())
        if where is not None:
            raise _refused(where)
    elif media == FORM or (media == MULTIPART and _declares_body(request)):
        # A browser form (read here, kept for the handler) or form fields beside a file;
        # files themselves are deliveries.
        form = await request.form()
        _check_pairs(form.multi_items())
