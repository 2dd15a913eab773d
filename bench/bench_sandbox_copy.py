"""A sandbox copy of a realistic database to try a configuration draft on: how long making it and
reading it back take, each against its ceiling in the same run.

The source is the demo (``pharmaqms init`` + ``pharmaqms demo --scale S`` in a temporary
folder, as an operator builds it), or ``--source FILE`` (a SQLite file whose key file lies
beside it). A draft of ``workflow.document_version.tasks`` is made under a change control the
demo left in implementation. Timed, best of ``--rounds``, each round into a new file:

(a) ``sandbox_copy.make_copy``: register, copy into a new SQLite file (SQLite's online backup;
    with ``--portable`` the backup format every other pair of engines uses), mark;
(b) its ceiling: sqlite3's online backup API copying the same file byte for byte (no
    checks, no schema, nothing registered);
(c) ``sandbox_copy.collect_evidence``: verify the copy's whole trail and count what was done;
(d) its ceiling: ``verify`` of the source alone (the check (c) cannot skip).

With ``--to-postgres URL`` (a PostgreSQL server's URL, as a superuser, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) each round's copy is a new
PostgreSQL database on that server, made by the portable path (the backup restored there), and
(b) becomes: the schema made by the migrations, then every row of the source copied in with
bare ``COPY … FROM STDIN`` (psycopg, triggers and foreign keys off: no checks, no archive,
nothing registered). The databases are dropped at the end.

    .venv/bin/python bench/bench_sandbox_copy.py [--scale 0.2] [--rounds 3] [--source FILE]
        [--portable | --to-postgres URL]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_trace import machine

PASSWORD = "Quarantine-Lot-77!"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    wall, used = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - wall, cpu() - used


def build_demo(folder: Path, scale: float) -> Path:
    path = folder / "live.db"
    command = Path(sys.executable).with_name("pharmaqms")
    env = {
        **os.environ,
        "PHARMAQMS_DATABASE_URL": f"sqlite:///{path}",
        "PHARMAQMS_ADMIN_PASSWORD": PASSWORD,
    }
    env.pop("PHARMAQMS_KEY_FILE", None)  # the key file beside the database, as make run has it
    for args in (
        ["init", "--admin-full-name", "Bench Administrator"],
        ["demo", "--scale", str(scale)],
    ):
        started = time.perf_counter()
        result = subprocess.run([str(command), *args], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"pharmaqms {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        print(f"pharmaqms {args[0]}: {time.perf_counter() - started:.1f} s")
    return path


class Server:
    """Empty databases on a PostgreSQL server, dropped at the end."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.url = url.rsplit("/", 1)[0]
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def new(self, name: str) -> str:
        from sqlalchemy import text

        name = f"pqms_bench_{name}_{os.getpid()}"
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        self.made.append(name)
        return f"{self.url}/{name}"

    def drop_all(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.admin.dispose()


def bare_copy_into_postgres(source: Path, url: str) -> None:
    """The ceiling of a copy into PostgreSQL: the schema by the migrations, then each table's
    rows read with sqlite3 and written with ``COPY``, no trigger or foreign key checked."""
    import psycopg
    from sqlalchemy import create_engine

    import pharmaqms.schema  # noqa: F401 - every table
    from pharmaqms.kernel.backup import _tables
    from pharmaqms.kernel.migrate import upgrade_in

    engine = create_engine(url)
    with engine.begin() as conn:
        upgrade_in(conn)
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    booleans = {t.name: [type(c.type).__name__ == "Boolean" for c in t.columns] for t in _tables()}
    with sqlite3.connect(source) as src, psycopg.connect(dsn) as dst:
        dst.execute("SET session_replication_role = replica")
        # the rows the migrations seed (the chain's head) come from the source instead
        dst.execute("TRUNCATE " + ", ".join(f'"{t.name}"' for t in _tables()))
        with dst.cursor() as cur:
            for table in _tables():
                columns = [c.name for c in table.columns]
                flags = booleans[table.name]
                quoted = ", ".join(f'"{c}"' for c in columns)
                rows = src.execute(f'SELECT {quoted} FROM "{table.name}"')
                with cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(
                            [
                                bool(v) if flag and v is not None else v
                                for v, flag in zip(row, flags, strict=True)
                            ]
                        )


def draft_number(database: Any) -> str:
    from sqlalchemy import select

    from pharmaqms.compliance.configuration import checks, service
    from pharmaqms.kernel import auth, clock
    from pharmaqms.kernel.configuration.models import ConfigVersion
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.quality.changes.models import ChangeRequest

    key = "workflow.document_version.tasks"
    with unit_of_work(database) as session:
        user = auth.user_by_username(session, "admin")
        assert user is not None
        actor = auth.actor_for(session, user)
        pending = session.scalars(
            select(ConfigVersion).where(
                ConfigVersion.key == key, ConfigVersion.status.in_(service.PENDING)
            )
        ).first()
        if pending is not None:
            return str(pending.number)
        change = next(
            (
                c
                for c in session.scalars(select(ChangeRequest).order_by(ChangeRequest.id))
                if not checks.change_problems(session, c.id, approving=False)
            ),
            None,
        )
        if change is None:
            raise SystemExit(
                "the source has no change control a configuration may be drafted under"
            )
        version = service.draft_version(
            session,
            actor=actor,
            key=key,
            content={
                "in_review": {"role": "qa", "due_in_days": 5},
                "approved": {"role": "qa", "due_in_days": 30},
            },
            effective_from=clock.now() + timedelta(days=1),
            change_id=change.id,
            rationale="Benchmark: SOP reviews due within 5 days.",
        )
        session.flush()
        return str(version.number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", type=Path, help="a SQLite file to copy instead of the demo")
    parser.add_argument(
        "--to-postgres",
        metavar="URL",
        help="make each copy a new database on this PostgreSQL server (portable path)",
    )
    parser.add_argument(
        "--portable",
        action="store_true",
        help="copy through the portable backup format (what any pair but SQLite to SQLite uses)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    source = args.source or build_demo(folder, args.scale)
    os.environ["PHARMAQMS_DATABASE_URL"] = f"sqlite:///{source}"
    os.environ.pop("PHARMAQMS_KEY_FILE", None)

    import pharmaqms.schema  # noqa: F401 - every module's tables, as the CLI loads them
    from pharmaqms.compliance.configuration import sandbox_copy
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.db import Database, set_database
    from pharmaqms.kernel.settings import reset_settings_cache
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.kernel.verify import verify

    reset_settings_cache()
    if args.portable:
        sandbox_copy._copy_into = lambda live, copy_db, progress: sandbox_copy.copy_portable(
            live, copy_db, progress
        )
    live = Database(f"sqlite:///{source}")
    set_database(live)
    number = draft_number(live)
    with unit_of_work(live, write=False) as session:
        user = auth.user_by_username(session, "admin")
        assert user is not None
        actor = auth.actor_for(session, user)
        entries = verify(session).entries
    size = source.stat().st_size
    print(f"{machine()}; load {os.getloadavg()[0]:.1f}")
    print(f"source: {size / 1e6:.1f} MB, {entries:,} audit entries; draft {number}")

    server = Server(args.to_postgres) if args.to_postgres else None
    try:
        results = run_rounds(args.rounds, folder, source, live, actor, number, server)
    finally:
        if server is not None:
            server.drop_all()
    report(results, server is not None)


def run_rounds(
    rounds: int,
    folder: Path,
    source: Path,
    live: Any,
    actor: Any,
    number: str,
    server: Server | None,
) -> dict[str, list[tuple[float, float]]]:
    from pharmaqms.compliance.configuration import sandbox_copy, sandbox_evidence
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.kernel.verify import verify

    results: dict[str, list[tuple[float, float]]] = {"a": [], "b": [], "c": [], "d": []}
    for round_no in range(rounds):
        if server is not None:
            target = server.new(f"copy_{round_no}")
            bare = server.new(f"bare_{round_no}")
        else:
            target = f"sqlite:///{folder / f'copy-{round_no}.db'}"
            bare = str(folder / f"bare-{round_no}.db")
        made: list[int] = []

        def copy(target: str = target, made: list[int] = made) -> None:
            made.append(
                sandbox_copy.make_copy(live, actor=actor, number=number, target_url=target).id
            )

        def byte_copy(bare: str = bare) -> None:
            if server is not None:
                bare_copy_into_postgres(source, bare)
                return
            with sqlite3.connect(source) as src, sqlite3.connect(bare) as dst:
                src.backup(dst)

        def read_back(target: str = target, made: list[int] = made) -> None:
            sandbox_evidence.collect_evidence(live, actor=actor, copy_id=made[0], copy_url=target)

        def verify_source() -> None:
            with unit_of_work(live, write=False) as session:
                assert verify(session).intact

        for name, run in (("a", copy), ("b", byte_copy), ("c", read_back), ("d", verify_source)):
            results[name].append(timed(run))
        print(
            f"round {round_no + 1}: "
            + ", ".join(f"({k}) {v[-1][0]:.2f} s" for k, v in results.items())
        )
    return results


def report(results: dict[str, list[tuple[float, float]]], postgres: bool) -> None:
    def best(key: str) -> tuple[float, float]:
        return min(results[key])

    a, b, c, d = best("a"), best("b"), best("c"), best("d")
    ceiling = "migrations + bare COPY" if postgres else "sqlite3 backup API"
    print()
    print("| measure | wall (best) | CPU (this process) | ceiling | ratio (ceiling / measure) |")
    print("| --- | ---: | ---: | --- | ---: |")
    print(f"| (a) make_copy | {a[0]:.2f} s | {a[1]:.2f} s | (b) {ceiling} "
          f"{b[0]:.3f} s | {b[0] / a[0]:.3f} |")  # fmt: skip
    print(f"| (c) collect_evidence | {c[0]:.2f} s | {c[1]:.2f} s | (d) verify alone "
          f"{d[0]:.2f} s | {d[0] / c[0]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
