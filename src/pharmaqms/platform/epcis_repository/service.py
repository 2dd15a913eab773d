"""The EPCIS repository's verbs: query the events, keep and run named queries, export a lot's
events to a trading partner. Named queries are audited records; running one and exporting are
audit events (who asked for which events, when)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.epcis_repository import query as q
from pharmaqms.platform.epcis_repository.document import (
    capture_document,
    query_document,
    stored_event,
)
from pharmaqms.platform.epcis_repository.models import EpcisNamedQuery
from pharmaqms.platform.genealogy.identifiers import Subject, resolve
from pharmaqms.platform.genealogy.scope import forward
from pharmaqms.platform.traceability.models import EpcisEvent

QUERY_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    document: dict[str, Any]
    """The ``EPCISQueryDocument``."""
    next_page_token: str | None


def query_events(
    session: Session, params: Iterable[tuple[str, str]], *, query_name: str = "SimpleEventQuery"
) -> QueryAnswer:
    """One page of the events matching the SimpleEventQuery ``params``."""
    pairs = list(params)
    query = q.parse_query(pairs)
    tokens = [v for k, v in pairs if k == "nextPageToken"]
    if len(tokens) > 1:
        raise q.QueryParameterException("nextPageToken given twice", field="nextPageToken")
    after = q.read_token(tokens[0], query) if tokens else None
    page = q.run(session, query, after)
    events = [stored_event(document, record_time) for _id, document, record_time, _k in page.rows]
    token = q.page_token(page.last, query) if page.last is not None else None
    return QueryAnswer(query_document(events, clock.now(), query_name), token)


# --- named queries ---------------------------------------------------------------------------


def parameter_pairs(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in parameters.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if not isinstance(item, str | int):
                raise q.QueryParameterException(
                    f"{name}: a value must be text or a list of texts", field=name
                )
            pairs.append((name, str(item)))
    return pairs


def create_named_query(
    session: Session,
    *,
    actor: Actor,
    name: str,
    parameters: Mapping[str, Any],
    description: str = "",
) -> EpcisNamedQuery:
    """Store a query under a name, its parameters checked now (as ``GET …/events`` would)."""
    actor.require("epcis.queries", "keep EPCIS queries")
    if not QUERY_NAME.match(name):
        raise InvalidInput(
            "a query name is 1-80 letters, digits, '_', '.' or '-', starting with a letter "
            "or digit",
            field="name",
        )
    pairs = parameter_pairs(parameters)
    paging = [k for k, _ in pairs if k in q.PAGING]
    if paging:
        raise q.QueryParameterException(
            f"{paging[0]} is given when the query is run, not stored", field=paging[0]
        )
    checked = q.parse_query(pairs)
    if session.scalar(select(EpcisNamedQuery.id).where(EpcisNamedQuery.name == name)):
        raise Conflict(f"an EPCIS query named {name!r} exists already", field="name")
    record = EpcisNamedQuery(
        name=name,
        description=description.strip(),
        parameters={k: list(v) for k, v in checked.given.items()},
        created_at=clock.now(),
        created_by_id=actor.user_id,
        retired=False,
    )
    with audit.changes(session, actor=actor, reason=f"EPCIS query {name} kept", action="create"):
        session.add(record)
    return record


def named_queries(session: Session) -> list[EpcisNamedQuery]:
    return list(
        session.scalars(
            select(EpcisNamedQuery)
            .where(EpcisNamedQuery.retired.is_(False))
            .order_by(EpcisNamedQuery.name)
        )
    )


def run_named_query(
    session: Session, *, actor: Actor, name: str, paging: Sequence[tuple[str, str]] = ()
) -> QueryAnswer:
    """Run a stored query (a page at a time); the run is recorded in the audit trail."""
    record = session.scalars(
        select(EpcisNamedQuery).where(
            EpcisNamedQuery.name == name, EpcisNamedQuery.retired.is_(False)
        )
    ).one_or_none()
    if record is None:
        raise NotFound(f"no EPCIS query named {name!r}")
    extra = [k for k, _ in paging if k not in q.PAGING]
    if extra:
        raise q.QueryParameterException(
            f"{extra[0]} can't be added to the stored query {name}; only perPage and nextPageToken",
            field=extra[0],
        )
    answer = query_events(
        session, [*parameter_pairs(record.parameters), *paging], query_name=record.name
    )
    events = answer.document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    audit.record_event(
        session,
        actor=actor,
        action="run",
        record=record,
        details={"events": len(events), "paging": dict(paging)},
    )
    return answer


# --- export of a lot -------------------------------------------------------------------------


def export_lot(session: Session, *, actor: Actor, identifier: str) -> dict[str, Any]:
    """Every event of a lot's forward trace (commissioning, packing, shipping, receiving,
    dispensing of its packs and the containers carrying them) as one ``EPCISDocument``, in
    capture order, for a trading partner; the export is recorded in the audit trail."""
    actor.require("data.export", "export a lot's EPCIS events")
    subject = resolve(session, identifier)
    if subject.subject is not Subject.LOT:
        raise InvalidInput(
            f"{identifier!r} is no lot (name it as ITEM/LOT or its GTIN and lot)",
            field="identifier",
        )
    cache, scopes = forward(session, [subject.canonical], None)
    row_of = {id(stored.event): stored.row_id for stored in cache.events.values()}
    row_ids = sorted({row_of[id(e)] for scope in scopes for e in scope.events})
    rows = session.execute(
        select(EpcisEvent.id, EpcisEvent.document, EpcisEvent.record_time)
        .where(EpcisEvent.id.in_(row_ids))
        .order_by(EpcisEvent.id)
    ).all()
    events = [stored_event(r.document, r.record_time) for r in rows]
    audit.record_event(
        session,
        actor=actor,
        action="export",
        record_type="lot",
        record_id=subject.lot_id,
        record_label=subject.label or subject.canonical,
        details={"format": "EPCIS 2.0 JSON-LD", "events": len(events)},
    )
    return capture_document(events, clock.now())
