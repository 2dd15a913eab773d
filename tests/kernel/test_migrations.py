"""The migrations build exactly the schema the models declare: a module whose tables have no
migration, a migration whose module is missing from ``pharmaqms.schema``, or a migration that
drifted from its models fails here.

The comparison runs in a fresh interpreter, so that the metadata is what ``pharmaqms.schema``
imports — what backup, restore and ``audit verify`` see — and not whatever other tests in this
process happened to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

COMPARE = """
import json, sys
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
import pharmaqms.schema
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.migrate import upgrade
from pharmaqms.kernel import partitions

database = Database(sys.argv[1])
if sys.argv[2] == "upgrade":
    upgrade(database.engine)
    upgrade(database.engine)  # a second run changes nothing

def compare_type(context, inspected_column, metadata_column, inspected, declared):
    # SQLite does not enforce a VARCHAR length (a migration may skip widening one there);
    # PostgreSQL does, and its run below compares lengths.
    if context.dialect.name == "sqlite" and getattr(inspected, "length", None) is not None:
        if getattr(declared, "length", None) is not None:
            return type(inspected).__name__ not in ("VARCHAR", type(declared).__name__)
    return None

with database.engine.connect() as conn:
    context = MigrationContext.configure(
        conn,
        opts={"compare_type": compare_type, "render_as_batch": conn.dialect.name == "sqlite"},
    )
    # On PostgreSQL the monthly partitions (0050_kernel_partitions) differ from the models on
    # purpose, and only in the ways kernel/partitions.py declares.
    parts = partitions.partition_tables(conn)
    found = compare_metadata(context, pharmaqms.schema.metadata)
    print(json.dumps([repr(d) for d in partitions.unexplained(found, parts)]))
database.dispose()
"""


def differences(url: str, *, upgrade: bool) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", COMPARE, url, "upgrade" if upgrade else "compare"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.clause("annex11:10")
def test_upgrade_heads_on_a_fresh_sqlite_database_matches_the_models(tmp_path: Path) -> None:
    # when the migrations run on an empty file, then the schema is what the models say,
    # table for table, column for column, index for index
    assert differences(f"sqlite:///{tmp_path / 'fresh.db'}", upgrade=True) == []


@pytest.mark.clause("annex11:10")
def test_upgrade_heads_on_a_fresh_postgresql_database_matches_the_models(
    empty_postgres_url: str,
) -> None:
    assert differences(empty_postgres_url, upgrade=True) == []
