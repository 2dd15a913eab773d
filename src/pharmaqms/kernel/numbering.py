"""Human-readable record numbers (DEV-2026-0007), unique under concurrency.

A counter row per prefix and year is incremented with UPDATE … RETURNING inside the creating
transaction: PostgreSQL's row lock and SQLite's writer lock make concurrent creators wait for
each other, so two records never share a number. The counter is never reset or reused.
"""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pharmaqms.kernel.models import RecordCounter


def allocate_number(session: Session, prefix: str, year: int) -> str:
    conn = session.connection()
    bump = (
        update(RecordCounter)
        .where(RecordCounter.prefix == prefix, RecordCounter.year == year)
        .values(last_value=RecordCounter.last_value + 1)
        .returning(RecordCounter.last_value)
    )
    value = conn.execute(bump).scalar()
    if value is None:
        dialect = conn.dialect.name
        stmt = pg_insert(RecordCounter) if dialect == "postgresql" else sqlite_insert(RecordCounter)
        if dialect in ("postgresql", "sqlite"):
            conn.execute(
                stmt.values(prefix=prefix, year=year, last_value=0).on_conflict_do_nothing()
            )
        else:  # pragma: no cover - only the two supported databases exist
            conn.execute(insert(RecordCounter).values(prefix=prefix, year=year, last_value=0))
        value = conn.execute(bump).scalar_one()
    return f"{prefix}-{year}-{value:04d}"
