"""Running the migrations, and the append-only triggers the migrations install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
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


def upgrade_in(connection: Connection, destination: str = "heads") -> None:
    """Run the migrations inside the caller's transaction: DDL is transactional on SQLite and
    PostgreSQL, so a caller that fails later (a restore) rolls the schema back with its rows.
    ``destination``: every branch's head, or one revision (with what it needs)."""
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    script = ScriptDirectory.from_config(config)

    def steps(current: Any, _context: Any) -> list[RevisionStep]:
        return in_chain_order(script._upgrade_revs(destination, current))

    with EnvironmentContext(config, script, fn=steps, destination_rev=destination):
        script.run_env()


def in_chain_order(steps: list[RevisionStep]) -> list[RevisionStep]:
    """The pending revisions in one fixed order: each after every revision it follows or
    depends on; among those ready, one that continues its branch first, then by name.

    Alembic's own order breaks ties by Python's string hashing, so it changes from one process
    to the next; in some of those orders a module's first revision, which ``depends_on`` a
    revision of another branch, takes that revision's place in the version table before the
    revision's own next one runs, and the upgrade fails (``KeyError: '0001_kernel'``; one fresh
    database in about 25, ``PYTHONHASHSEED=19``). Continuing a branch before starting one
    keeps every revision a head until its successor is recorded."""
    pending = {step.revision.revision: step for step in steps}
    needs = {
        name: set(step.revision._all_down_revisions) & set(pending)
        for name, step in pending.items()
    }
    ordered: list[RevisionStep] = []
    done: set[str] = set()
    while len(done) < len(pending):
        ready = [name for name in pending if name not in done and needs[name] <= done]
        if not ready:
            raise RuntimeError(f"the migrations depend on each other in a circle: {needs}")
        chosen = min(ready, key=lambda n: (not pending[n].revision._versioned_down_revisions, n))
        ordered.append(pending[chosen])
        done.add(chosen)
    return ordered


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
