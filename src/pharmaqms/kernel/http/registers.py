"""Registers: the list pages of a quality department (deviations, CAPA, documents, the audit
trail, ...) declared once and served the same way — sorted by any of their columns, filtered,
paged, and exported to CSV or XLSX with the filters applied.

A module declares a ``Register``: its base query (what the page lists), its ``Column``s (label,
SQL expression to sort and filter by, how a row's value is read for an export) and any
``Filter`` that is not a column (a free-text search over several fields, "overdue only").
``read_request`` turns the query string into a ``RegisterQuery``: only declared column keys may
be sorted by and only declared filters are read, so no user input reaches the SQL but as a bound
value. ``register_response`` answers the page or, with ``?export=csv|xlsx``, the file of every
filtered row (all pages), recorded in the audit trail as an export. Sorting and paging happen in
SQL (ORDER BY, LIMIT, OFFSET); the count is one COUNT over the filtered query.

Query parameters: ``sort=<key>`` ascending, ``sort=-<key>`` descending; ``offset=<n>`` (a
whole number ≥ 0); each filter by its own name; ``export=csv|xlsx``. An unknown sort column, a
bad offset or an unknown export format is refused with 400 and a sentence naming what is
allowed; it changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.db import replica_reads
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.timezones import day_start_utc

FilterKind = Literal["text", "choice", "date", "flag"]
EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An export is a file for a spreadsheet, not a dump of the database: past this many rows it is
# refused with a request to narrow the filters.
MAX_EXPORT_ROWS = 100_000
MAX_FILTER_TEXT = 200
# The audit trail's record type of a register export (no single record is handed out).
EXPORT_RECORD_TYPE = "register"


class BadRegisterQuery(QMSError):
    status = 400
    code = "bad_register_query"
    title = "Bad register query"


def _contains(expr: Any, value: str) -> Any:
    # % and _ typed by a person are letters, not wildcards.
    return expr.icontains(value, autoescape=True)


@dataclass(frozen=True)
class Filter:
    """One way to narrow a register, read from the query parameter ``name``.

    ``text``: a case-insensitive substring; ``choice``: one of ``options``; ``date``: a day
    (YYYY-MM-DD) — ``apply`` receives a ``date``; ``flag``: "1" to apply, anything else not.
    ``apply(query, value)`` adds the condition; the value is always passed bound."""

    name: str
    label: str
    kind: FilterKind
    apply: Callable[[Select[Any], Any], Select[Any]]
    options: Callable[[Session], Sequence[tuple[str, str]]] | None = None
    placeholder: str = ""
    # The value when the parameter is absent (the SPC alerts open on the open ones); sent empty
    # ("any"), it is not applied.
    default: str = ""


@dataclass(frozen=True)
class Column:
    """One column of a register: its key (the ``sort`` value), heading, the SQL expression it
    sorts by (None: not sortable) and what a row holds in it (the export's cell). A row is
    what the register's query selects: the record, or a tuple (record, owner's name, ...)."""

    key: str
    label: str
    value: Callable[[Any], object]
    sort: ColumnElement[Any] | Any | None = None
    filter: FilterKind | None = None
    # For a ``choice`` filter: the values offered (value, label).
    options: Callable[[Session], Sequence[tuple[str, str]]] | None = None
    filter_default: str = ""
    # Ascending shows the largest SQL value first (an age sorted by the date it counts from).
    inverted: bool = False

    def as_filter(self) -> Filter | None:
        if self.filter is None or self.sort is None:
            return None
        expr = self.sort
        apply: Callable[[Select[Any], Any], Select[Any]]
        if self.filter == "text":

            def apply(query: Select[Any], value: Any) -> Select[Any]:
                return query.where(_contains(expr, value))

        elif self.filter == "choice":

            def apply(query: Select[Any], value: Any) -> Select[Any]:
                return query.where(expr == value)

        elif self.filter == "date":

            def apply(query: Select[Any], value: Any) -> Select[Any]:
                # The reader's calendar day (kernel/timezones), not UTC's.
                return query.where(
                    expr >= day_start_utc(value), expr < day_start_utc(value + timedelta(days=1))
                )

        else:
            raise ValueError(f"column {self.key!r}: a {self.filter} filter needs its own Filter")
        return Filter(
            self.key, self.label, self.filter, apply, self.options, default=self.filter_default
        )


@dataclass(frozen=True)
class Register:
    """A list page: what it lists (``query``), how (``columns``), narrowed by ``filters`` (the
    columns' own filters first, then the extra ones), newest first unless ``default_sort``."""

    name: str  # "deviations": the export's file name and the audit entry's label
    title: str  # "Deviations"
    # A Select of one entity, or of an entity and more (Select is variadic: typed loosely).
    query: Callable[[Session, Actor], Any]
    columns: tuple[Column, ...]
    default_sort: str  # "-discovered" (a column key, "-" for descending)
    tiebreak: Any  # a unique expression (the id) so equal sort values page stably
    extra_filters: tuple[Filter, ...] = ()
    # What a row becomes once read, for what SQL does not hold (a piece of equipment's standing
    # now, from its calibration history): applied to the page's rows and to an export's.
    enrich: Callable[[Session, list[Any]], list[Any]] | None = None

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    @property
    def filters(self) -> tuple[Filter, ...]:
        own = tuple(f for f in (c.as_filter() for c in self.columns) if f is not None)
        return own + self.extra_filters

    def sortable(self) -> list[str]:
        return [c.key for c in self.columns if c.sort is not None]


@dataclass(frozen=True)
class RegisterQuery:
    """What was asked of a register, validated: a known sort column, a page, filter values
    (as typed, for the form) and how each was understood."""

    sort: str
    descending: bool
    offset: int
    limit: int
    values: dict[str, str]
    parsed: dict[str, Any]
    export: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    def applied(self) -> dict[str, str]:
        """The filters in force, as typed: the export's audit entry names them."""
        return {k: v for k, v in self.values.items() if k in self.parsed}


def _parse_sort(register: Register, raw: str) -> tuple[str, bool]:
    raw = raw.strip() or register.default_sort
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in register.sortable():
        raise BadRegisterQuery(
            f"the {register.title.lower()} register cannot be sorted by {key[:40]!r}; "
            f"sortable columns: {', '.join(register.sortable())}",
            field="sort",
        )
    return key, descending


def read_request(
    register: Register, params: Mapping[str, str], *, limit: int = 50
) -> RegisterQuery:
    sort, descending = _parse_sort(register, params.get("sort", ""))
    raw_offset = params.get("offset", "").strip() or "0"
    if not raw_offset.isdecimal():
        raise BadRegisterQuery(
            f"offset {raw_offset[:20]!r} is not a whole number of rows (0, 50, 100, ...)",
            field="offset",
        )
    export = params.get("export", "").strip() or None
    if export is not None and export not in EXPORT_FORMATS:
        raise BadRegisterQuery(
            f"export {export[:20]!r} is not a format offered: {', '.join(EXPORT_FORMATS)}",
            field="export",
        )
    values: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    problems: list[str] = []
    for f in register.filters:
        given = params.get(f.name)
        raw = (f.default if given is None else given)[:MAX_FILTER_TEXT]
        values[f.name] = raw
        text = raw.strip()
        if not text:
            continue
        if f.kind == "flag":
            if text == "1":
                parsed[f.name] = True
        elif f.kind == "date":
            try:
                parsed[f.name] = date.fromisoformat(text)
            except ValueError:
                problems.append(f"{f.label}: {text!r} is not a date (YYYY-MM-DD): ignored")
        else:
            parsed[f.name] = text
    return RegisterQuery(
        sort=sort,
        descending=descending,
        offset=int(raw_offset),
        limit=limit,
        values=values,
        parsed=parsed,
        export=export,
        problems=tuple(problems),
    )


def filtered(session: Session, actor: Actor, register: Register, q: RegisterQuery) -> Select[Any]:
    query: Select[Any] = register.query(session, actor)
    for f in register.filters:
        if f.name in q.parsed:
            query = f.apply(query, q.parsed[f.name])
    return query


def count_matching(
    session: Session, actor: Actor, register: Register, params: Mapping[str, str]
) -> int:
    """How many rows the register shows for ``params`` (its filters as a URL would carry
    them): a figure that links to the register counts with the register's own query, so the
    figure and the page it opens cannot disagree."""
    return _count(session, filtered(session, actor, register, read_request(register, params)))


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _ordered(register: Register, q: RegisterQuery, query: Select[Any]) -> Select[Any]:
    column = register.column(q.sort)
    assert column is not None and column.sort is not None  # read_request checked it
    expr = column.sort
    tiebreak = register.tiebreak
    # Empty values first ascending and last descending, on both databases alike (PostgreSQL's
    # default puts them the other way round).
    if q.descending != column.inverted:
        return query.order_by(expr.desc().nulls_last(), tiebreak.desc())
    return query.order_by(expr.asc().nulls_first(), tiebreak.asc())


@dataclass(frozen=True)
class RegisterPage:
    """One page of a register, for the template macro ``register_table``."""

    register: Register
    query: RegisterQuery
    rows: list[Any]
    total: int
    options: dict[str, Sequence[tuple[str, str]]]

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.register.columns

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self.register.filters


def _rows(session: Session, query: Select[Any]) -> list[Any]:
    result = session.execute(query)
    if len(query.column_descriptions) == 1:
        return list(result.scalars())
    return list(result.all())


def find_page(session: Session, actor: Actor, register: Register, q: RegisterQuery) -> RegisterPage:
    query = filtered(session, actor, register, q)
    total = _count(session, query)
    rows = _rows(session, _ordered(register, q, query).limit(q.limit).offset(q.offset))
    if register.enrich is not None:
        rows = register.enrich(session, rows)
    options = {f.name: f.options(session) for f in register.filters if f.options is not None}
    return RegisterPage(register, q, rows, total, options)


# --- export -------------------------------------------------------------------------------


def cell(value: object) -> object:
    """A value as a spreadsheet cell: times in UTC, enums by value, text guarded against being
    read as a formula (a cell starting with = + - @ gets a leading apostrophe)."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_text(value: object) -> str:
    shown = cell(value)
    if isinstance(shown, datetime):
        return shown.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(shown)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """CSV with a UTF-8 byte-order mark, so Excel reads accents right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_csv_text(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([str(cell(h)) for h in headers])
    for c in sheet[1]:
        c.font = Font(bold=True)
    for row in rows:
        sheet.append([cell(v) for v in row])
    for c in sheet[1]:
        if isinstance(c.value, str):
            width = max(len(c.value), 10)
            sheet.column_dimensions[c.column_letter].width = min(width + 2, 60)
    for row_cells in sheet.iter_rows(min_row=2):
        for c in row_cells:
            if isinstance(c.value, datetime):
                c.number_format = "yyyy-mm-dd hh:mm:ss"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_register(
    session: Session, actor: Actor, register: Register, q: RegisterQuery, fmt: str
) -> tuple[bytes, str, str]:
    """Every row the filters select (all pages), in the page's order, as CSV or XLSX; the
    hand-out is written to the audit trail. Returns (content, file name, media type). The
    rows are read from the read replica when there is one; the audit entry goes to
    ``session`` (the primary)."""
    with replica_reads(session) as reads:
        query = filtered(reads, actor, register, q)
        total = int(reads.scalar(select(func.count()).select_from(query.subquery())) or 0)
        if total > MAX_EXPORT_ROWS:
            raise BadRegisterQuery(
                f"{total} rows match: an export holds at most {MAX_EXPORT_ROWS}; "
                "narrow the filters",
                field="export",
            )
        found = _rows(reads, _ordered(register, q, query))
        if register.enrich is not None:
            found = register.enrich(reads, found)
        table = [[c.value(r) for c in register.columns] for r in found]
    headers = [c.label for c in register.columns]
    return export_table(
        session,
        actor,
        name=register.name,
        title=register.title,
        headers=headers,
        rows=table,
        fmt=fmt,
        filters=q.applied(),
        sort=q.sort_param,
    )


def export_table(
    session: Session,
    actor: Actor,
    *,
    name: str,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    fmt: str,
    filters: Mapping[str, str],
    sort: str | None = None,
) -> tuple[bytes, str, str]:
    """A table handed out as CSV or XLSX and recorded in the audit trail as an export (by whom,
    which register, which filters, how many rows): for a register, or a page that is a table
    of its own kind (the training matrix)."""
    if fmt not in EXPORT_FORMATS:
        raise BadRegisterQuery(
            f"export {fmt[:20]!r} is not a format offered: {', '.join(EXPORT_FORMATS)}",
            field="export",
        )
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        content, media = to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        content, media = to_xlsx(title, headers, rows), XLSX_MEDIA
    details: dict[str, Any] = {
        "register": name,
        "format": fmt,
        "rows": len(rows),
        "filters": dict(filters),
    }
    if sort is not None:
        details["sort"] = sort
    audit.record_event(
        session,
        actor=actor,
        action="export",
        record_type=EXPORT_RECORD_TYPE,
        record_label=f"{title} register",
        details=details,
    )
    return content, f"{name}-{stamp}.{fmt}", media


def register_response(
    request: Request,
    actor: Actor,
    register: Register,
    template: str,
    context: Callable[[Session], dict[str, Any]] | None = None,
    *,
    limit: int = 50,
    params: Mapping[str, str] | None = None,
) -> Response:
    """The register's page (``template`` gets ``page``: a ``RegisterPage``), or its export.
    The caller has checked that ``actor`` may read the page: the export asks the same.
    ``params``: the query as the caller understood it (a record number read as its id)."""
    q = read_request(register, request.query_params if params is None else params, limit=limit)
    if q.export is not None:
        with transaction(request, write=True) as session:
            content, filename, media = export_register(session, actor, register, q, q.export)
        return download(content, filename=filename, media_type=media)
    with transaction(request) as session:
        page = find_page(session, actor, register, q)
        extra = context(session) if context is not None else {}
        return render(request, template, {"page": page, **extra})


# --- helpers for declarations ---------------------------------------------------------------


def fixed_options(
    values: Sequence[str], label: Callable[[str], str] = lambda v: v.replace("_", " ")
) -> Callable[[Session], Sequence[tuple[str, str]]]:
    """Options of a choice filter known in advance (the statuses of a workflow)."""
    pairs = [(v, label(v)) for v in values]
    return lambda _session: pairs


def distinct_options(expr: Any) -> Callable[[Session], Sequence[tuple[str, str]]]:
    """Options of a choice filter: the values the column holds."""

    def options(session: Session) -> Sequence[tuple[str, str]]:
        found = session.scalars(select(expr).where(expr.is_not(None)).distinct().order_by(expr))
        return [(str(v), str(v)) for v in found]

    return options


def id_equals(expr: Any) -> Callable[[Select[Any], Any], Select[Any]]:
    """A choice filter on an integer id: a value that is no plain number matches nothing."""

    def apply(query: Select[Any], value: Any) -> Select[Any]:
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            return query.where(false())
        return query.where(expr == int(text))

    return apply


def status_in(expr: Any, statuses: Sequence[Any]) -> Callable[[Select[Any], Any], Select[Any]]:
    """A flag filter: the record is in one of ``statuses`` ("open only" across the several
    states a workflow counts as open)."""
    values = [str(getattr(s, "value", s)) for s in statuses]

    def apply(query: Select[Any], _value: Any) -> Select[Any]:
        return query.where(expr.in_(values))

    return apply


def any_contains(*exprs: Any) -> Callable[[Select[Any], Any], Select[Any]]:
    """A free-text filter: the words as typed, found in any of the fields."""

    def apply(query: Select[Any], value: Any) -> Select[Any]:
        text = str(value).strip()
        condition = _contains(exprs[0], text)
        for expr in exprs[1:]:
            condition = condition | _contains(expr, text)
        return query.where(condition)

    return apply


def person_name(user_id: Any) -> Any:
    """The full name of the user whose id ``user_id`` holds, as a column to select and sort by."""
    from pharmaqms.kernel.models import User

    return select(User.full_name).where(User.id == user_id).correlate_except(User).scalar_subquery()
