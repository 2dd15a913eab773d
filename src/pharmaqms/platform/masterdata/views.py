"""The page of one location: its master data, where it is (coordinates and the region of its
ambient temperature profile, which route planning reads) and the form that changes them
through the master data service, audited with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.platform.masterdata import service

router = APIRouter(tags=["ui"], include_in_schema=False)


@router.get("/data/locations/{key}", response_class=HTMLResponse)
def location_page(request: Request, actor: ActorDep, key: str) -> HTMLResponse:
    actor.require("records.read", "read master data")
    with transaction(request, write=False) as session:
        location = service.find_location(session, key[:60], field="key")
        return render(
            request,
            "data/location.html",
            {"location": location, "can_edit": actor.can("data.manage")},
        )


def _degrees(text: str, field: str) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number of degrees", field=field) from None


@router.post("/data/locations/{key}/position")
def place_location(
    request: Request,
    actor: ActorDep,
    key: str,
    latitude: Annotated[str, Form(max_length=40)] = "",
    longitude: Annotated[str, Form(max_length=40)] = "",
    region: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        location = service.place_location(
            session,
            actor=actor,
            code=key[:60],
            latitude=_degrees(latitude, "latitude"),
            longitude=_degrees(longitude, "longitude"),
            region=region,
            reason=reason,
        )
        code = location.code
    return redirect(f"/data/locations/{code}", f"{code}: position saved.")
