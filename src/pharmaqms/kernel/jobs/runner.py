"""The job runner: background and scheduled work on procrastinate.

Why procrastinate: the queue is a PostgreSQL table, so production needs no broker beside the
database it already runs, and a job deferred there survives any process. Workers take jobs
with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never take one job), beat a heartbeat, and
a job whose worker stopped beating is queued again by :func:`requeue_stalled` (at-least-once).
Retries wait with an exponential back-off (:class:`Backoff`, read from the settings); periodic
tasks are deferred once per tick across all workers (a unique row per tick). It speaks psycopg 3,
which the project already uses, and it is typed and maintained. (dramatiq on RabbitMQ was the
alternative; it would have added a broker to run and watch, and its jobs are not rows a page can
list beside their history.)

Two ways to run, chosen by the database:

- **PostgreSQL**: jobs go to procrastinate's tables (migration ``0020_kernel_jobs`` applies its
  schema); ``pharmaqms worker`` processes run them, as many as wanted.
- **SQLite** (the embedded default): procrastinate has no SQLite connector, so the same tasks
  run in process on its in-memory connector: ``pharmaqms serve`` starts a worker thread beside
  the web server (:class:`InProcessWorker`), with the same retries and periodic schedule. A
  process with no worker thread (a command-line run, a test) runs a job in the calling thread
  once its transaction has committed. The in-memory queue is lost when the process ends; that
  loses nothing, because the durable state is in our own tables (the notification outbox, the
  EPCIS delivery log, the tasks), and the periodic sweep takes up whatever is still waiting.

Every job is idempotent: run twice, it does no harm. A delivery job claims its outbox rows
before sending (:func:`current_claim` names the job, so the same job run again after its worker
died may take its own claims back), and the daily jobs find nothing left to do the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, TypeVar

import procrastinate
from procrastinate import JobContext, RetryDecision
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task
from procrastinate.testing import InMemoryConnector
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database, database_of, get_database
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import after_commit, unit_of_work

log = logging.getLogger("pharmaqms.jobs")

DELIVERIES: Final = "deliveries"  # e-mail and webhooks: short, many, retried
SCHEDULE: Final = "schedule"  # the periodic sweeps and the daily jobs
QUEUES: Final = (DELIVERIES, SCHEDULE)
# The PostgreSQL schema of procrastinate's tables and functions (migration 0020_kernel_jobs).
SCHEMA: Final = "procrastinate"

F = TypeVar("F", bound=Callable[..., Any])


class Backoff(procrastinate.BaseRetryStrategy):
    """Try a failed job again after ``jobs_retry_seconds × 2^(attempts so far)``, until
    ``jobs_max_attempts``; then it stays failed for a person to retry. Read from the settings
    at each failure, so an operator's change applies without redeclaring the tasks."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        settings = get_settings()
        if job.attempts + 1 >= settings.jobs_max_attempts:
            return None
        wait = settings.jobs_retry_seconds * 2**job.attempts
        return RetryDecision(retry_in={"seconds": wait})


# One application for the process. Its connector is replaced by ``bind`` with the database the
# process works on; tasks are declared on it at import time by the modules that own them.
_memory = InMemoryConnector()
app = procrastinate.App(connector=_memory)


@dataclass
class _Binding:
    url: str
    database: Database
    connector: Any  # the worker's (asynchronous) connector
    # Deferring from ordinary threads (a web request, a command) goes through a synchronous
    # pool of its own, opened at the first use: the worker's pool lives in its event loop.
    sync_connector: Any = None
    sync_open: bool = False

    def manager(self) -> JobManager:
        if self.sync_connector is None:
            return app.job_manager
        if not self.sync_open:
            self.sync_connector.open()
            self.sync_open = True
        return JobManager(self.sync_connector)


_binding: _Binding | None = None
_bind_lock = threading.Lock()
_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_QUEUE_OF: dict[str, str] = {}
_current_claim: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pharmaqms_job_claim", default=None
)
_in_process: InProcessWorker | None = None
# The errors of failed attempts on the in-memory queue (on PostgreSQL: the job_failures table).
_memory_failures: dict[int, list[tuple[int, str]]] = {}


def conninfo(url: str) -> str:
    """The libpq URL of an SQLAlchemy PostgreSQL URL (procrastinate speaks psycopg directly)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bind(database: Database | None = None, *, pool_size: int = 4) -> Database:
    """Point the job application at ``database`` (the process's default when None)."""
    global _binding
    database = database or get_database()
    with _bind_lock:
        if _binding is not None and _binding.url == database.url:
            _binding.database = database
            return database
        if _binding is not None and _binding.sync_open:
            _binding.sync_connector.close()
        sync_connector = None
        if database.dialect == "postgresql":
            info = conninfo(database.url)
            connect = {"options": f"-c search_path={SCHEMA}"}
            connector: Any = procrastinate.PsycopgConnector(
                conninfo=info, min_size=1, max_size=pool_size, kwargs=connect
            )
            sync_connector = procrastinate.SyncPsycopgConnector(
                conninfo=info, min_size=1, max_size=2, kwargs=connect
            )
        else:
            connector = _memory
            if _in_process is None or not _in_process.running:
                # The in-memory queue holds one database's jobs: another database's must not
                # be listed on this one's page, nor run against it.
                _memory.reset()
                _memory_failures.clear()
        app.connector = connector
        app.job_manager.connector = connector
        _binding = _Binding(database.url, database, connector, sync_connector)
        return database


def unbind(url: str) -> None:
    """Forget the binding to the database at ``url`` and close its synchronous pool: a
    database about to be dropped or reset (its connections terminated) must not leave pooled
    connections a later bind to the same URL would take up again."""
    global _binding
    with _bind_lock:
        if _binding is None or _binding.url != url:
            return
        if _binding.sync_open:
            _binding.sync_connector.close()
        _binding = None


def is_durable(database: Database | None = None) -> bool:
    """True where jobs wait in PostgreSQL for ``pharmaqms worker``; False: run in process."""
    return (database or job_database()).dialect == "postgresql"


def job_database() -> Database:
    """The database the jobs of this process work on."""
    return _binding.database if _binding is not None else get_database()


def sync_manager() -> JobManager:
    """procrastinate's job manager for ordinary (synchronous) threads."""
    binding = _binding
    if binding is None:
        bind()
        binding = _binding
    assert binding is not None
    with _bind_lock:
        return binding.manager()


def current_claim() -> str:
    """The name a running job claims outbox rows under: the same for every run of one queued
    job (so a run after its worker died can take the claims back), unique for a job run in
    the calling thread."""
    return _current_claim.get() or f"inline:{uuid.uuid4().hex[:20]}"


# --- declaring tasks -------------------------------------------------------------------------


def _record_failure(job_id: int | None, name: str, attempt: int, worker: str, err: str) -> None:
    try:
        database = job_database()
        if job_id is None:
            return
        if database.dialect != "postgresql":
            _memory_failures.setdefault(job_id, []).append((attempt, err))
            return
        from pharmaqms.kernel.jobs.models import JobFailure

        with unit_of_work(database) as session:
            session.add(
                JobFailure(
                    job_id=job_id,
                    task_name=name,
                    attempt=attempt,
                    failed_at=clock.now(),
                    worker=worker[:120],
                    error=err,
                )
            )
    except Exception:
        log.exception("could not record the failure of job %s (%s)", job_id, name)


def _describe(err: BaseException) -> str:
    last = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(err).__name__}: {err}{where}"[:4000]


def job(name: str, *, queue: str = DELIVERIES) -> Callable[[F], F]:
    """Declare ``func`` as the job ``name``, run by a worker with the retries of
    :class:`Backoff`. ``func`` takes keyword arguments that JSON can carry and must be
    idempotent. When it runs on a clock is said once, in ``pharmaqms.schedule``."""

    def register(func: F) -> F:
        def run(context: JobContext, /, **kwargs: Any) -> Any:
            kwargs.pop("timestamp", None)  # what procrastinate passes a periodic task
            queued = context.job
            token = _current_claim.set(f"job:{queued.id}")
            try:
                return func(**kwargs)
            except Exception as err:
                _record_failure(
                    queued.id, name, queued.attempts + 1, context.worker_name or "", _describe(err)
                )
                raise
            finally:
                _current_claim.reset(token)

        run.__name__ = f"run_{func.__name__}"
        run.__doc__ = func.__doc__
        app.task(name=name, queue=queue, retry=Backoff(), pass_context=True)(run)
        _FUNCTIONS[name] = func
        _QUEUE_OF[name] = queue
        return func

    return register


def registered() -> dict[str, Callable[..., Any]]:
    return dict(_FUNCTIONS)


_SCHEDULED: dict[str, str] = {}


def schedule(name: str, cron: str) -> None:
    """Run the declared job ``name`` on ``cron`` (5 fields, UTC). Every worker's clock defers
    it, and procrastinate keeps one job per tick; the lock keeps two runs of it from
    overlapping, the queueing lock keeps a slow one from piling up behind itself."""
    if name in _SCHEDULED:
        raise ValueError(f"job {name!r} is scheduled already ({_SCHEDULED[name]})")
    app.periodic(cron=cron, periodic_id="", lock=name, queueing_lock=name)(app.tasks[name])
    _SCHEDULED[name] = cron


def scheduled() -> dict[str, str]:
    return dict(_SCHEDULED)


# --- enqueueing ------------------------------------------------------------------------------


def enqueue(name: str, *, database: Database | None = None, **kwargs: Any) -> int | None:
    """Queue the job ``name`` with ``kwargs`` and return its id; in a process with no worker
    on an embedded database, run it now instead (None)."""
    if name not in _FUNCTIONS:
        raise KeyError(f"no job is declared as {name!r}")
    database = bind(database)
    if database.dialect != "postgresql" and (_in_process is None or not _in_process.running):
        try:
            run_now(name, **kwargs)
        except Exception:
            # What it was to do waits in the application's tables for the next sweep.
            log.exception("job %s failed in process; the next sweep takes it up", name)
        return None
    deferrer = configure_task(name=name, job_manager=sync_manager(), queue=_QUEUE_OF[name])
    return int(_outside_any_loop(lambda: deferrer.defer(**kwargs)))


def run_now(name: str, **kwargs: Any) -> Any:
    """Run a declared job in the calling thread (the daily jobs by hand, an in-process run)."""
    func = _FUNCTIONS[name]
    token = _current_claim.set(None)
    try:
        return func(**kwargs)
    finally:
        _current_claim.reset(token)


def enqueue_after_commit(session: Session, name: str, **kwargs: Any) -> None:
    """Queue the job once ``session``'s transaction has committed (never before: a worker
    must not look for rows that may yet be rolled back). Never raises: what the job would do
    waits in the application's tables for the next sweep."""
    database = database_of(session)

    def effect() -> None:
        try:
            enqueue(name, database=database, **kwargs)
        except Exception:
            log.exception("job %s could not be queued; the next sweep takes it up", name)

    after_commit(session, effect)


# --- workers ---------------------------------------------------------------------------------


def _worker_options(concurrency: int, name: str, wait: bool) -> dict[str, Any]:
    settings = get_settings()
    return {
        "concurrency": concurrency,
        "name": name,
        "wait": wait,
        "queues": list(QUEUES),
        "update_heartbeat_interval": settings.jobs_heartbeat_seconds,
        "stalled_worker_timeout": settings.jobs_stalled_seconds,
        "fetch_job_polling_interval": 2.0,
        "abort_job_polling_interval": 5.0,
        "shutdown_graceful_timeout": 30.0,
    }


async def requeue_stalled() -> list[int]:
    """Queue again the running jobs of workers that stopped beating (killed, lost): another
    worker runs them. Their claims are theirs by job id, so the rerun takes them back."""
    seconds = get_settings().jobs_stalled_seconds
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
    for found in stalled:
        log.warning("job %s (%s) was left by a stopped worker; queued again", found.id, found)
        await app.job_manager.retry_job(found)
    return [int(found.id) for found in stalled if found.id is not None]


async def _watch_stalled(stop: asyncio.Event) -> None:
    every = max(1.0, get_settings().jobs_stalled_seconds / 2)
    while not stop.is_set():
        try:
            await requeue_stalled()
        except Exception:
            log.exception("looking for stalled jobs failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def work(
    *,
    concurrency: int = 1,
    name: str | None = None,
    wait: bool = True,
    install_signal_handlers: bool = True,
) -> None:
    """A worker on the bound database until stopped (``wait=False``: until the queue is
    empty). On PostgreSQL it also requeues the jobs of dead workers."""
    database = job_database()
    worker_name = name or f"worker-{uuid.uuid4().hex[:8]}"
    options = _worker_options(concurrency, worker_name, wait)
    options["install_signal_handlers"] = install_signal_handlers
    await app.open_async()  # the in-memory queue learns the loop to wake the worker on
    if database.dialect != "postgresql":
        await app.run_worker_async(**options)
        return
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_stalled(stop))
    try:
        await app.run_worker_async(**options)
    finally:
        stop.set()
        await watcher
        await app.close_async()


def run_worker(database: Database, *, concurrency: int = 1, wait: bool = True) -> None:
    """``pharmaqms worker``: a procrastinate worker on PostgreSQL, in the foreground."""
    bind(database, pool_size=concurrency + 3)
    asyncio.run(work(concurrency=concurrency, wait=wait))


def drain(database: Database | None = None) -> None:
    """Run what is queued and due now, then return (tests, and a manual catch-up)."""
    bind(database)
    _outside_any_loop(
        lambda: asyncio.run(work(concurrency=1, wait=False, install_signal_handlers=False))
    )


_T = TypeVar("_T")


def _outside_any_loop(call: Callable[[], _T]) -> _T:
    """``call()`` where no event loop runs. procrastinate's synchronous calls and asyncio.run
    refuse a thread whose loop is running (a caller inside async code, or a synchronous wrapper
    of one such as Playwright's); there they get a thread of their own, and any error comes
    back to the caller."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    results: list[_T] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            results.append(call())
        except BaseException as exc:  # handed back to the caller below
            failures.append(exc)

    thread = threading.Thread(target=run, name="pharmaqms-jobs-call")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return results[0]


class InProcessWorker:
    """A worker thread beside the web server on the embedded database: the same tasks,
    retries and periodic schedule as ``pharmaqms worker``, on procrastinate's in-memory queue."""

    def __init__(self, database: Database, *, concurrency: int = 2) -> None:
        self.database = database
        self.concurrency = concurrency
        self.running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pharmaqms-jobs", daemon=True)

    def start(self) -> InProcessWorker:
        global _in_process
        bind(self.database)
        _in_process = self
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        global _in_process
        self.running = False
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout)
        if _in_process is self:
            _in_process = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(
                work(
                    concurrency=self.concurrency,
                    name="in-process",
                    install_signal_handlers=False,
                )
            )
            self.running = True
            self._started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

        try:
            asyncio.run(main())
        except Exception:
            log.exception("the in-process job runner stopped")
        finally:
            self.running = False
            self._started.set()


def in_process_worker() -> InProcessWorker | None:
    return _in_process


def memory_failures(job_id: int) -> list[tuple[int, str]]:
    return list(_memory_failures.get(job_id, ()))


def prune_after() -> timedelta:
    return timedelta(days=get_settings().jobs_keep_days)
