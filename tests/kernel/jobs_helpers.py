"""The worker's part in tests: on PostgreSQL a committed change only queues its jobs (e-mail,
webhooks), and a worker runs them; on SQLite, with no worker thread in the test process, they
ran in process right after the commit."""

from __future__ import annotations

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.jobs import drain


def worker_runs(db: Database) -> None:
    """A procrastinate worker runs what is queued and due, then stops (PostgreSQL only)."""
    if db.dialect == "postgresql":
        drain(db)
