"""Soak: minutes of mixed reads and writes at a fixed rate on PostgreSQL with every process of
a deployment running — errors, latency and memory per process over time.

Started on a fresh PostgreSQL database (``pharmaqms init``, a few users with bearer tokens,
seeded documents and deviations, a cold room with 100 sensors):

- two ``pharmaqms serve`` processes on two ports, the clients' threads spread over both
  (``serve --workers 2`` is not used: on a loaded machine uvicorn 0.55's supervisor kills a
  worker that does not answer its health check within 5 s, and a spawned worker that is still
  importing the CLI module — 27 s of wall time at a load of 11 on two cores — never does, so
  the workers are killed and restarted every 5 s and none ever serves);
- ``pharmaqms mqtt run``, the ingest worker, fed by a publisher at ``--readings-per-s``
  (QoS 1, every reading PUBACKed; 2 % above 8 °C, so excursions, alarms and tasks follow);
- ``pharmaqms worker``, the job worker on the PostgreSQL queue (the notices those tasks
  queue, the periodic sweeps).

The load is open-loop at ``--rate`` requests per second (a request is sent at its slot
whether or not the earlier ones were answered; its latency counts from the slot, so a stall
shows): ~70 % reads (the documents and deviations registers, single records, the record
summary, the task list, /me) and ~30 % writes (new controlled documents, new deviations, a
draft submitted for review through the workflow engine). Every ``--interval`` seconds one
sample: requests, errors (any answer ≥ 400 or exception; the first few bodies kept), p50/p99
of that interval, VmRSS of every process (from /proc), readings stored against published,
jobs waiting in the queue.

At the end: ``pharmaqms audit verify`` must say intact, every reading the broker
acknowledged must be stored, and the RSS slope of each process over the second half of the
run (MB/min, least squares) must be under ``--slope-limit``. A PNG (latency p50/p99 and RSS
per process over time) is written to ``--plot``.

The ceiling, in the same run: a bare psycopg loop doing the same number of round trips at the
same rate and the same read/write mix — a one-row SELECT by primary key for a read, a one-row
INSERT and COMMIT for a write — on its own connections, for the same minutes, beside the
soak. Its p50/p99 and the ratio are printed.

    .venv/bin/python bench/bench_soak.py [--minutes 10] [--rate 20] [--readings-per-s 20]
        [--plot docs/soak.png] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("PHARMAQMS_ARGON2_TIME_COST", "1")
os.environ.setdefault("PHARMAQMS_ARGON2_MEMORY_COST", "8")
os.environ.setdefault("PHARMAQMS_ARGON2_PARALLELISM", "1")

import httpx
import psycopg
from bench_concurrent_writes import BODY, PASSWORD, free_port, machine
from bench_mqtt_ingest import SENSORS, publish_in_background, start_broker
from bench_mqtt_workers import add_cold_room, sqlalchemy_url

DATABASE = "bench_soak"
SITE = "SOAK"
USERS = 8
SEED_DOCUMENTS = 20
SEED_DEVIATIONS = 20
ERRORS_KEPT = 5
ROOT = Path(__file__).resolve().parent.parent


# --- processes ------------------------------------------------------------------------------


def pharmaqms_command(*args: str) -> list[str]:
    """The ``pharmaqms`` console script beside this interpreter (PYTHONPATH picks the tree)."""
    script = Path(sys.executable).parent / "pharmaqms"
    if script.exists():
        return [str(script), *args]
    found = shutil.which("pharmaqms")
    if found is None:
        raise SystemExit("no pharmaqms command beside the interpreter or on PATH")
    return [found, *args]


@dataclass
class Started:
    """The processes this run started, each the leader of its own process group."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str], log: Path) -> int:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes[name] = process
        return process.pid

    def adopt(self, name: str, process: subprocess.Popen[bytes]) -> None:
        self.processes[name] = process

    def stop_all(self) -> None:
        """SIGTERM each group (a child that started its own children takes them along), then
        SIGKILL what is still there after a grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)


def signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(x) for x in task.read_text().split()]
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def is_python(pid: int) -> bool:
    try:
        return b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def watched(started: Started) -> dict[str, int]:
    """Name → pid of every process whose memory is followed: the API processes (and any
    uvicorn worker under one, the multiprocessing helpers left out), the ingest and job
    workers."""
    pids: dict[str, int] = {}
    for name in ("serve A", "serve B", "ingest worker", "job worker"):
        pids[name] = leader = started.processes[name].pid
        workers = sorted(
            pid
            for pid in children(leader)
            if is_python(pid) and "resource_tracker" not in cmdline(pid)
        )
        for n, pid in enumerate(workers, 1):
            pids[f"{name} child {n} ({pid})"] = pid
    return pids


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# --- the database ---------------------------------------------------------------------------


def fresh_database(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"


def seed(url: str) -> None:
    """After ``pharmaqms init``: USERS authors (QC analysts), the cold room the publisher's
    sensors sit in, and documents and deviations to read."""
    import pharmaqms.schema  # noqa: F401 - every model mapped before the first query
    from pharmaqms.kernel import auth
    from pharmaqms.kernel.db import Database
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.quality.deviations import service as deviations
    from pharmaqms.quality.documents import service as documents

    database = Database(sqlalchemy_url(url))
    try:
        with unit_of_work(database) as s:
            system = auth.system_actor(s)
            for i in range(USERS):
                auth.add_user(
                    s,
                    actor=system,
                    username=f"author{i}",
                    full_name=f"Author {i}",
                    roles=["qc_analyst"],
                    password=PASSWORD,
                    must_change_password=False,
                    email=f"author{i}@example.com",
                )
            # The QA reviewer the new deviations' and submitted drafts' tasks go to: each
            # task's notice is e-mailed by a job, so the job worker has work.
            auth.add_user(
                s,
                actor=system,
                username="qa0",
                full_name="QA Reviewer",
                roles=["qa"],
                password=PASSWORD,
                must_change_password=False,
                email="qa0@example.com",
            )
        add_cold_room(database)
        with unit_of_work(database) as s:
            user = auth.user_by_username(s, "author0")
            assert user is not None
            author = auth.actor_for(s, user)
            now = datetime.now(UTC)
            for i in range(SEED_DOCUMENTS):
                documents.create_document(
                    s, actor=author, doc_type="sop", title=f"Reference procedure {i}", body=BODY
                )
            for i in range(SEED_DEVIATIONS):
                deviations.report_deviation(
                    s,
                    actor=author,
                    title=f"Reference deviation {i}",
                    description="Label roll changed without line clearance.",
                    area="Packaging",
                    occurred_at=now - timedelta(hours=2),
                    discovered_at=now - timedelta(hours=1),
                )
    finally:
        database.dispose()


def counts(url: str) -> tuple[int, int, int]:
    """(readings stored, jobs waiting, jobs failed)."""
    with psycopg.connect(url) as conn:
        readings = conn.execute("SELECT count(*) FROM sensor_readings").fetchone()
        jobs = conn.execute(
            "SELECT count(*) FILTER (WHERE status::text = 'todo'), "
            "count(*) FILTER (WHERE status::text = 'failed') "
            "FROM procrastinate.procrastinate_jobs"
        ).fetchone()
    assert readings is not None and jobs is not None
    return int(readings[0]), int(jobs[0]), int(jobs[1])


def jobs_done(url: str) -> str:
    """What the job worker did: jobs per task and status."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT task_name, status::text, count(*) FROM procrastinate.procrastinate_jobs "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    return ", ".join(f"{task} {status} {n}" for task, status, n in rows) or "none"


# --- the load -------------------------------------------------------------------------------


@dataclass
class Outcome:
    at: float
    ms: float
    ok: bool
    kind: str


@dataclass
class Recorder:
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, slot: float, ok: bool, kind: str, detail: str = "") -> None:
        done = time.perf_counter()
        with self.lock:
            self.outcomes.append(Outcome(done, (done - slot) * 1000, ok, kind))
            if not ok and len(self.errors) < ERRORS_KEPT:
                self.errors.append(f"{kind}: {detail[:300]}")


@dataclass
class Known:
    """Ids a read may ask for; drafts a write may submit. Filled from the answers."""

    documents: list[int]
    versions: list[int]
    deviations: list[int]
    drafts: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


MIX: list[tuple[str, int]] = [
    ("GET documents register", 12),
    ("GET deviations register", 13),
    ("GET document", 10),
    ("GET deviation", 10),
    ("GET record summary", 10),
    ("GET tasks", 8),
    ("GET me", 7),
    ("POST document", 12),
    ("POST deviation", 12),
    ("POST submit draft", 6),
]
WRITES = {"POST document", "POST deviation", "POST submit draft"}


def operations(seed_value: int) -> Iterator[str]:
    rng = random.Random(seed_value)
    names = [name for name, _ in MIX]
    weights = [w for _, w in MIX]
    while True:
        yield rng.choices(names, weights)[0]


def one_request(http: httpx.Client, kind: str, known: Known, n: int) -> httpx.Response:
    rng = random.Random(n)
    if kind == "GET documents register":
        return http.get("/api/v1/documents", params={"q": "Reference"})
    if kind == "GET deviations register":
        return http.get("/api/v1/deviations", params={"limit": 50})
    if kind == "GET document":
        return http.get(f"/api/v1/documents/{rng.choice(known.documents)}")
    if kind == "GET deviation":
        return http.get(f"/api/v1/deviations/{rng.choice(known.deviations)}")
    if kind == "GET record summary":
        return http.get(f"/api/v1/records/document_version/{rng.choice(known.versions)}")
    if kind == "GET tasks":
        return http.get("/api/v1/tasks")
    if kind == "GET me":
        return http.get("/api/v1/me")
    if kind == "POST deviation":
        now = datetime.now(UTC)
        answer = http.post(
            "/api/v1/deviations",
            json={
                "title": f"Soak deviation {n}",
                "description": "Granulation end point reached late.",
                "area": "Production",
                "occurred_at": (now - timedelta(minutes=30)).isoformat(),
                "discovered_at": now.isoformat(),
            },
        )
        if answer.status_code == 201:
            with known.lock:
                known.deviations.append(int(answer.json()["id"]))
        return answer
    if kind == "POST submit draft":
        with known.lock:
            draft = known.drafts.pop() if known.drafts else None
        if draft is not None:
            return http.post(
                f"/api/v1/records/document_version/{draft}/transitions/submit", json={}
            )
    answer = http.post(
        "/api/v1/documents",
        json={"doc_type": "sop", "title": f"Soak procedure {n}", "body": BODY},
    )
    if answer.status_code == 201:
        body = answer.json()
        with known.lock:
            known.drafts.append(int(body["id"]))
            known.versions.append(int(body["id"]))
            known.documents.append(int(body["document_id"]))
    return answer


def tokens(base: str) -> list[str]:
    found = []
    for i in range(USERS):
        answer = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": f"author{i}", "password": PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        found.append(answer.json()["token"])
    return found


def discover(http: httpx.Client) -> Known:
    documents = http.get("/api/v1/documents", params={"limit": 500}).json()["items"]
    deviations = http.get("/api/v1/deviations", params={"limit": 500}).json()
    versions = []
    for doc in documents:
        current = http.get(f"/api/v1/documents/{doc['id']}").json()
        versions += [int(v["id"]) for v in current.get("versions", [])]
    return Known(
        documents=[int(d["id"]) for d in documents],
        versions=versions or [1],
        deviations=[int(d["id"]) for d in deviations["items"]],
    )


def paced(rate: float, seconds: float, stop: threading.Event) -> Iterator[tuple[int, float]]:
    """(n, slot) at ``rate`` per second for ``seconds``: the open-loop schedule."""
    began = time.perf_counter()
    for n in itertools.count():
        slot = began + n / rate
        if slot - began >= seconds or stop.is_set():
            return
        pause = slot - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        yield n, slot


def drive_api(
    bases: list[str], rate: float, seconds: float, recorder: Recorder, stop: threading.Event
) -> None:
    """Each client thread keeps one connection to one of the API processes (threads spread
    over them like a round-robin proxy's connections) with one user's token."""
    keys = tokens(bases[0])
    local = threading.local()

    def client() -> httpx.Client:
        http: httpx.Client | None = getattr(local, "http", None)
        if http is None:
            n = next(numbering)
            token = keys[n % len(keys)]
            http = httpx.Client(
                base_url=bases[n % len(bases)],
                headers={"authorization": f"Bearer {token}"},
                timeout=60,
            )
            local.http = http
        return http

    numbering = itertools.count()
    with httpx.Client(base_url=bases[0], headers={"authorization": f"Bearer {keys[0]}"}) as http:
        known = discover(http)
    kinds = operations(7)

    def send(n: int, slot: float, kind: str) -> None:
        try:
            answer = one_request(client(), kind, known, n)
            ok = answer.status_code < 400
            recorder.add(slot, ok, kind, f"{answer.status_code} {answer.text}")
        except Exception as exc:  # every failure counts, none stops the run
            recorder.add(slot, False, kind, repr(exc))

    with ThreadPoolExecutor(max_workers=64) as pool:
        for n, slot in paced(rate, seconds, stop):
            pool.submit(send, n, slot, next(kinds))


def drive_bare(
    url: str, rate: float, seconds: float, recorder: Recorder, stop: threading.Event
) -> None:
    """The ceiling: the same mix as bare round trips on psycopg connections of a small pool."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_soak_bare")
        conn.execute("CREATE TABLE bench_soak_bare (id SERIAL PRIMARY KEY, title TEXT, body TEXT)")
        for i in range(SEED_DOCUMENTS):
            conn.execute(
                "INSERT INTO bench_soak_bare (title, body) VALUES (%s, %s)", (f"R {i}", BODY)
            )
    local = threading.local()
    connections: list[psycopg.Connection[Any]] = []
    kinds = operations(7)

    def send(n: int, slot: float, kind: str) -> None:
        try:
            conn: psycopg.Connection[Any] | None = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = psycopg.connect(url)
                connections.append(conn)
            if kind in WRITES:
                conn.execute(
                    "INSERT INTO bench_soak_bare (title, body) VALUES (%s, %s)", (f"S {n}", BODY)
                )
            else:
                conn.execute(
                    "SELECT id, title, body FROM bench_soak_bare WHERE id = %s",
                    (n % SEED_DOCUMENTS + 1,),
                ).fetchone()
            conn.commit()
            recorder.add(slot, True, kind)
        except Exception as exc:
            recorder.add(slot, False, kind, repr(exc))

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for n, slot in paced(rate, seconds, stop):
                pool.submit(send, n, slot, next(kinds))
    finally:
        for conn in connections:
            conn.close()


# --- samples and the report -----------------------------------------------------------------


@dataclass
class Sample:
    t: float
    requests: int
    errors: int
    p50: float
    p99: float
    rss: dict[str, float]
    published: int
    stored: int
    jobs_waiting: int
    jobs_failed: int


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    if len(points) < 2:
        return float("nan")
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60


def plot(samples: list[Sample], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.t / 60 for s in samples]
    figure, (latency, work, memory) = plt.subplots(
        3, 1, figsize=(9, 9), sharex=True, height_ratios=(3, 2, 3)
    )
    latency.plot(minutes, [s.p50 for s in samples], label="p50")
    latency.plot(minutes, [s.p99 for s in samples], label="p99")
    latency.set_ylabel("API latency, ms")
    latency.set_yscale("log")
    latency.legend()
    latency.set_title(title, fontsize=9)
    work.plot(minutes, [s.requests for s in samples], label="requests answered")
    work.plot(minutes, [s.errors for s in samples], label="errors", color="red")
    work.plot(minutes, [s.published - s.stored for s in samples], label="readings not yet stored")
    work.plot(minutes, [s.jobs_waiting for s in samples], label="jobs waiting")
    work.set_ylabel("per sample")
    work.legend(fontsize=7)
    names = sorted({name for s in samples for name in s.rss})
    for name in names:
        memory.plot(
            [s.t / 60 for s in samples if name in s.rss],
            [s.rss[name] for s in samples if name in s.rss],
            label=name,
        )
    memory.set_ylabel("RSS, MB")
    memory.set_xlabel("minutes")
    memory.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


@contextmanager
def sampling(
    interval: float, take: Callable[[float], Sample], samples: list[Sample]
) -> Iterator[None]:
    stop = threading.Event()
    began = time.perf_counter()

    def loop() -> None:
        while not stop.wait(interval - (time.perf_counter() - began) % interval):
            sample = take(time.perf_counter() - began)
            samples.append(sample)
            rss = ", ".join(f"{k.split(' (')[0]} {v:.0f}" for k, v in sample.rss.items())
            print(
                f"  {sample.t:5.0f} s  {sample.requests:4d} req  {sample.errors} err  "
                f"p50 {sample.p50:6.1f}  p99 {sample.p99:7.1f} ms  readings "
                f"{sample.stored}/{sample.published}  jobs {sample.jobs_waiting} waiting "
                f"{sample.jobs_failed} failed  RSS MB: {rss}",
                flush=True,
            )

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="length of the soak (default 10; 1 is quick)"
    )
    parser.add_argument(
        "--rate", type=float, default=20.0, help="API requests per second, open loop (20)"
    )
    parser.add_argument(
        "--readings-per-s",
        type=float,
        default=20.0,
        help="sensor readings published per second (20)",
    )
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (10)")
    parser.add_argument(
        "--slope-limit",
        type=float,
        default=1.0,
        help="RSS growth over the second half, MB per minute, under which memory is flat (1)",
    )
    parser.add_argument(
        "--plot", type=Path, default=ROOT / "docs" / "soak.png", help="the PNG written at the end"
    )
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help=f"a PostgreSQL superuser's URL; the database {DATABASE} is dropped and created",
    )
    args = parser.parse_args()
    seconds = args.minutes * 60
    # Ctrl-C and SIGTERM end the run through the ``finally`` that stops every process it
    # started (a shell's background job would otherwise ignore SIGINT; SIGTERM would skip it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # a log to follow while it runs

    print(f"machine: {machine()}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    started = Started()
    url = fresh_database(args.admin_url)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "PHARMAQMS_DATABASE_URL": sqlalchemy_url(url),
        "PHARMAQMS_KEY_FILE": str(workdir / "soak.key"),
        "PHARMAQMS_ADMIN_PASSWORD": PASSWORD,
    }
    os.environ["PHARMAQMS_KEY_FILE"] = env["PHARMAQMS_KEY_FILE"]
    try:
        subprocess.run(pharmaqms_command("init"), env=env, check=True, stdout=subprocess.DEVNULL)
        seed(url)
        # A mail sink (the standard library's debugging SMTP server, Python ≤ 3.11) for the
        # job worker's notices.
        smtp_port = free_port()
        sink = [sys.executable, "-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer"]
        started.start("mail sink", [*sink, f"127.0.0.1:{smtp_port}"], env, workdir / "mail.log")
        env |= {
            "PHARMAQMS_SMTP_HOST": "127.0.0.1",
            "PHARMAQMS_SMTP_PORT": str(smtp_port),
            "PHARMAQMS_SMTP_TLS": "none",
            "PHARMAQMS_SMTP_SENDER": "qms@example.com",
        }
        broker, mqtt_port = start_broker(workdir)
        started.adopt("broker", broker)
        env["PHARMAQMS_MQTT_URL"] = f"mqtt://127.0.0.1:{mqtt_port}"
        bases = []
        for name in ("serve A", "serve B"):
            port = free_port()
            bases.append(f"http://127.0.0.1:{port}")
            command = pharmaqms_command("serve", "--port", str(port))
            started.start(name, command, env, workdir / f"{name.replace(' ', '-')}.log")
        started.start(
            "ingest worker",
            pharmaqms_command("mqtt", "run", "--client-id", "soak-ingest"),
            env,
            workdir / "ingest.log",
        )
        started.start("job worker", pharmaqms_command("worker"), env, workdir / "jobs.log")
        for base in bases:
            wait_for(base)
        time.sleep(3)  # the ingest worker subscribes before the first reading
        readings = int(seconds * args.readings_per_s)
        publisher = publish_in_background(mqtt_port, SITE, readings, args.readings_per_s)
        started.adopt("publisher", publisher)
        soak(args, seconds, readings, url, bases, started, workdir)
    finally:
        started.stop_all()
        print(f"logs: {workdir}")


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start")


def soak(
    args: argparse.Namespace,
    seconds: float,
    readings: int,
    url: str,
    bases: list[str],
    started: Started,
    workdir: Path,
) -> None:
    api, bare = Recorder(), Recorder()
    stop = threading.Event()
    samples: list[Sample] = []
    began = time.perf_counter()
    seen = [0]

    def take(t: float) -> Sample:
        with api.lock:
            fresh = api.outcomes[seen[0] :]
            seen[0] = len(api.outcomes)
        ms = [o.ms for o in fresh if o.ok]
        stored, waiting, failed = counts(url)
        rss = {name: mb for name, pid in watched(started).items() if (mb := rss_mb(pid))}
        return Sample(
            t=t,
            requests=len(fresh),
            errors=sum(not o.ok for o in fresh),
            p50=percentile(ms, 50),
            p99=percentile(ms, 99),
            rss=rss,
            published=min(readings, int(t * args.readings_per_s)),
            stored=stored,
            jobs_waiting=waiting,
            jobs_failed=failed,
        )

    print(
        f"soak: {args.minutes:g} min, {args.rate:g} requests/s (open loop), "
        f"{args.readings_per_s:g} readings/s from {SENSORS} sensors; 2 × serve, "
        "mqtt run, worker; PostgreSQL"
    )
    # The ceiling runs in a process of its own: beside the 64 client threads it would wait
    # for this interpreter's lock and time that instead of PostgreSQL.
    ceiling: subprocess.Popen[bytes] = subprocess.Popen(
        [sys.executable, __file__, "--bare-ceiling", url, str(args.rate), str(seconds)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    started.adopt("ceiling", ceiling)
    with sampling(args.interval, take, samples):
        try:
            drive_api(bases, args.rate, seconds, api, stop)
        finally:
            stop.set()  # on Ctrl-C, the ceiling is not waited for: it is stopped with the rest
        out, _ = ceiling.communicate(timeout=seconds + 120)
        for line in out.decode().splitlines():
            ms, ok, kind = line.split("\t")
            bare.outcomes.append(Outcome(0.0, float(ms), ok == "1", kind))
        publisher = started.processes["publisher"]
        published_ok = publisher.wait(timeout=120) == 0
        settle = time.monotonic() + 30
        while counts(url)[0] < readings and time.monotonic() < settle:
            time.sleep(1)
    took = time.perf_counter() - began
    report(args, samples, api, bare, took, readings, published_ok, url, workdir)


def report(
    args: argparse.Namespace,
    samples: list[Sample],
    api: Recorder,
    bare: Recorder,
    took: float,
    readings: int,
    published_ok: bool,
    url: str,
    workdir: Path,
) -> None:
    env = {**os.environ, "PHARMAQMS_DATABASE_URL": sqlalchemy_url(url)}
    verify = subprocess.run(
        pharmaqms_command("audit", "verify"), env=env, capture_output=True, text=True
    )
    stored, waiting, failed = counts(url)
    ok_ms = [o.ms for o in api.outcomes if o.ok]
    bare_ms = [o.ms for o in bare.outcomes if o.ok]
    errors = sum(not o.ok for o in api.outcomes)
    print(f"\nmachine after: {machine()}")
    print(f"ran {took / 60:.1f} min; {len(api.outcomes)} API requests, {errors} errors")
    for line in api.errors:
        print(f"    error: {line}")
    p50, p99 = percentile(ok_ms, 50), percentile(ok_ms, 99)
    b50, b99 = percentile(bare_ms, 50), percentile(bare_ms, 99)
    print(f"{'':<34} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'API, whole run':<34} {len(ok_ms):>7} {p50:>8.1f} {p99:>8.1f}")
    for kind, _ in MIX:
        ms = [o.ms for o in api.outcomes if o.ok and o.kind == kind]
        print(f"  {kind:<32} {len(ms):>7} {percentile(ms, 50):>8.1f} {percentile(ms, 99):>8.1f}")
    print(f"{'bare psycopg (ceiling)':<34} {len(bare_ms):>7} {b50:>8.2f} {b99:>8.2f}")
    print(f"API / ceiling: p50 ×{p50 / b50:.0f}, p99 ×{p99 / b99:.0f}")
    print(
        f"readings: {readings} published, publisher "
        f"{'got every PUBACK' if published_ok else 'FAILED'}, {stored} stored "
        f"({'all' if stored == readings else 'MISMATCH'})"
    )
    print(f"jobs at the end: {waiting} waiting, {failed} failed; all: {jobs_done(url)}")
    print(f"this driver's CPU (clients, sampling): {time.process_time():.0f} s")
    half = samples[len(samples) // 2 :]
    print(f"RSS slope over the second half (limit {args.slope_limit:g} MB/min):")
    flat = True
    for name in sorted({n for s in samples for n in s.rss}):
        points = [(s.t, s.rss[name]) for s in half if name in s.rss]
        slope = slope_mb_per_min(points)
        first = next(s.rss[name] for s in samples if name in s.rss)
        last = next(s.rss[name] for s in reversed(samples) if name in s.rss)
        verdict = "flat" if abs(slope) < args.slope_limit else "GROWING"
        flat = flat and verdict == "flat"
        print(f"    {name:<28} {first:6.0f} → {last:6.0f} MB  {slope:+6.2f} MB/min  {verdict}")
    intact = verify.returncode == 0
    print(f"audit verify: {'intact' if intact else 'NOT INTACT'} — {verify.stdout.strip()[:300]}")
    if samples:
        title = (
            f"soak {took / 60:.1f} min, {args.rate:g} req/s + {args.readings_per_s:g} "
            f"readings/s, {errors} errors; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot(samples, args.plot, title)
        print(f"plot: {args.plot}")
    goal = errors == 0 and flat and intact and stored == readings and published_ok
    print(
        f"goal (0 errors, flat memory, verify intact, every reading stored): "
        f"{'MET' if goal else 'NOT MET'}"
    )
    (workdir / "samples.txt").write_text("\n".join(repr(s) for s in samples))


def bare_ceiling(url: str, rate: float, seconds: float) -> None:
    """The ceiling's process: prints one line a round trip (ms, ok, kind)."""
    recorder = Recorder()
    drive_bare(url, rate, seconds, recorder, threading.Event())
    for o in recorder.outcomes:
        print(f"{o.ms:.3f}\t{int(o.ok)}\t{o.kind}")
    for line in recorder.errors:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--bare-ceiling":
        bare_ceiling(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
