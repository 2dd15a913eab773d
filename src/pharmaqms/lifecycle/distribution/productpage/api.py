"""Which controlled document is a product's patient leaflet (what the public product page
links): thin, through ``service.link_patient_leaflet``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.schemas import Strict
from pharmaqms.lifecycle.distribution.productpage import service

router = APIRouter(prefix="/api/v1", tags=["product page"])


class LeafletLink(Strict):
    document_number: str | None = Field(
        default=None, max_length=40, description="A patient leaflet's number; null: none"
    )
    reason: str = Field(min_length=1, max_length=500)


@router.put("/product-pages/{gtin}/leaflet")
def link_leaflet(
    gtin: Annotated[str, Path(max_length=14)],
    body: LeafletLink,
    request: Request,
    actor: ActorDep,
) -> JSONResponse:
    """Name the controlled document (type patient leaflet) the product's public page links;
    it is linked only while a version of it is in force."""
    with transaction(request) as session:
        product = service.link_patient_leaflet(
            session,
            actor=actor,
            gtin=gtin,
            document_number=body.document_number,
            reason=body.reason,
        )
        leaflet = service.leaflet_in_force(session, product)
        out = {
            "gtin": product.gtin,
            "document_number": product.leaflet_document_number,
            "in_force_version": leaflet.version if leaflet else None,
        }
    return JSONResponse(out)
