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

    .venv/bin/python bench/bench_sandbox_copy.py [--scale 0.2] [--rounds 3] [--source FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
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

PASSWORD = "Quarantine-Lot-77!"


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


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
        sandbox_copy._copy_into = lambda live, copy, progress: sandbox_copy.copy_portable(
            live, copy, progress
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
    print(f"machine: {machine()}; Python {platform.python_version()}")
    print(f"source: {size / 1e6:.1f} MB, {entries:,} audit entries; draft {number}")

    results: dict[str, list[tuple[float, float]]] = {"a": [], "b": [], "c": [], "d": []}
    for round_no in range(args.rounds):
        target = f"sqlite:///{folder / f'copy-{round_no}.db'}"
        bare = folder / f"bare-{round_no}.db"
        made: list[int] = []

        def copy(target: str = target, made: list[int] = made) -> None:
            made.append(
                sandbox_copy.make_copy(live, actor=actor, number=number, target_url=target).id
            )

        def byte_copy(bare: Path = bare) -> None:
            with sqlite3.connect(source) as src, sqlite3.connect(bare) as dst:
                src.backup(dst)

        def read_back(target: str = target, made: list[int] = made) -> None:
            sandbox_copy.collect_evidence(live, actor=actor, copy_id=made[0], copy_url=target)

        def verify_source() -> None:
            with unit_of_work(live, write=False) as session:
                assert verify(session).intact

        for name, run in (("a", copy), ("b", byte_copy), ("c", read_back), ("d", verify_source)):
            results[name].append(timed(run))
        print(
            f"round {round_no + 1}: "
            + ", ".join(f"({k}) {v[-1][0]:.2f} s" for k, v in results.items())
        )

    def best(key: str) -> tuple[float, float]:
        return min(results[key])

    a, b, c, d = best("a"), best("b"), best("c"), best("d")
    print()
    print("| measure | wall (best) | CPU | ceiling | ratio (ceiling / measure) |")
    print("| --- | ---: | ---: | --- | ---: |")
    print(f"| (a) make_copy | {a[0]:.2f} s | {a[1]:.2f} s | (b) sqlite3 backup API "
          f"{b[0]:.3f} s | {b[0] / a[0]:.3f} |")  # fmt: skip
    print(f"| (c) collect_evidence | {c[0]:.2f} s | {c[1]:.2f} s | (d) verify alone "
          f"{d[0]:.2f} s | {d[0] / c[0]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
