"""The Python cost of one record create, in process: what each of the server's creates spends
on CPU before any waiting for locks or for a core.

POST /api/v1/documents (a numbered, audited SOP and its first version) through an in-process
ASGI client (httpx over httpx.ASGITransport: no network, no server) on the same PostgreSQL as
``bench_concurrent_writes.py``, one after another. Prints the CPU time per create and, with
``--profile``, the functions that cost the most (cProfile, by own time and by cumulative time).

    .venv/bin/python bench/profile_create.py [--creates 500] [--profile]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_concurrent_writes import BODY, PASSWORD, fresh_database, set_up

WARM_UP = 30


def inline_threadpool() -> None:
    """Run FastAPI's sync endpoints and dependencies in the event loop's thread: cProfile sees
    one thread only, and the requests here come one after another anyway."""
    import fastapi.dependencies.utils
    import fastapi.routing

    async def inline(func: Any, *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--only", default="", help="list only functions whose path contains this (pharmaqms)"
    )
    args = parser.parse_args()

    from pharmaqms.kernel.settings import reset_settings_cache

    with tempfile.TemporaryDirectory(prefix="pqms-profile-") as tmp:
        os.environ["PHARMAQMS_KEY_FILE"] = str(Path(tmp) / "bench.key")
        url = fresh_database(args.admin_url)
        os.environ["PHARMAQMS_DATABASE_URL"] = url.replace("postgresql://", "postgresql+psycopg://")
        reset_settings_cache()
        set_up(url, 1)

        from pharmaqms.kernel.db import Database
        from pharmaqms.web.app import create_app

        if args.profile:
            inline_threadpool()

        database = Database(os.environ["PHARMAQMS_DATABASE_URL"])
        app = create_app(database)

        async def run() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                token = (
                    await client.post(
                        "/api/v1/auth/token", json={"username": "author0", "password": PASSWORD}
                    )
                ).json()["token"]
                headers = {"authorization": f"Bearer {token}"}

                async def create(n: int) -> None:
                    answer = await client.post(
                        "/api/v1/documents",
                        headers=headers,
                        json={"doc_type": "sop", "title": f"Cleaning {n}", "body": BODY},
                    )
                    assert answer.status_code == 201, answer.text

                for n in range(WARM_UP):
                    await create(n)
                profiler = cProfile.Profile(time.process_time) if args.profile else None
                wall, cpu = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                for n in range(args.creates):
                    await create(WARM_UP + n)
                if profiler is not None:
                    profiler.disable()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                print(
                    f"{args.creates} creates: {wall / args.creates * 1e3:.2f} ms wall, "
                    f"{cpu / args.creates * 1e3:.2f} ms CPU of this process per create "
                    f"(client and server; load {os.getloadavg()[0]:.1f})"
                    + (" — under cProfile" if profiler else "")
                )
                if profiler is not None:
                    stats = pstats.Stats(profiler)
                    only = [args.only] if args.only else []
                    stats.sort_stats("tottime").print_stats(*only, args.top)
                    stats.sort_stats("cumulative").print_stats(*only, args.top)

        try:
            asyncio.run(run())
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
