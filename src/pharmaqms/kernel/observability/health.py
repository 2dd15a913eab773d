"""Liveness and readiness.

Alive: the process answers (``/healthz``: nothing is checked, so a slow database never gets a
healthy process restarted). Ready (``/readyz``): it can do its work — the database answers and
carries every migration this code ships; and whatever else a module registers with
``register_readiness_check``: the platform registers the MQTT broker (when one is configured),
the job runner its queue.

A check returns None when ready, else a short reason meant for anyone who can reach the
endpoint: no addresses, user names or error texts (those go to the log, with the request id)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from pharmaqms.kernel.db import Database, get_database

log = logging.getLogger("pharmaqms.health")

ReadinessCheck = Callable[[Database], "str | None"]

_CHECKS: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    """Add a check that ``/readyz`` runs (a module calls this when it is imported). Raising
    counts as not ready, with the exception logged and not shown."""
    _CHECKS[name] = check


def readiness_checks() -> dict[str, ReadinessCheck]:
    return {"database": database_ready, **_CHECKS}


@lru_cache(maxsize=1)
def _migrations() -> ScriptDirectory:
    """The migrations this code ships (read from the files once: they don't change while the
    process runs)."""
    from pharmaqms.kernel.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def missing_migrations(applied: Collection[str]) -> set[str]:
    """The shipped revisions a database at ``applied`` (its alembic_version rows) lacks. The
    rows name only the newest revision of each line; what they depend on is applied too."""
    script = _migrations()
    reached = {r.revision for r in script.iterate_revisions(tuple(applied), "base") if r}
    return {r.revision for r in script.walk_revisions()} - reached


def database_ready(database: Database) -> str | None:
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            applied = MigrationContext.configure(conn).get_current_heads()
    except Exception:
        log.warning("readiness: the database did not answer", exc_info=True)
        return "unreachable"
    missing = missing_migrations(applied)
    if missing:
        log.warning("readiness: migrations not applied: %s", ", ".join(sorted(missing)))
        return "not migrated: run pharmaqms init"
    return None


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # name → "ok" or the reason it is not ready

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def readiness(database: Database | None = None) -> Readiness:
    db = database or get_database()
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            reason = check(db)
        except Exception:
            log.warning("readiness check %s failed", name, exc_info=True)
            reason = "check failed"
        results[name] = "ok" if reason is None else reason
    return Readiness(results)
