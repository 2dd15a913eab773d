"""Genealogy and trace endpoints: thin — resolve, ask the service, answer JSON.

Identifiers go in the path as written (``ITEM/LOT``, a Digital Link or an EPC URI may contain
slashes and colons; percent-encode ``?`` and ``#``). A malformed GS1 identifier is a 422 whose
``code`` names the GS1 rule; an unknown one a 404."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.platform.genealogy.graph import Direction
from pharmaqms.platform.genealogy.schemas import GenealogyOut, RecallScopeOut
from pharmaqms.platform.genealogy.service import genealogy, recall_scope

router = APIRouter(prefix="/api/v1/data", tags=["genealogy"])
At = Annotated[
    datetime | None,
    Query(description="As it stood at this time (ISO 8601 with offset); default: now."),
]


class TraceFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


Format = Annotated[
    TraceFormat,
    Query(description="json (the whole answer), or csv / parquet: one row per entity."),
]

# The trace as a file: one row per entity.
TABLE_FILES = file_responses("text/csv; charset=utf-8", "application/vnd.apache.parquet")


def _json(value: dict[str, Any]) -> JSONResponse:
    return JSONResponse(plain(value))


def _table(
    rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: TraceFormat, name: str
) -> Response:
    """The answer as a file to open in a spreadsheet or load for analysis."""
    filename = f"{name}.{fmt.value}"
    if fmt is TraceFormat.CSV:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: plain(v) if v is not None else "" for k, v in r.items()} for r in rows)
        return download(text.getvalue(), filename=filename, media_type="text/csv; charset=utf-8")
    schema = pa.schema(
        [(c, pa.timestamp("us", tz="UTC") if c == "time" else pa.string()) for c in columns]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    out = io.BytesIO()
    pq.write_table(table, out)
    return download(out.getvalue(), filename=filename, media_type="application/vnd.apache.parquet")


def _safe_name(identifier: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", identifier).strip("_")[:80] or "trace"


@router.get(
    "/genealogy/{identifier:path}",
    response_model=GenealogyOut,
    responses=TABLE_FILES,
)
def get_genealogy(
    identifier: str,
    actor: ActorDep,
    request: Request,
    direction: Direction = Direction.BOTH,
    at: At = None,
    format: Format = TraceFormat.JSON,
) -> Response:
    """The linked entities of a lot, pack, SSCC or EPC URI as a graph (nodes and edges), with
    the recall scope when the direction includes ``down``; as CSV or Parquet, its nodes."""
    actor.require("records.read", "read genealogy")
    with transaction(request, write=False) as session:
        graph = genealogy(session, identifier, direction, at)
    if format is TraceFormat.JSON:
        return _json(graph.as_dict())
    return _table(graph.rows(), graph.ROW_COLUMNS, format, f"genealogy-{_safe_name(identifier)}")


@router.get(
    "/trace/{identifier:path}/recall-scope",
    response_model=RecallScopeOut,
    responses=TABLE_FILES,
)
def get_recall_scope(
    identifier: str,
    actor: ActorDep,
    request: Request,
    at: At = None,
    format: Format = TraceFormat.JSON,
) -> Response:
    """Forward trace: every lot, pack, container, shipment, location and customer reached; as
    CSV or Parquet, one row each (the recall list)."""
    actor.require("records.read", "read genealogy")
    with transaction(request, write=False) as session:
        scope = recall_scope(session, identifier, at)
    if format is TraceFormat.JSON:
        return _json(scope.as_dict())
    return _table(scope.rows(), scope.ROW_COLUMNS, format, f"recall-scope-{_safe_name(identifier)}")
