"""The EPCIS 2.0 SimpleEventQuery over the captured events: its parameters, checked, and the
indexed SQL that answers them, a page at a time.

Parameters follow the standard's REST bindings (EPCIS 2.0 §12, openapi.yaml): a list value may
be given comma-separated or by repeating the parameter. An unknown parameter, or a value of the
wrong form, is a ``QueryParameterException`` (HTTP 400), as the standard says — never a silent
"no filter". Identifiers are compared in canonical GS1 form, so an EPC URN matches a Digital
Link of the same object; ``urn:epc:idpat:sgtin:CP.IR.*`` (every serial of one product) is the
one pattern accepted. Vocabulary may be a bare CBV word, its web URI or its URN. An error
declaration is stored as its own row, returned by the other filters, but not found by the
``MATCH_`` parameters (the identifier index leaves declarations out, as the traces do).

Paging: results come in capture order (the repository's record order); ``nextPageToken`` is the
last row seen with a digest of the query's filters, so a token is refused with another query (it
is no secret: anyone who may query may read every page anyway)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import QMSError
from pharmaqms.platform.epcis import EventType
from pharmaqms.platform.gs1 import GS1Error
from pharmaqms.platform.trace import canonical
from pharmaqms.platform.traceability.models import EpcisEvent, EpcisEventObject

DEFAULT_PER_PAGE: Final = 30
MAX_PER_PAGE: Final = 1000
# The roles (epcis_event_objects.role) each identifier parameter looks at (EPCIS 2.0 §8.2.7.1).
EPC_ROLES: Final = ("epc", "child", "input", "output")
ANY_EPC_ROLES: Final = (*EPC_ROLES, "parent")
CLASS_ROLES: Final = ("quantity", "input_quantity", "output_quantity")
_VOCABULARY_PREFIXES: Final = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
}


class QueryParameterException(QMSError):
    """EPCIS 2.0 ``QueryParameterException``: a parameter the query does not know, or a value it
    can't take (HTTP 400 per the REST bindings)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "query_parameter_exception"
    title: ClassVar[str] = "QueryParameterException"

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["type"] = "epcisException:QueryParameterException"
        return body


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A checked SimpleEventQuery (every field optional; lists mean "any of")."""

    event_types: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    match_epc: tuple[str, ...] = ()
    match_any_epc: tuple[str, ...] = ()
    match_parent_id: tuple[str, ...] = ()
    match_epc_class: tuple[str, ...] = ()
    per_page: int = DEFAULT_PER_PAGE
    given: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The filter parameters as given (paging left out): what a named query stores."""


def _values(raw: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in raw:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def _time(name: str, raw: Sequence[str]) -> datetime:
    values = _values(raw)
    if len(values) != 1:
        raise QueryParameterException(f"{name} takes one time", field=name)
    try:
        moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError:
        raise QueryParameterException(
            f"{name}={values[0]!r} is not an ISO 8601 time", field=name
        ) from None
    if moment.tzinfo is None:
        raise QueryParameterException(
            f"{name}={values[0]!r} needs a UTC offset (e.g. 2026-03-01T12:00:00Z)", field=name
        )
    return moment


def _vocabulary(name: str, raw: Sequence[str]) -> tuple[str, ...]:
    words: list[str] = []
    for value in _values(raw):
        for prefix in _VOCABULARY_PREFIXES[name]:
            if value.startswith(prefix):
                value = value.removeprefix(prefix)
                break
        words.append(value)
    return tuple(words)


def _identifiers(raw: Sequence[str]) -> tuple[str, ...]:
    return tuple(canonical(v) for v in _values(raw))


def _patterns(name: str, raw: Sequence[str]) -> tuple[str, ...]:
    """Identifiers, canonical; an SGTIN pattern ``urn:epc:idpat:sgtin:CP.IR.*`` becomes the
    canonical prefix of every serial of that product, ending in ``*``."""
    out: list[str] = []
    for value in _values(raw):
        if value.startswith("urn:epc:idpat:"):
            head, _, last = value.rpartition(".")
            if not value.startswith("urn:epc:idpat:sgtin:") or last != "*" or "*" in head:
                raise QueryParameterException(
                    f"{name}: only urn:epc:idpat:sgtin:CompanyPrefix.ItemRef.* patterns are "
                    f"supported, not {value!r}",
                    field=name,
                )
            probe = head.replace("urn:epc:idpat:", "urn:epc:id:") + ".0"
            try:
                spelt = canonical(probe)
            except GS1Error:  # pragma: no cover - canonical() never raises
                spelt = probe
            if not spelt.endswith("/21/0"):
                raise QueryParameterException(f"{name}: {value!r} is no SGTIN pattern", field=name)
            out.append(spelt.removesuffix("0") + "*")
        else:
            out.append(canonical(value))
    return tuple(out)


def _per_page(raw: Sequence[str]) -> int:
    values = _values(raw)
    if len(values) != 1 or not values[0].isdecimal() or not 1 <= int(values[0]) <= MAX_PER_PAGE:
        raise QueryParameterException(
            f"perPage must be a whole number from 1 to {MAX_PER_PAGE}", field="perPage"
        )
    return int(values[0])


FILTERS: Final = (
    "eventType",
    "GE_eventTime",
    "LT_eventTime",
    "GE_recordTime",
    "LT_recordTime",
    "EQ_action",
    "EQ_bizStep",
    "EQ_disposition",
    "EQ_bizLocation",
    "EQ_readPoint",
    "MATCH_epc",
    "MATCH_anyEPC",
    "MATCH_parentID",
    "MATCH_epcClass",
)
PAGING: Final = ("perPage", "nextPageToken")


def parse_query(params: Iterable[tuple[str, str]]) -> EventQuery:
    """Check the parameters of a query (as (name, value) pairs, repeats allowed)."""
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name not in FILTERS and name not in PAGING:
            known = ", ".join(FILTERS + PAGING)
            raise QueryParameterException(
                f"unknown query parameter {name!r}; known: {known}", field=name
            )
        given.setdefault(name, []).append(value)
    types = _values(given.get("eventType", []))
    known_types = {t.value for t in EventType}
    for value in types:
        if value not in known_types:
            raise QueryParameterException(
                f"eventType {value!r} is none of {', '.join(sorted(known_types))}",
                field="eventType",
            )
    actions = tuple(a.upper() for a in _values(given.get("EQ_action", [])))
    for action in actions:
        if action not in ("ADD", "OBSERVE", "DELETE"):
            raise QueryParameterException(
                f"EQ_action {action!r} is none of ADD, OBSERVE, DELETE", field="EQ_action"
            )
    times = {
        name: _time(name, given[name])
        for name in ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime")
        if name in given
    }
    return EventQuery(
        event_types=types,
        ge_event_time=times.get("GE_eventTime"),
        lt_event_time=times.get("LT_eventTime"),
        ge_record_time=times.get("GE_recordTime"),
        lt_record_time=times.get("LT_recordTime"),
        actions=actions,
        biz_steps=_vocabulary("bizStep", given.get("EQ_bizStep", [])),
        dispositions=_vocabulary("disposition", given.get("EQ_disposition", [])),
        biz_locations=_identifiers(given.get("EQ_bizLocation", [])),
        read_points=_identifiers(given.get("EQ_readPoint", [])),
        match_epc=_patterns("MATCH_epc", given.get("MATCH_epc", [])),
        match_any_epc=_patterns("MATCH_anyEPC", given.get("MATCH_anyEPC", [])),
        match_parent_id=_patterns("MATCH_parentID", given.get("MATCH_parentID", [])),
        match_epc_class=_identifiers(given.get("MATCH_epcClass", [])),
        per_page=_per_page(given["perPage"]) if "perPage" in given else DEFAULT_PER_PAGE,
        given={k: _values(v) for k, v in given.items() if k in FILTERS},
    )


# --- paging tokens ---------------------------------------------------------------------------


def _digest(after: int, query: EventQuery) -> str:
    text = repr(sorted(query.given.items())) + f"|{after}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_token(after: int, query: EventQuery) -> str:
    raw = f"{after}.{_digest(after, query)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_token(token: str, query: EventQuery) -> int:
    """The last row id of the previous page; a token of another query, or edited, is refused."""
    try:
        padded = token + "=" * (-len(token) % 4)
        after_text, _, digest = base64.urlsafe_b64decode(padded).decode().partition(".")
        after = int(after_text)
    except (ValueError, UnicodeDecodeError):
        raise QueryParameterException(
            "nextPageToken is not a token this repository gave", field="nextPageToken"
        ) from None
    if digest != _digest(after, query):
        raise QueryParameterException(
            "nextPageToken belongs to another query or was altered", field="nextPageToken"
        )
    return after


# --- SQL -------------------------------------------------------------------------------------

_E = EpcisEvent.__table__
_O = EpcisEventObject.__table__


def _names(roles: Sequence[str], identifiers: Sequence[str]) -> Any:
    """Some object row of the event, in one of ``roles``, is one of ``identifiers``."""
    exact = [i for i in identifiers if not i.endswith("*")]
    prefixes = [i[:-1] for i in identifiers if i.endswith("*")]
    matches: list[ColumnElement[bool]] = []
    if exact:
        matches.append(_O.c.epc.in_(exact))
    matches += [_O.c.epc.startswith(prefix, autoescape=True) for prefix in prefixes]
    return exists().where(_O.c.event_id == _E.c.id, _O.c.role.in_(roles), or_(*matches))


def conditions(query: EventQuery) -> list[ColumnElement[bool]]:
    """The query's filters as SQL conditions on ``epcis_events``."""
    where: list[ColumnElement[bool]] = []
    if query.event_types:
        where.append(_E.c.event_type.in_(query.event_types))
    if query.ge_event_time is not None:
        where.append(_E.c.event_time >= query.ge_event_time)
    if query.lt_event_time is not None:
        where.append(_E.c.event_time < query.lt_event_time)
    if query.ge_record_time is not None:
        where.append(_E.c.record_time >= query.ge_record_time)
    if query.lt_record_time is not None:
        where.append(_E.c.record_time < query.lt_record_time)
    if query.actions:
        where.append(_E.c.action.in_(query.actions))
    if query.biz_steps:
        where.append(_E.c.biz_step.in_(query.biz_steps))
    if query.dispositions:
        where.append(_E.c.disposition.in_(query.dispositions))
    if query.biz_locations:
        where.append(_E.c.biz_location.in_(query.biz_locations))
    if query.read_points:
        where.append(_E.c.read_point.in_(query.read_points))
    if query.match_epc:
        where.append(_names(EPC_ROLES, query.match_epc))
    if query.match_any_epc:
        where.append(_names(ANY_EPC_ROLES, query.match_any_epc))
    if query.match_parent_id:
        where.append(_names(("parent",), query.match_parent_id))
    if query.match_epc_class:
        where.append(_names(CLASS_ROLES, query.match_epc_class))
    return where


def statement(query: EventQuery, after: int | None) -> Select[Any]:
    """The rows of the page after row ``after``: one more than a page, to tell if there is a
    next one."""
    where = conditions(query)
    if after is not None:
        where.append(_E.c.id > after)
    return (
        select(_E.c.id, _E.c.document, _E.c.record_time, _E.c.event_id)
        .where(and_(true(), *where))
        .order_by(_E.c.id)
        .limit(query.per_page + 1)
    )


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[tuple[int, dict[str, Any], datetime | None, str], ...]
    """(row id, stored document, record time, key) per event."""
    last: int | None
    """The last row id of this page when there is a next page."""


def matching_in_run(
    session: Session, query: EventQuery, run_id: int
) -> list[tuple[int, dict[str, Any], datetime | None]]:
    """The events of one import run that the query matches, in capture order: what a
    subscriber is sent after that run commits (the run's events only, found by the index)."""
    found = session.execute(
        select(_E.c.id, _E.c.document, _E.c.record_time)
        .where(_E.c.run_id == run_id, *conditions(query))
        .order_by(_E.c.id)
    )
    return [(r.id, r.document, r.record_time) for r in found]


def run(session: Session, query: EventQuery, after: int | None) -> Page:
    found = list(session.execute(statement(query, after)))
    more = len(found) > query.per_page
    rows = tuple((r.id, r.document, r.record_time, r.event_id) for r in found[: query.per_page])
    return Page(rows=rows, last=rows[-1][0] if more and rows else None)
