"""Alembic environment. Each module keeps its own branch of revisions (branch label = module),
so modules built in parallel never fight over one linear history; ``upgrade heads`` applies
them all, and a module's first revision ``depends_on`` the kernel."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pharmaqms.kernel.db import make_engine
from pharmaqms.schema import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
