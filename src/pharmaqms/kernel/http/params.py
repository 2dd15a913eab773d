"""Typed parameters every API route shares, bounded so that no value a caller sends can
overflow the database: a record id is a positive 64-bit integer (SQLite's INTEGER and
PostgreSQL's BIGINT both stop at 2⁶³ − 1), and paging never asks for more than a database can
count. A value outside the bounds is a 422 naming the parameter, before any handler runs.

The bounds are annotated-types constraints, not ``Path``/``Query`` markers, so one type serves a
path parameter (``/deviations/{deviation_id}``) and a query parameter (``?lot_id=``) alike, and
the OpenAPI document states them (``minimum``/``maximum``) for clients and fuzzers."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

# The largest signed 64-bit integer: the highest id either database can hold.
MAX_ID = 2**63 - 1
# Paging past two billion rows is never a real request; the bound keeps OFFSET arithmetic
# (offset + limit) far from any overflow on either database.
MAX_OFFSET = 2**31 - 1
MAX_LIMIT = 1000

RecordId = Annotated[int, Interval(ge=1, le=MAX_ID)]
"""The id of a stored row (path or query parameter)."""

Offset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]
"""How many rows of a listing to skip."""

Limit = Annotated[int, Interval(ge=1, le=MAX_LIMIT)]
"""How many rows of a listing to return at most (a route may allow fewer)."""

Count = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]
"""Any other whole number a route takes (a version, a number of days): a 32-bit count."""
