"""The public product page (GS1 Digital Link), the public patient leaflet, and the staff's
printable pack labels. Thin: what the page shows comes from ``service.product_page``.

The public routes need no login and are rate-limited per client address (per process, see
:mod:`pharmaqms.kernel.http.ratelimit`) before anything is read or recorded. A malformed GTIN,
lot, serial or expiry gets a 422 page saying which; a GTIN that is not one of ours a 404 page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.ratelimit import RateLimiter, client_address
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.distribution.productpage import labels, service

router = APIRouter(tags=["ui"], include_in_schema=False)

# A person scans a pack a few times; a pharmacy checks a delivery with a scanner and should use
# the verification API with its account. 30 pages a minute per address allows the first and
# stops a script walking serial numbers.
LIMITER = RateLimiter("product_page", limit=30, window_s=60.0)
# GS1 Digital Link data attribute (17) expiry, YYMMDD, in the query string.
Expiry = Annotated[str | None, Query(alias="17")]  # checked by the service: a page, not JSON


def _refusal(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(
        request,
        "distribution/product_refused.html",
        {"title": title, "message": message},
        status=status,
    )


def _page(
    request: Request, gtin: str, lot: str | None, serial: str | None, exp: str | None
) -> HTMLResponse:
    if not LIMITER.allow(client_address(request)):
        return _refusal(
            request,
            429,
            "Too many requests",
            "Too many pages were asked from your connection just now: please try again in a "
            "minute.",
        )
    try:
        # Written to: a scan with a serial records its verification.
        with transaction(request, write=serial is not None) as session:
            page = service.product_page(session, gtin=gtin, lot=lot, serial=serial, exp=exp)
    except InvalidInput as refused:
        return _refusal(
            request,
            422,
            "This code could not be read",
            f"The code on the pack could not be read: {refused.detail}. Check that you scanned "
            "the whole code, or type it as printed.",
        )
    except NotFound:
        return _refusal(
            request,
            404,
            "Product not found",
            "This code does not belong to one of our medicines. If it is on a pack you were "
            "given, ask your pharmacist.",
        )
    query = {"01": page.gtin, **({"10": page.lot} if page.lot else {})}
    return render(
        request,
        "distribution/product_page.html",
        {"p": page, "side_effect_url": "/report-side-effect?" + urlencode(query)},
    )


@router.get("/01/{gtin}", response_class=HTMLResponse)
def product_only(request: Request, gtin: str, exp: Expiry = None) -> HTMLResponse:
    return _page(request, gtin, None, None, exp)


@router.get("/01/{gtin}/10/{rest:path}", response_class=HTMLResponse)
def product_lot_or_pack(request: Request, gtin: str, rest: str, exp: Expiry = None) -> HTMLResponse:
    """``/01/{gtin}/10/{lot}`` and ``/01/{gtin}/10/{lot}/21/{serial}``, read from the raw path:
    a lot or serial may hold a percent-encoded '/' (AI 10 and 21 allow it), which the decoded
    path would split into segments of its own."""
    raw = request.scope.get("raw_path", b"").decode("ascii", "replace")
    segments = raw.split("/10/", 1)[1].split("/") if "/10/" in raw else []
    if len(segments) == 1:
        return _page(request, gtin, unquote(segments[0]), None, exp)
    if len(segments) == 3 and segments[1] == "21":
        return _page(request, gtin, unquote(segments[0]), unquote(segments[2]), exp)
    return _refusal(
        request,
        422,
        "This code could not be read",
        "This address is not a pack's code: after the product it takes /10/ and the batch, "
        "then optionally /21/ and the serial number.",
    )


@router.get("/leaflets/{gtin}", response_class=HTMLResponse)
def patient_leaflet(request: Request, gtin: str) -> HTMLResponse:
    if not LIMITER.allow(client_address(request)):
        return _refusal(request, 429, "Too many requests", "Please try again in a minute.")
    try:
        with transaction(request, write=False) as session:
            product = service.product_by_gtin(session, gtin)
            leaflet = service.leaflet_in_force(session, product)
            name = product.name
    except (InvalidInput, NotFound):
        leaflet = None
    if leaflet is None:
        return _refusal(
            request,
            404,
            "No leaflet here",
            "We have no package leaflet online for this code. The leaflet in the pack applies.",
        )
    return render(request, "distribution/leaflet.html", {"leaflet": leaflet, "name": name})


@router.get("/distribution/serials/ranges/{range_id}/labels")
def pack_labels(
    request: Request,
    range_id: RecordId,
    actor: ActorDep,
    start: Annotated[int | None, Query(ge=0)] = None,
    count: Annotated[int, Query(ge=1, le=labels.MAX_LABELS)] = 24,
) -> Response:
    """Printable labels (PDF) for ``count`` serials of a commissioned range from ``start``
    (default: the range's first), each with its GS1 DataMatrix and Digital Link QR code."""
    actor.require("serials.manage", "print pack labels")
    base = str(request.base_url).rstrip("/")
    with transaction(request, write=False) as session:
        content, filename = labels.labels_pdf(
            session, range_id, start=start, count=count, base_url=base
        )
    return download(content, filename=filename, media_type="application/pdf", disposition="inline")
