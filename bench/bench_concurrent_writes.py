"""Concurrent record creation over HTTP: what the audit chain's single head costs many writers.

A real server (uvicorn, ``--workers N`` processes) on PostgreSQL; 16 client threads, each with
its own bearer token and connection, create controlled documents (POST /api/v1/documents: a
numbered, audited document and its first version) as fast as they are answered, for a fixed
time. Reported per worker count: creates per second, p50/p95/p99 latency, errors, and after
the run the audit chain verified and the documents counted against the 201 answers.

The ceiling, in the same run and database: the same 16 threads each doing a bare one-row
INSERT and COMMIT on their own psycopg connection — what PostgreSQL on this machine gives to
16 writers at the very least, with no HTTP, no ORM, no audit.

Also printed: the CPU each create cost the clients, the server and PostgreSQL, and what the
server's connections were doing (``pg_stat_activity`` sampled: waiting for which lock, in a
transaction, between transactions). ``--kinds N`` cycles the creates through N document kinds,
each numbered by a counter row of its own; the default, SOPs only, is the issue's measure.

    .venv/bin/python bench/bench_concurrent_writes.py [--clients 16] [--seconds 20]
        [--workers 1 2 4] [--kinds 1] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--plot docs/concurrent_writes.png]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import httpx
import psycopg

DATABASE = "bench_concurrent"
PASSWORD = "Bench-Passw0rd!x"
# Document kinds numbered by counters of their own (SOP-…, WI-…, …): ``--kinds N`` spreads the
# creates over the first N, as a site's creates of several record types spread over theirs.
KINDS = ("sop", "work_instruction", "specification", "form", "policy")
BODY = "1. Purpose\n\nCleaning of the tablet press after each batch.\n\n2. Steps ...\n" * 8


@dataclass
class Result:
    label: str
    creates: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu: dict[str, float] | None = None
    waits: list[str] | None = None

    @property
    def rate(self) -> float:
        return self.creates / self.seconds

    def pct(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load {load}, Python {platform.python_version()}"


def fresh_database(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"


def set_up(url: str, clients: int) -> None:
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.bootstrap import initialise
    from pharmaqms.kernel.db import Database
    from pharmaqms.kernel.uow import unit_of_work

    database = Database(url.replace("postgresql://", "postgresql+psycopg://"))
    initialise(database, admin_password=PASSWORD)
    with unit_of_work(database) as s:
        for i in range(clients):
            auth.add_user(
                s,
                actor=auth.system_actor(s),
                username=f"author{i}",
                full_name=f"Author {i}",
                roles=["qc_analyst"],
                password=PASSWORD,
                must_change_password=False,
            )
    database.dispose()


# --- where the CPU goes: the clients, the server's processes, PostgreSQL's ------------------------
TICK = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[str, int, float]]:
    """Every process now: name, parent, CPU seconds used (user + system) so far."""
    found: dict[int, tuple[str, int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        fields = raw[raw.rindex(")") + 2 :].split()
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        found[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return found


def cpu_used(
    before: dict[int, tuple[str, int, float]],
    after: dict[int, tuple[str, int, float]],
    server: int,
) -> dict[str, float]:
    """CPU seconds between two snapshots, split into this process (the clients), the server's
    process tree and PostgreSQL's processes (a backend that started in between counts from 0;
    one that ended in between is lost — the server keeps its connections for the run)."""

    def in_tree(pid: int) -> bool:
        while pid in after and pid > 1:
            if pid == server:
                return True
            pid = after[pid][1]
        return False

    used = {"clients": 0.0, "server": 0.0, "postgres": 0.0}
    for pid, (name, _parent, cpu) in after.items():
        earlier = before.get(pid)
        spent = cpu - (earlier[2] if earlier is not None and earlier[0] == name else 0.0)
        if pid == os.getpid():
            used["clients"] += spent
        elif in_tree(pid):
            used["server"] += spent
        elif name.startswith("postgres"):
            used["postgres"] += spent
    return used


# --- where the requests wait: PostgreSQL's view of the server's connections ---------------------


class WaitSampler:
    """Samples ``pg_stat_activity`` every 20 ms while the clients run: on average how many of
    the server's connections were waiting for a lock (and on which statement), inside an open
    transaction with the server's Python to answer, or idle. A row lock that serialises the
    creates shows as most connections waiting on one statement."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = (
            "SELECT wait_event_type, state, left(query, 48) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                for wait, state, text in conn.execute(query, (DATABASE,)):
                    if wait == "Lock":
                        self.seen[f"waiting for a lock: {text}"] += 1
                    elif state == "idle in transaction":
                        self.seen["in a transaction, the server's Python at work"] += 1
                    elif state == "active":
                        self.seen["PostgreSQL at work"] += 1
                    else:
                        self.seen[f"{state} (between transactions)"] += 1
                self.samples += 1

    def summary(self, top: int = 4) -> list[str]:
        if not self.samples:
            return []
        return [f"{n / self.samples:5.2f}  {what}" for what, n in self.seen.most_common(top)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    url: str, workers: int, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "pharmaqms.web.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # a loaded machine starts N workers slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code < 500:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start")


def hammer(base: str, clients: int, seconds: float, kinds: int = 1) -> Result:
    tokens = []
    for i in range(clients):
        answer = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": f"author{i}", "password": PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        tokens.append(answer.json()["token"])
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        with httpx.Client(
            base_url=base, headers={"authorization": f"Bearer {tokens[i]}"}, timeout=60
        ) as http:
            start.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                answer = http.post(
                    "/api/v1/documents",
                    json={
                        "doc_type": KINDS[(i + n) % kinds],
                        "title": f"Procedure {i}-{n}",
                        "body": BODY,
                    },
                )
                if answer.status_code == 201:
                    latencies[i].append((time.perf_counter() - began) * 1000)
                else:
                    errors[i] += 1
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Result("", len(flat), sum(errors), took, flat)


def bare_inserts(url: str, clients: int, seconds: float) -> Result:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare")
        conn.execute("CREATE TABLE bench_bare (id SERIAL PRIMARY KEY, title TEXT, body TEXT)")
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        with psycopg.connect(url) as conn:
            start.wait()
            n = 0
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                conn.execute(
                    "INSERT INTO bench_bare (title, body) VALUES (%s, %s)", (f"P {i}-{n}", BODY)
                )
                conn.commit()
                latencies[i].append((time.perf_counter() - began) * 1000)
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return Result("bare INSERT+COMMIT (ceiling)", len(flat), 0, took, flat)


def check_afterwards(url: str, answered: int) -> str:
    from pharmaqms.kernel.db import Database
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.kernel.verify import verify

    database = Database(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with unit_of_work(database, write=False) as s:
            report = verify(s)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM documents").fetchone()
            stored = int(row[0]) if row else -1
    finally:
        database.dispose()
    return (
        f"audit {'intact' if report.intact else 'NOT INTACT'}; "
        f"{stored} documents stored for {answered} answered 201"
    )


def plot(results: list[Result], ceiling: Result, clients: int, path: Path, kinds: int = 1) -> None:
    """Creates per second and p95 latency against the number of worker processes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workers = [int(r.label.split(", ")[1].split(" ")[0]) for r in results]
    figure, (rate, p95) = plt.subplots(1, 2, figsize=(9, 3.4))
    rate.plot(workers, [r.rate for r in results], marker="o", label="creates/s")
    rate.axhline(300, color="tab:red", linestyle="--", linewidth=1, label="goal: 300/s")
    rate.set(xlabel="API worker processes", ylabel="creates per second", ylim=(0, None))
    rate.set_xticks(workers)
    rate.legend(loc="lower right", fontsize=8)
    p95.plot(workers, [r.pct(95) for r in results], marker="o", color="tab:orange", label="p95")
    p95.plot(workers, [r.pct(50) for r in results], marker="o", color="tab:green", label="p50")
    p95.axhline(100, color="tab:red", linestyle="--", linewidth=1, label="goal: p95 < 100 ms")
    p95.set(xlabel="API worker processes", ylabel="latency (ms)", ylim=(0, None))
    p95.set_xticks(workers)
    p95.legend(loc="upper right", fontsize=8)
    figure.suptitle(
        f"POST /api/v1/documents ({', '.join(KINDS[:kinds])}), {clients} clients, "
        f"PostgreSQL — {machine()}\n"
        f"ceiling (bare INSERT+COMMIT): {ceiling.rate:,.0f}/s, p95 {ceiling.pct(95):.1f} ms",
        fontsize=8,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    print(f"    plot written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--plot", type=Path, help="a PNG of rate and latency against workers")
    parser.add_argument(
        "--kinds",
        type=int,
        default=1,
        choices=range(1, len(KINDS) + 1),
        help="document kinds the creates cycle through, each numbered by its own counter "
        "(1: SOPs only, the issue's measure)",
    )
    args = parser.parse_args()
    print(f"concurrent creates over HTTP on PostgreSQL — {machine()}")
    keys = tempfile.TemporaryDirectory(prefix="bench-keys-")
    env = {
        **os.environ,
        "PHARMAQMS_KEY_FILE": str(Path(keys.name) / "bench.key"),
    }
    os.environ["PHARMAQMS_KEY_FILE"] = env["PHARMAQMS_KEY_FILE"]
    from pharmaqms.kernel.keys import create_key_file
    from pharmaqms.kernel.settings import reset_settings_cache

    reset_settings_cache()
    create_key_file()
    results: list[Result] = []
    for workers in args.workers:
        url = fresh_database(args.admin_url)
        set_up(url, args.clients)
        env["PHARMAQMS_DATABASE_URL"] = url.replace("postgresql://", "postgresql+psycopg://")
        server, base = start_server(url, workers, env)
        try:
            before = processes()
            with WaitSampler(url) as waits:
                result = hammer(base, args.clients, args.seconds, args.kinds)
            result.cpu = cpu_used(before, processes(), server.pid)
            result.waits = waits.summary()
        finally:
            server.terminate()
            server.wait(timeout=30)
        result.label = f"POST /api/v1/documents, {workers} worker(s)" + (
            f", {args.kinds} kinds" if args.kinds > 1 else ""
        )
        results.append(result)
        print(f"    {result.label}: {check_afterwards(url, result.creates)}")
    url = fresh_database(args.admin_url)
    ceiling = bare_inserts(url, args.clients, args.seconds)
    results.append(ceiling)
    print(f"\n{args.clients} clients, {args.seconds:.0f} s each")
    print(f"    {'':<44} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(
            f"    {r.label:<44} {r.rate:>8.1f} {r.pct(50):>8.1f} {r.pct(95):>8.1f} "
            f"{r.pct(99):>8.1f} {r.errors:>7}"
        )
    for r in results[:-1]:
        print(f"    {r.label}: {r.rate / ceiling.rate:.3f} of the ceiling's rate")
    print("\n    CPU per create (ms): the clients, the server's processes, PostgreSQL")
    for r in results[:-1]:
        if r.cpu and r.creates:
            parts = ", ".join(f"{k} {v * 1000 / r.creates:.2f}" for k, v in r.cpu.items())
            total = sum(r.cpu.values())
            print(
                f"    {r.label}: {parts}; all {total * 1000 / r.creates:.2f} "
                f"({total / r.seconds:.2f} of {os.cpu_count()} cores busy)"
            )
    print("\n    the server's connections, on average over the run (pg_stat_activity every 20 ms)")
    for r in results[:-1]:
        print(f"    {r.label}:")
        for line in r.waits or []:
            print(f"        {line}")
    if args.plot:
        plot(results[:-1], ceiling, args.clients, args.plot, args.kinds)
    keys.cleanup()


if __name__ == "__main__":
    main()
