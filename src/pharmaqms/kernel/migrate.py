"""Running the migrations, and the append-only triggers the migrations install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

APPEND_ONLY_TABLES = ("audit_entries", "electronic_signatures")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    with engine.begin() as connection:
        upgrade_in(connection)


def upgrade_in(connection: Connection) -> None:
    """Run the migrations inside the caller's transaction: DDL is transactional on SQLite and
    PostgreSQL, so a caller that fails later (a restore) rolls the schema back with its rows."""
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


def make_append_only(op: Any, table: str) -> None:
    """Triggers that make the database itself refuse UPDATE and DELETE on a table.

    ``op`` is Alembic's ``op`` proxy module (typed loosely: it is a module, not Operations)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION pharmaqms_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pharmaqms_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pharmaqms_append_only()"
        )
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database {dialect}")
