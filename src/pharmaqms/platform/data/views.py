"""Data platform pages: the sources with their data-quality figures, a page per source (recent
deliveries, the quarantine with fix-and-replay), one delivery, the upload form, and browse
pages for every entity. Thin: every change goes through ``ingest.service`` and ``data.sources``
with the person as actor; every list comes from the declared entities (``data.query``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.settings import get_settings
from pharmaqms.platform.data import entities as _entities  # noqa: F401 - declares the entities
from pharmaqms.platform.data import service, sources
from pharmaqms.platform.data.query import ENTITIES, count, entity_named, find
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import DataSource

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Data", "Sources and quality", "/data/sources", "records.read", 10))
add(NavItem("Data", "Upload a file", "/data/upload", "data.ingest", 20))
add(NavItem("Data", "Browse data", "/data/browse", "records.read", 30))

PERIODS = (7, 30, 90, 365)
PAGE = 50
# Shown in a form field instead of the invisible group separator; the GS1 parser reads it back.
GS_SHOWN = "<GS>"


@router.get("/data/sources", response_class=HTMLResponse)
def source_list(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the data sources")
    with transaction(request) as session:
        return render(
            request,
            "data/sources.html",
            {
                "rows": service.all_sources(session),
                "kinds": sorted(ingest.CONNECTORS),
                "can_manage": actor.can("data.manage"),
            },
        )


@router.post("/data/sources")
def register_source(
    request: Request,
    actor: ActorDep,
    code: Annotated[str, Form(max_length=60)],
    name: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=20)],
    mapping: Annotated[str, Form(max_length=64 * 1024)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        source = sources.register(
            session, actor=actor, code=code, name=name, kind=kind, mapping=mapping.strip() or "{}"
        )
        target = f"/data/sources/{quote(source.code)}"
    return redirect(target, f"Source {code} registered.")


@router.get("/data/sources/{code}", response_class=HTMLResponse)
def source_page(request: Request, actor: ActorDep, code: str, days: int = 30) -> HTMLResponse:
    actor.require("records.read", "read the data sources")
    if days not in PERIODS:
        days = 30
    # Up to and including this second: the period's end is exclusive.
    end = clock.now() + timedelta(seconds=1)
    with transaction(request) as session:
        overview = service.source_overview(session, code, end - timedelta(days=days), end)
        return render(
            request,
            "data/source.html",
            {
                "o": overview,
                "f": overview.figures,
                "days": days,
                "periods": PERIODS,
                "can_fix": actor.can("data.ingest"),
            },
        )


@router.get("/data/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, actor: ActorDep, run_id: int) -> HTMLResponse:
    actor.require("records.read", "read import runs")
    with transaction(request) as session:
        return render(request, "data/run.html", {"d": service.run_detail(session, run_id)})


def _shown(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.replace("\x1d", GS_SHOWN)


@router.get("/data/quarantine/{row_id}", response_class=HTMLResponse)
def quarantine_row(request: Request, actor: ActorDep, row_id: int) -> HTMLResponse:
    actor.require("records.read", "read the quarantine")
    with transaction(request) as session:
        held = service.held_row(session, row_id)
        raw = held.row.raw if isinstance(held.row.raw, dict) else {}
        fields = [(name, _shown(raw.get(name))) for name in held.fields]
        return render(
            request,
            "data/quarantine_row.html",
            {
                "h": held,
                "fields": fields,
                "problem_fields": {r["field"] for r in held.row.reasons},
                "can_fix": actor.can("data.ingest") and held.row.status == "open",
            },
        )


def _replay(
    request: Request, actor: Actor, row_id: int, values: dict[str, str], reason: str
) -> str:
    with transaction(request, write=True) as session:
        run = ingest.replay(session, actor=actor, row_id=row_id, corrected=values, reason=reason)
        session.flush()
        return run.number


@router.post("/data/quarantine/{row_id}/replay")
async def replay(request: Request, actor: ActorDep, row_id: int) -> RedirectResponse:
    form = await request.form(max_fields=400)
    values = {
        key[2:]: str(value)
        for key, value in form.multi_items()
        if key.startswith("f:") and isinstance(value, str) and value != ""
    }
    reason = str(form.get("reason") or "")[:1000]
    back = f"/data/quarantine/{row_id}"
    number = await run_in_threadpool(_replay, request, actor, row_id, values, reason)
    return redirect(back, f"Corrected and replayed as {number}.")


@router.post("/data/quarantine/{row_id}/discard")
def discard(
    request: Request,
    actor: ActorDep,
    row_id: int,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        ingest.discard(session, actor=actor, row_id=row_id, reason=reason)
    return redirect(f"/data/quarantine/{row_id}", "Discarded; the row is kept with your reason.")


@router.get("/data/upload", response_class=HTMLResponse)
def upload_form(request: Request, actor: ActorDep, kind: str = "") -> HTMLResponse:
    actor.require("data.ingest", "deliver data")
    with transaction(request) as session:
        registered = list(session.scalars(select(DataSource).order_by(DataSource.code)))
        return render(
            request,
            "data/upload.html",
            {"kinds": sorted(ingest.CONNECTORS), "kind": kind, "sources": registered},
        )


def _upload(
    request: Request, actor: Actor, kind: str, source_code: str | None, name: str, data: bytes
) -> tuple[int, str, str, str | None]:
    with transaction(request, write=True) as session:
        run = ingest.ingest(
            session, actor=actor, kind=kind, content=data, filename=name, source_code=source_code
        )
        session.flush()
        return run.id, run.number, run.status, run.refused_reason


@router.post("/data/upload")
async def upload(
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=20)],
    file: Annotated[UploadFile, File()],
    source_code: Annotated[str, Form(max_length=60)] = "",
) -> RedirectResponse:
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{file.filename} is larger than {limit:,} bytes", field="file")
    run_id, number, status, reason = await run_in_threadpool(
        _upload, request, actor, kind, source_code or None, file.filename or "upload", data
    )
    if status == "refused":
        return redirect(
            f"/data/runs/{run_id}", f"{number}: the file was refused: {reason}", "error"
        )
    return redirect(f"/data/runs/{run_id}", f"{number}: the file was taken.")


@router.get("/data/browse", response_class=HTMLResponse)
def browse_index(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "browse platform data")
    listed = sorted(ENTITIES.values(), key=lambda e: e.title)
    return render(request, "data/browse_index.html", {"entities": listed})


@router.get("/data/browse/{name}", response_class=HTMLResponse)
def browse(request: Request, actor: ActorDep, name: str, offset: int = 0) -> HTMLResponse:
    entity = entity_named(name)
    actor.require(entity.permission, f"read {entity.title.lower()}")
    filters = {
        f.name: request.query_params[f.name][:200]
        for f in entity.filters
        if request.query_params.get(f.name)
    }
    offset = max(offset, 0)
    with transaction(request) as session:
        rows = find(session, entity, filters, limit=PAGE, offset=offset)
        total = count(session, entity, filters)
    export_query = "&".join(f"{quote(k)}={quote(v)}" for k, v in filters.items())
    return render(
        request,
        "data/browse.html",
        {
            "entity": entity,
            "rows": rows,
            "total": total,
            "limit": PAGE,
            "offset": offset,
            "filters": filters,
            "export_query": export_query,
            "can_export": actor.can("data.export"),
        },
    )
