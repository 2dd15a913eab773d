"""``pharmaqms db``: the database's own upkeep on PostgreSQL — the monthly partitions of the
big time-series tables (kernel/partitions.py, docs/deploy.md "Partitions")."""

from __future__ import annotations

import typer
from sqlalchemy import text

from pharmaqms.cli.common import console, fail, handle_errors

app = typer.Typer(help="Database upkeep (PostgreSQL).", no_args_is_help=True)
partitions_app = typer.Typer(help="Monthly partitions.", no_args_is_help=True)
app.add_typer(partitions_app, name="partitions")


@app.callback()
def db() -> None:
    """Database upkeep: the monthly partitions on PostgreSQL."""


def _postgresql() -> str:
    from pharmaqms.kernel.settings import get_settings

    url = get_settings().database_url
    if not url.startswith("postgresql"):
        fail("partitions are a PostgreSQL feature: this database is SQLite, one table each")
    return url


@partitions_app.command("ensure")
@handle_errors
def ensure(
    months_ahead: int | None = typer.Option(
        None, "--months-ahead", min=0, max=120, help="Months after this one (default: setting)."
    ),
) -> None:
    """Create this month's and the next months' partitions where missing (safe to repeat)."""
    from pharmaqms.kernel import partitions
    from pharmaqms.kernel.db import get_database
    from pharmaqms.kernel.settings import get_settings

    _postgresql()
    ahead = get_settings().db_partitions_months_ahead if months_ahead is None else months_ahead
    with get_database().engine.begin() as conn:
        found = partitions.ensure(conn, ahead)
    for row in found:
        console.print(f"{row.partition}: {row.outcome}", highlight=False)
    created = sum(1 for row in found if row.outcome == "created")
    console.print(f"created {created}, already there {len(found) - created}")
    if any(row.outcome.startswith("blocked") for row in found):
        raise typer.Exit(1)


@partitions_app.command("list")
@handle_errors
def list_partitions() -> None:
    """Each partitioned table's partitions, their bounds and row estimates."""
    from pharmaqms.kernel import partitions
    from pharmaqms.kernel.db import get_database

    _postgresql()
    with get_database().engine.connect() as conn:
        for table in partitions.MONTHLY:
            if not partitions.is_partitioned(conn, table):
                console.print(f"{table}: not partitioned (run pharmaqms migrate)")
                continue
            console.print(f"{table}:")
            for name, bound in partitions.partitions(conn, table):
                rows = conn.execute(
                    text("SELECT reltuples::bigint FROM pg_class WHERE relname = :n"), {"n": name}
                ).scalar_one()
                console.print(f"  {name}  {bound}  ~{max(rows, 0):,} rows", highlight=False)


@partitions_app.command("prepare")
@handle_errors
def prepare(
    months: int = typer.Option(
        2, "--months", min=1, max=12, help="Boundary this many months after the latest row."
    ),
) -> None:
    """Before migrating a large database: prove each table's rows lie before a month boundary
    and build the widened keys, without a long lock (CHECK NOT VALID + VALIDATE, CREATE INDEX
    CONCURRENTLY), so the migration only renames and attaches. Rows dated after the boundary
    are refused until the migration has run: migrate before it."""
    from pharmaqms.kernel import partitions
    from pharmaqms.kernel.db import make_engine

    engine = make_engine(_postgresql(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for table in partitions.MONTHLY:
                if partitions.is_partitioned(conn, table):
                    console.print(f"{table}: partitioned already")
                    continue
                boundary = partitions.prepare(conn, table, concurrently=True, months=months)
                console.print(f"{table}: ready, history before {boundary:%Y-%m-%d}")
    finally:
        engine.dispose()
