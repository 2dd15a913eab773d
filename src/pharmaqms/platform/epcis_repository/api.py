"""EPCIS 2.0 query interface (the standard's REST bindings) and the lot export: thin — check
the caller, ask the service, answer JSON-LD with the standard's headers."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.openapi import problems
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import JUDGES_OWN_QUERY, RecordId
from pharmaqms.platform.epcis_repository import service, subscriptions
from pharmaqms.platform.epcis_repository.models import (
    EpcisNamedQuery,
    EpcisSubscription,
)
from pharmaqms.platform.epcis_repository.query import FILTERS, PAGING

router = APIRouter(prefix="/api/v1/epcis", tags=["epcis"])
JSON_LD: Final = "application/ld+json"
HEADERS: Final = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}


def _query_parameters(names: tuple[str, ...]) -> dict[str, Any]:
    """The standard's query parameters, read by the query itself: documented here, and judged
    by the query (an unknown one is the standard's 400 QueryParameterException, not a 422)."""
    return {
        JUDGES_OWN_QUERY: True,
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in names
        ],
    }


# The OpenAPI document says these routes answer JSON-LD (the standard's media type), not JSON.
JSON_LD_ANSWER: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "An EPCIS 2.0 document (JSON-LD).",
        "content": {JSON_LD: {"schema": {"type": "object"}}},
    }
}


def _answer(request: Request, answer: service.QueryAnswer) -> JSONResponse:
    headers = dict(HEADERS)
    if answer.next_page_token is not None:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        query = urlencode([*kept, ("nextPageToken", answer.next_page_token)])
        headers["Link"] = f'<{request.url.replace(query=query)}>; rel="next"'
    return JSONResponse(answer.document, media_type=JSON_LD, headers=headers)


@router.get(
    "/events",
    responses={**JSON_LD_ANSWER, **problems(400, 422)},
    openapi_extra=_query_parameters(FILTERS + PAGING),
)
def query_events(request: Request, actor: ActorDep) -> JSONResponse:
    """EPCIS 2.0 SimpleEventQuery: eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action,
    EQ_bizStep, EQ_disposition, EQ_bizLocation, EQ_readPoint, MATCH_epc, MATCH_anyEPC,
    MATCH_parentID, MATCH_epcClass; perPage and nextPageToken. An unknown parameter is a 400
    QueryParameterException."""
    actor.require("records.read", "query EPCIS events")
    with transaction(request, write=False) as session:
        answer = service.query_events(session, request.query_params.multi_items())
    return _answer(request, answer)


class NamedQueryIn(BaseModel):
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=2000)
    query: dict[str, Any] = Field(description="SimpleEventQuery parameters: name → value(s)")


def _named(record: EpcisNamedQuery) -> dict[str, Any]:
    out: dict[str, Any] = plain(
        {
            "name": record.name,
            "description": record.description,
            "query": record.parameters,
            "created_at": record.created_at,
        }
    )
    return out


@router.post("/queries", status_code=201)
def create_query(body: NamedQueryIn, request: Request, actor: ActorDep) -> JSONResponse:
    """Keep a named query (its parameters checked now)."""
    with transaction(request) as session:
        record = service.create_named_query(
            session,
            actor=actor,
            name=body.name,
            parameters=body.query,
            description=body.description,
        )
        out = _named(record)
    return JSONResponse(out, status_code=201, headers=HEADERS)


@router.get("/queries")
def list_queries(request: Request, actor: ActorDep) -> JSONResponse:
    actor.require("records.read", "list EPCIS queries")
    with transaction(request, write=False) as session:
        out = [_named(r) for r in service.named_queries(session)]
    return JSONResponse(out, headers=HEADERS)


@router.get(
    "/queries/{name}/events",
    responses={**JSON_LD_ANSWER, **problems(400, 422)},
    openapi_extra=_query_parameters(PAGING),
)
def run_query(name: str, request: Request, actor: ActorDep) -> JSONResponse:
    """Run a named query; only perPage and nextPageToken may be added. Audited."""
    actor.require("records.read", "run EPCIS queries")
    paging = [(k, v) for k, v in request.query_params.multi_items()]
    with transaction(request, write=True) as session:
        answer = service.run_named_query(session, actor=actor, name=name, paging=paging)
    return _answer(request, answer)


@router.get("/export/lots/{identifier:path}", responses=JSON_LD_ANSWER)
def export_lot(identifier: str, request: Request, actor: ActorDep) -> JSONResponse:
    """A lot's events (its forward trace) as one EPCIS 2.0 document for a trading partner."""
    with transaction(request, write=True) as session:
        document = service.export_lot(session, actor=actor, identifier=identifier)
    return JSONResponse(document, media_type=JSON_LD, headers=HEADERS)


# --- subscriptions ---------------------------------------------------------------------------


class SubscriptionIn(BaseModel):
    """The standard's subscription body (REST bindings), webhook form: new matching events are
    sent to ``dest`` as they are captured."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    dest: str = Field(max_length=2000, description="https URL (http only to localhost)")
    report_if_empty: bool = Field(default=False, alias="reportIfEmpty")
    signature_token: str | None = Field(
        default=None,
        alias="signatureToken",
        max_length=subscriptions.MAX_SECRET,
        description="The shared secret of the HMAC-SHA256 signature; drawn for you if absent",
    )


def _subscription(record: EpcisSubscription, name: str, given_up: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = plain(
        {
            "subscriptionID": str(record.id),
            "queryName": name,
            "dest": record.dest,
            "reportIfEmpty": record.report_if_empty,
            "active": record.active,
            "createdAt": record.created_at,
            "deactivatedAt": record.deactivated_at,
            "deactivatedReason": record.deactivated_reason,
            "deliveriesGivenUp": given_up,
        }
    )
    return out


@router.post("/queries/{name}/subscriptions", status_code=201, responses=problems(404, 422))
def subscribe(name: str, body: SubscriptionIn, request: Request, actor: ActorDep) -> JSONResponse:
    """Subscribe a webhook to a named query. The answer shows the shared secret
    (``signatureToken``) this once; every delivery is signed with it."""
    with transaction(request) as session:
        record = subscriptions.subscribe(
            session,
            actor=actor,
            query_name=name,
            dest=body.dest,
            report_if_empty=body.report_if_empty,
            secret=body.signature_token,
        )
        session.flush()
        out = {**_subscription(record, name), "signatureToken": record.secret}
    return JSONResponse(out, status_code=201, headers=HEADERS)


@router.get("/queries/{name}/subscriptions", responses=problems(404))
def list_subscriptions(name: str, request: Request, actor: ActorDep) -> JSONResponse:
    """The subscriptions to a named query, ended ones included, each with the number of
    deliveries given up after every retry failed."""
    actor.require("records.read", "list EPCIS subscriptions")
    with transaction(request, write=False) as session:
        records = subscriptions.subscriptions_of(session, name)
        given_up = subscriptions.given_up_counts(session, [r.id for r in records])
        out = [_subscription(r, name, given_up.get(r.id, 0)) for r in records]
    return JSONResponse(out, headers=HEADERS)


@router.delete("/queries/{name}/subscriptions/{subscription_id}", responses=problems(404, 409, 422))
def end_subscription(
    name: str,
    subscription_id: RecordId,
    reason: Annotated[str, Query(min_length=1, max_length=2000)],
    request: Request,
    actor: ActorDep,
) -> JSONResponse:
    """End a subscription (the standard's unsubscribe): kept, inactive, with the reason."""
    with transaction(request) as session:
        record = subscriptions.deactivate(
            session,
            actor=actor,
            query_name=name,
            subscription_id=subscription_id,
            reason=reason,
        )
        out = _subscription(record, name)
    return JSONResponse(out, headers=HEADERS)
