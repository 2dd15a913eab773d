"""Data services API under ``/api/v1/data``: thin — parse, call the service, shape the answer.

* ``GET /data/{entity}`` for every declared entity (products … quarantine): filters as query
  parameters, ``limit``/``offset``/``order`` for paging, ``format=csv|parquet`` for an export of
  every matching row (recorded in the audit trail).
* ``POST /data/ingest/{kind}``: push one document as the raw request body, or one or more files
  as ``multipart/form-data``; bearer token of an integration service account (or a person with
  the right to deliver data). ``POST /data/loggers/upload``: data loggers' files after a trip,
  the same pipeline with kind ``sensors``. A document refused as a whole answers 422 with the
  reason — and the refused delivery is on record as an import run. With several files, 422
  only when every one is refused; otherwise 200 with each file's run (refused ones included).
* The quarantine: one row, replay with corrected values, discard with a reason.
* Sources: register one with its mapping; a source's data-quality figures over a period.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import DocumentRefused, InvalidInput, QMSError
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import content_disposition, file_responses
from pharmaqms.kernel.http.openapi import problems
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import JUDGES_OWN_QUERY, Offset, RecordId
from pharmaqms.kernel.http.problems import problem_response
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.schemas import Page
from pharmaqms.kernel.settings import get_settings
from pharmaqms.platform.data import entities as _entities  # noqa: F401 - declares the entities
from pharmaqms.platform.data import quality, service, sources
from pharmaqms.platform.data.export import MEDIA_TYPES, ExportFormat, export
from pharmaqms.platform.data.query import ENTITIES, Entity, count, describe, find
from pharmaqms.platform.data.schemas import (
    Discard,
    QuarantinedOut,
    Relinked,
    Replay,
    RunList,
    RunSummary,
    SourceCreate,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import DataSource
from pharmaqms.platform.traceability.adverse_event_lots import relink_adverse_event_lots

router = APIRouter(prefix="/api/v1/data", tags=["data"])
PAGING = frozenset({"limit", "offset", "order", "format"})
MAX_FILES = 100
# A raw body's file name, read by the handler itself (or the X-Filename header).
FILENAME = {
    "name": "filename",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The delivered file's name (a raw body; or the X-Filename header).",
}


class PayloadTooLarge(QMSError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


# --- entities --------------------------------------------------------------------------------


@router.get("/entities")
def list_entities(actor: ActorDep) -> list[dict[str, Any]]:
    """Every entity the data services serve, with its columns and filters."""
    actor.require("records.read", "read platform data")
    return [describe(ENTITIES[name]) for name in sorted(ENTITIES)]


def _export_response(
    request: Request, actor: Actor, entity: Entity, filters: dict[str, str], fmt: ExportFormat
) -> Response:
    handle, name = tempfile.mkstemp(prefix="pqms-export-", suffix=f".{fmt.value}")
    os.close(handle)
    path = Path(name)
    try:
        with transaction(request, write=True) as session:
            export(session, actor=actor, entity=entity, filters=filters, fmt=fmt, out=path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": content_disposition(f"{entity.name}-{stamp}.{fmt.value}")},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _listing(entity: Entity) -> Callable[..., Response]:
    def handler(
        request: Request,
        actor: ActorDep,
        limit: int = Query(50, ge=1, le=1000),
        offset: Offset = 0,
        order: str | None = Query(None, max_length=80),
        format: str | None = Query(None, pattern="^(json|csv|parquet)$"),
    ) -> Response:
        actor.require(entity.permission, f"read {entity.title.lower()}")
        filters = {k: v for k, v in request.query_params.items() if k not in PAGING}
        if format in ("csv", "parquet"):
            return _export_response(request, actor, entity, filters, ExportFormat(format))
        with transaction(request) as session:
            items = find(session, entity, filters, limit=limit, offset=offset, order=order)
            total = count(session, entity, filters)
        return JSONResponse(
            jsonable_encoder({"items": items, "total": total, "limit": limit, "offset": offset})
        )

    handler.__name__ = f"list_{entity.name.replace('-', '_')}"
    handler.__doc__ = (
        f"{entity.title}. {entity.description} Filters: "
        f"{', '.join(f.name for f in entity.filters) or 'none'}."
    )
    return handler


for _entity in ENTITIES.values():
    router.add_api_route(
        f"/{_entity.name}",
        _listing(_entity),
        methods=["GET"],
        response_model=Page[dict[str, Any]],
        responses=file_responses(*MEDIA_TYPES.values()),
        # The filters the handler reads itself: documented, and so taken (kernel/http/params).
        openapi_extra={
            JUDGES_OWN_QUERY: True,  # "lots has no filter colour; its filters: …"
            "parameters": [
                {
                    "name": f.name,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": f.help,
                }
                for f in _entity.filters
            ],
        },
    )


# --- deliveries --------------------------------------------------------------------------------


async def _documents(request: Request) -> list[tuple[str, bytes]]:
    """The delivered documents, each read with a bound: a raw body, or the form's files."""
    limit = get_settings().max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit * MAX_FILES:
        raise PayloadTooLarge(f"the request is {int(declared):,} bytes; too large")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_FILES, max_fields=20)
        files = [v for _k, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise InvalidInput("the form holds no file", field="file")
        found = []
        for upload in files:
            data = await upload.read(limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge(f"{upload.filename}: larger than {limit:,} bytes")
            found.append((upload.filename or "upload", data))
        return found
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"the document is larger than {limit:,} bytes")
    name = request.query_params.get("filename") or request.headers.get("x-filename") or ""
    return [(name[:300], bytes(body))]


def _deliver(
    request: Request,
    actor: Actor,
    kind: str,
    source_code: str | None,
    docs: list[tuple[str, bytes]],
) -> list[RunSummary]:
    with transaction(request, write=True) as session:
        summaries = []
        for filename, content in docs:
            run = ingest.ingest(
                session,
                actor=actor,
                kind=kind,
                content=content,
                filename=filename,
                source_code=source_code,
            )
            session.flush()
            source = session.get(DataSource, run.source_id)
            assert source is not None
            summaries.append(RunSummary.of(run, source.code))
    return summaries


def _delivered(summaries: list[RunSummary], request: Request, *, listed: bool) -> Response:
    """The answer to a delivery. Every document refused: 422 problem+json with each file's
    reason (the refused runs are committed above, so the refusals are on record). At least one
    document taken: 200 with each file's run — refused ones among them with their reason.
    ``listed``: answer a list of runs even for one file (the logger upload)."""
    if all(run.status == "refused" for run in summaries):
        if len(summaries) == 1:
            detail = summaries[0].refused_reason or "refused"
        else:
            detail = "every file was refused: " + "; ".join(
                f"{run.filename or run.number}: {run.refused_reason}" for run in summaries
            )
        body = DocumentRefused(detail).problem()
        body.update(instance=request.url.path, runs=jsonable_encoder(summaries))
        if len(summaries) == 1:
            body["import_run"] = summaries[0].number
        return problem_response(body, 422)
    if len(summaries) == 1 and not listed:
        return JSONResponse(jsonable_encoder(summaries[0]))
    return JSONResponse(jsonable_encoder(RunList(runs=summaries)))


@router.post(
    "/ingest/{kind}",
    response_model=RunSummary,
    responses=problems(413),
    openapi_extra={"parameters": [FILENAME]},
)
async def push(
    kind: str,
    request: Request,
    actor: ActorDep,
    source_code: str | None = Query(None, max_length=60),
) -> Response:
    """Deliver a document (raw body) or files (multipart) of a kind: lims, mes, epcis, faers,
    sensors, gs1. One file answers its run's summary; several, a list of them."""
    ingest.connector_for(kind)
    actor.require("data.ingest", "deliver data")
    docs = await _documents(request)
    summaries = await run_in_threadpool(_deliver, request, actor, kind, source_code, docs)
    return _delivered(summaries, request, listed=False)


@router.post(
    "/loggers/upload",
    response_model=RunList,
    responses=problems(413),
    openapi_extra={"parameters": [FILENAME]},
)
async def logger_upload(
    request: Request, actor: ActorDep, source_code: str | None = Query(None, max_length=60)
) -> Response:
    """Data loggers upload their files after a trip (multipart, one file per logger). 200 with
    each file's run when at least one was taken; 422 problem+json when every file is refused."""
    actor.require("data.ingest", "deliver data")
    docs = await _documents(request)
    summaries = await run_in_threadpool(_deliver, request, actor, "sensors", source_code, docs)
    return _delivered(summaries, request, listed=True)


# --- quarantine --------------------------------------------------------------------------------


def _held_out(held: service.HeldRow) -> QuarantinedOut:
    row = held.row
    return QuarantinedOut(
        id=row.id,
        source=held.source.code,
        import_run=held.run.number,
        entity=row.entity,
        position=row.position,
        status=row.status,
        raw=row.raw,
        reasons=row.reasons,
        corrected=row.corrected,
        fields=held.fields,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        replay_run=held.replay_run.number if held.replay_run else None,
    )


@router.get("/quarantine/{row_id}", response_model=QuarantinedOut)
def quarantined_row(row_id: RecordId, request: Request, actor: ActorDep) -> QuarantinedOut:
    actor.require("records.read", "read the quarantine")
    with transaction(request) as session:
        return _held_out(service.held_row(session, row_id))


@router.post("/quarantine/{row_id}/replay", response_model=RunSummary)
def replay(row_id: RecordId, body: Replay, request: Request, actor: ActorDep) -> RunSummary:
    """Correct a quarantined row and replay it through the same governance. A correction that
    still fails changes nothing and answers 422 with the remaining problems."""
    with transaction(request) as session:
        run = ingest.replay(
            session, actor=actor, row_id=row_id, corrected=body.values, reason=body.reason
        )
        session.flush()
        source = session.get(DataSource, run.source_id)
        assert source is not None
        return RunSummary.of(run, source.code)


@router.post("/quarantine/{row_id}/discard", response_model=QuarantinedOut)
def discard(row_id: RecordId, body: Discard, request: Request, actor: ActorDep) -> QuarantinedOut:
    with transaction(request) as session:
        ingest.discard(session, actor=actor, row_id=row_id, reason=body.reason)
        return _held_out(service.held_row(session, row_id))


# --- sources -----------------------------------------------------------------------------------


@router.post("/sources", status_code=201)
def register_source(body: SourceCreate, request: Request, actor: ActorDep) -> dict[str, Any]:
    with transaction(request) as session:
        source = sources.register(
            session,
            actor=actor,
            code=body.code,
            name=body.name,
            kind=body.kind,
            mapping=body.mapping,
        )
        return {
            "id": source.id,
            "code": source.code,
            "kind": source.kind,
            "mapping": source.mapping,
        }


@router.get("/sources/{code}/quality")
def source_quality(
    code: str,
    request: Request,
    actor: ActorDep,
    start: datetime | None = Query(None, alias="from"),
    end: datetime | None = Query(None, alias="to"),
) -> dict[str, Any]:
    """Completeness, validity, timeliness and rejected rows of a source's deliveries received
    from ``from`` (inclusive, default 30 days ago) to ``to`` (exclusive, default now)."""
    actor.require("records.read", "read data-quality figures")
    end = _aware(end) or clock.now() + timedelta(seconds=1)  # "now" included
    start = _aware(start) or end - timedelta(days=30)
    if start >= end:
        raise InvalidInput("'from' must be before 'to'", field="from")
    with transaction(request) as session:
        found = quality.figures(session, ingest.get_source(session, code), start, end)
    return dict(jsonable_encoder(found.as_dict()))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get("/import-runs/{run_id}")
def import_run(run_id: RecordId, request: Request, actor: ActorDep) -> dict[str, Any]:
    """One delivery: its summary, its quarantined rows and the corrections made to its values."""
    actor.require("records.read", "read import runs")
    with transaction(request) as session:
        detail = service.run_detail(session, run_id)
        return dict(
            jsonable_encoder(
                {
                    **RunSummary.of(detail.run, detail.source.code).model_dump(),
                    "content_sha256": detail.run.content_sha256,
                    "quarantined_rows": [
                        {
                            "id": q.id,
                            "position": q.position,
                            "status": q.status,
                            "reasons": q.reasons,
                        }
                        for q in detail.held
                    ],
                    "corrections": [
                        {
                            "entity": c.entity,
                            "entity_id": c.entity_id,
                            "field": c.field,
                            "original": c.original,
                            "corrected": c.corrected,
                            "rule": c.rule,
                        }
                        for c in detail.corrections
                    ],
                }
            )
        )


@router.post("/adverse-event-lots/relink", response_model=Relinked)
def relink(request: Request, actor: ActorDep) -> Relinked:
    """Link reports whose batch number matched no lot yet, now that lots may be known."""
    with transaction(request) as session:
        return Relinked(linked=relink_adverse_event_lots(session, actor=actor))
