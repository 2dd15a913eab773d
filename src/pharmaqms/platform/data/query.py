"""The one query layer the data services stand on: an entity is declared once — its table,
the columns shown (joined labels such as a lot's number rather than its id), the filters it
accepts and its default order — and the API, the CLI export and the UI browse pages all read
it through ``find``, ``count`` and ``stream``.

Filters arrive as text (a query string, ``--filter name=value``) and are read by the type of
the column they filter: a date as ``YYYY-MM-DD``, a time as ISO 8601 (without an offset it is
read as UTC), yes/no as ``true``/``false``. ``_from`` is inclusive and ``_to`` exclusive, so
consecutive periods never count a row twice. An unknown filter or a value of the wrong type is
refused naming the filter, never ignored: an export that silently dropped a filter would hold
data nobody asked for."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    Text,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.expression import FromClause, UnaryExpression

from pharmaqms.kernel.db import JSONText, UTCDateTime
from pharmaqms.kernel.errors import InvalidInput, NotFound

ValueKind = Literal["int", "float", "str", "bool", "datetime", "date", "json"]
Op = Literal["eq", "contains", "gte", "lt", "search"]

MAX_PAGE: Final = 1000
DEFAULT_PAGE: Final = 50


def kind_of(expression: ColumnElement[Any]) -> ValueKind:
    kind = expression.type
    if isinstance(kind, UTCDateTime):
        return "datetime"
    if isinstance(kind, JSONText):
        return "json"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, Float):
        return "float"
    return "str"


@dataclass(frozen=True)
class Column:
    name: str
    source: ColumnElement[Any] | QueryableAttribute[Any]
    heading: str = ""

    @property
    def expression(self) -> ColumnElement[Any]:
        return self.source.expression

    @property
    def kind(self) -> ValueKind:
        return kind_of(self.expression)

    @property
    def label(self) -> str:
        return self.heading or self.name.replace("_", " ")


@dataclass(frozen=True)
class Filter:
    name: str
    op: Op
    columns: tuple[str, ...]
    help: str = ""


def eq(*names: str) -> tuple[Filter, ...]:
    return tuple(Filter(n, "eq", (n,), f"{n} equals") for n in names)


def between(*names: str) -> tuple[Filter, ...]:
    found: list[Filter] = []
    for n in names:
        found.append(Filter(f"{n}_from", "gte", (n,), f"{n} on or after"))
        found.append(Filter(f"{n}_to", "lt", (n,), f"{n} before"))
    return tuple(found)


def search(*names: str) -> tuple[Filter, ...]:
    return (Filter("q", "search", names, f"text in {', '.join(names)}"),)


@dataclass(frozen=True)
class Entity:
    name: str  # the URL and CLI name: "process-readings"
    title: str
    table: FromClause | type[Any]
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...]
    order: tuple[str, ...]  # column names; "-name" for descending
    # Outer joins for the labelled columns: (target, on clause).
    joins: tuple[tuple[Any, ColumnElement[bool]], ...] = ()
    description: str = ""
    permission: str = "records.read"
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        for f in self.filters:
            unknown = [c for c in f.columns if c not in self.by_name]
            if unknown:
                raise ValueError(f"{self.name}: filter {f.name} names unknown columns {unknown}")

    def column(self, name: str) -> Column:
        return self.by_name[name]


ENTITIES: dict[str, Entity] = {}


def declare(entity: Entity) -> Entity:
    if entity.name in ENTITIES:
        raise RuntimeError(f"data entity {entity.name!r} declared twice")
    ENTITIES[entity.name] = entity
    return entity


def entity_named(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise NotFound(f"no data entity {name!r}; one of: {known}") from None


def _parse(value: str, kind: ValueKind, name: str) -> Any:
    text = value.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "datetime":
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    except ValueError:
        expected = {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "date": "a date YYYY-MM-DD",
            "datetime": "a time, ISO 8601 (2026-03-01T08:00:00+01:00)",
        }[kind]
        raise InvalidInput(f"filter {name}: {value!r} is not {expected}", field=name) from None
    return text


def _text(expression: ColumnElement[Any]) -> ColumnElement[str]:
    # As plain text: a JSON column would otherwise encode the searched word as JSON.
    return func.lower(cast(expression, Text))


def _condition(entity: Entity, spec: Filter, value: str) -> ColumnElement[Any]:
    columns = [entity.column(c) for c in spec.columns]
    if spec.op == "search":
        needle = value.strip().lower()[:200]
        return or_(*(_text(c.expression).contains(needle, autoescape=True) for c in columns))
    column = columns[0]
    typed = _parse(value, "str" if column.kind == "json" else column.kind, spec.name)
    condition: ColumnElement[Any]
    if spec.op == "eq":
        condition = column.expression == typed
    elif spec.op == "contains":
        condition = _text(column.expression).contains(str(typed).lower(), autoescape=True)
    elif spec.op == "gte":
        condition = column.expression >= typed
    else:
        condition = column.expression < typed
    return condition


def statement(entity: Entity, filters: Mapping[str, str], order: str | None = None) -> Select[Any]:
    known = {f.name: f for f in entity.filters}
    unknown = sorted(set(filters) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise InvalidInput(
            f"{entity.name} has no filter {', '.join(unknown)}; its filters: {allowed}",
            field=unknown[0],
        )
    query = select(*(c.expression.label(c.name) for c in entity.columns)).select_from(entity.table)
    for target, on in entity.joins:
        query = query.outerjoin(target, on)
    for name, value in filters.items():
        if value != "":
            query = query.where(_condition(entity, known[name], value))
    return query.order_by(*_order(entity, order))


def _order(entity: Entity, order: str | None) -> list[UnaryExpression[Any]]:
    names: Sequence[str] = entity.order
    if order:
        bare = order.removeprefix("-")
        if bare not in entity.by_name:
            raise InvalidInput(
                f"{entity.name} can't be ordered by {bare!r}; by one of: "
                f"{', '.join(entity.by_name)}",
                field="order",
            )
        names = [order, *entity.order]
    clauses = []
    for name in names:
        expression = entity.column(name.removeprefix("-")).expression
        clauses.append(expression.desc() if name.startswith("-") else expression.asc())
    # A last tie-breaker on the first column (the id), so paging is stable.
    clauses.append(entity.columns[0].expression.asc())
    return clauses


def count(session: Session, entity: Entity, filters: Mapping[str, str]) -> int:
    inner = statement(entity, filters).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def find(
    session: Session,
    entity: Entity,
    filters: Mapping[str, str],
    *,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
    order: str | None = None,
) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
    if offset < 0:
        raise InvalidInput("offset can't be negative", field="offset")
    query = statement(entity, filters, order).limit(limit).offset(offset)
    return [dict(row) for row in session.execute(query).mappings()]


def stream(
    session: Session,
    entity: Entity,
    filters: Mapping[str, str],
    *,
    order: str | None = None,
    batch: int = 5000,
) -> Iterator[list[dict[str, Any]]]:
    """Every matching row, in batches, without holding them all in memory."""
    result = session.execute(
        statement(entity, filters, order).execution_options(yield_per=batch)
    ).mappings()
    for part in result.partitions(batch):
        yield [dict(row) for row in part]


def parse_filter_arguments(pairs: Sequence[str]) -> dict[str, str]:
    """``["lot_number=T26-0101", "measured_at_from=2026-02-01"]`` → a filter mapping."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"a filter is name=value, not {pair!r}", field="filter")
        found[name.strip()] = value
    return found


def describe(entity: Entity) -> dict[str, Any]:
    return {
        "name": entity.name,
        "title": entity.title,
        "description": entity.description,
        "columns": [{"name": c.name, "kind": c.kind, "label": c.label} for c in entity.columns],
        "filters": [{"name": f.name, "help": f.help} for f in entity.filters],
        "order": list(entity.order),
    }
