"""Genealogy and trace endpoints: thin — resolve, ask the service, answer JSON.

Identifiers go in the path as written (``ITEM/LOT``, a Digital Link or an EPC URI may contain
slashes and colons; percent-encode ``?`` and ``#``). A malformed GS1 identifier is a 422 whose
``code`` names the GS1 rule; an unknown one a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import current_actor, transaction
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.genealogy.graph import Direction
from pharmaqms.platform.genealogy.service import genealogy, recall_scope

router = APIRouter(prefix="/api/v1/data", tags=["genealogy"])
ActorDep = Annotated[Actor, Depends(current_actor)]
At = Annotated[
    datetime | None,
    Query(description="As it stood at this time (ISO 8601 with offset); default: now."),
]


def _json(value: dict[str, Any]) -> JSONResponse:
    return JSONResponse(plain(value))


@router.get("/genealogy/{identifier:path}")
def get_genealogy(
    identifier: str,
    actor: ActorDep,
    request: Request,
    direction: Direction = Direction.BOTH,
    at: At = None,
) -> JSONResponse:
    """The linked entities of a lot, pack, SSCC or EPC URI as a graph (nodes and edges), with
    the recall scope when the direction includes ``down``."""
    actor.require("records.read", "read genealogy")
    with transaction(request, write=False) as session:
        return _json(genealogy(session, identifier, direction, at).as_dict())


@router.get("/trace/{identifier:path}/recall-scope")
def get_recall_scope(
    identifier: str, actor: ActorDep, request: Request, at: At = None
) -> JSONResponse:
    """Forward trace: every lot, pack, container, shipment, location and customer reached."""
    actor.require("records.read", "read genealogy")
    with transaction(request, write=False) as session:
        return _json(recall_scope(session, identifier, at).as_dict())
