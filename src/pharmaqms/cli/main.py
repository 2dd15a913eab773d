"""The ``pharmaqms`` command."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from typer._click import exceptions as click_errors  # typer 0.29 carries its own click
from typer.core import TyperGroup

import pharmaqms.schema  # noqa: F401 - every module's tables: verify and backup need them all
from pharmaqms.cli.common import (
    cli_actor,
    cli_signer,
    console,
    echo_json,
    err_console,
    fail,
    handle_errors,
    is_interactive,
    progress_bar,
)
from pharmaqms.kernel import auth
from pharmaqms.kernel.db import get_database
from pharmaqms.kernel.uow import unit_of_work


class OneLineUsageErrors(TyperGroup):
    """Usage errors (a missing option, a value of the wrong type, an unknown command) as one
    line on stderr with exit code 2, like every other refusal of the command line, instead of
    a framed panel a script can't read."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click_errors.NoArgsIsHelpError as err:
            err.show()  # the help text: asked for by giving no arguments
            sys.exit(err.exit_code)
        except click_errors.ClickException as err:
            message = " ".join(err.format_message().split())
            context = getattr(err, "ctx", None)
            hint = f" (see {context.command_path} --help)" if context is not None else ""
            err_console.print(
                f"error: {message}{hint}", highlight=False, soft_wrap=True, markup=False
            )
            sys.exit(2)
        except typer.Abort:
            err_console.print("error: aborted", highlight=False, markup=False)
            sys.exit(1)
        # Without standalone mode an exit code comes back as the result (typer.Exit(2)).
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name="pharmaqms",
    help="pharmaqms: quality management for the whole life of a medicine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=OneLineUsageErrors,
)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")


def _register_subcommands() -> None:
    """Sub-commands that modules contribute (pharmaqms gs1 …, pharmaqms spc …)."""
    import importlib

    for module, name in (
        ("pharmaqms.cli.gs1", "gs1"),
        ("pharmaqms.cli.spc", "spc"),
        ("pharmaqms.cli.coldchain", "coldchain"),
        ("pharmaqms.cli.mqtt", "mqtt"),
        ("pharmaqms.cli.trace", "trace"),
        ("pharmaqms.cli.epcis", "epcis"),
        ("pharmaqms.cli.jobs", "jobs"),
        ("pharmaqms.cli.db", "db"),
        ("pharmaqms.cli.notify", "notify"),
        ("pharmaqms.cli.signals", "signals"),
        ("pharmaqms.cli.pv", "pv"),
        ("pharmaqms.cli.rnd", "rnd"),
        ("pharmaqms.cli.stability", "stability"),
        ("pharmaqms.cli.compliance", "compliance"),
        ("pharmaqms.cli.manuals", "manuals"),
        ("pharmaqms.cli.validation", "validation"),
        ("pharmaqms.cli.data", None),  # top level: pharmaqms ingest, export, sources
    ):
        try:
            sub = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        app.add_typer(sub.app, name=name)


WORKER_HEALTHCHECK_SECONDS = 120
# How long a served connection may stay idle before the server closes it. It must be longer
# than the idle time of the proxy's kept connections (docs/deploy.md: nginx 60 s): a proxy
# that sends a request on a connection the server is closing at that moment gets a reset,
# and a POST (a signature, a new record) is not retried — the user sees a 502. uvicorn's own
# default is 5 s; the soak met a reset that fits this race once in 36,000 requests, and none
# after this setting (docs/benchmarks.md).
KEEP_ALIVE_SECONDS = 75


@app.command()
@handle_errors
def init(
    admin_username: str = typer.Option("admin", help="Username of the first administrator."),
    admin_full_name: str = typer.Option("System Administrator", help="Their full name."),
    create_roles: bool = typer.Option(
        False,
        "--create-roles",
        help="PostgreSQL, run once as a superuser: create the owner and application roles "
        "and hand the database over to them (see docs/security.md).",
    ),
) -> None:
    """Create or migrate the database named by PHARMAQMS_DATABASE_URL.

    A new installation also gets its key file (PHARMAQMS_KEY_FILE, by default beside the
    SQLite file): keep a copy in custody, the audit trail can't be verified without it. The
    first run creates an administrator: its password comes from PHARMAQMS_ADMIN_PASSWORD, or
    is asked for at the prompt."""
    from pharmaqms.kernel.bootstrap import initialise, needs_admin
    from pharmaqms.kernel.keys import key_file_path

    database = get_database()
    if create_roles and database.dialect != "postgresql":
        fail("--create-roles is for PostgreSQL: SQLite has no roles")
    password = os.environ.get("PHARMAQMS_ADMIN_PASSWORD")
    key_existed = key_file_path(database.url).exists()
    initialise(database)
    if needs_admin(database):
        if password is None:
            if not is_interactive():
                fail("no administrator yet: set PHARMAQMS_ADMIN_PASSWORD or run interactively")
            password = getpass.getpass(f"Password for the administrator {admin_username}: ")
            if password != getpass.getpass("Again: "):
                fail("the two passwords differ")
        initialise(
            database,
            admin_username=admin_username,
            admin_full_name=admin_full_name,
            admin_password=password,
        )
        console.print(f"Administrator [bold]{admin_username}[/] created.")
    key_path = key_file_path(database.url)
    if not key_existed:
        console.print(
            f"Key file created: {key_path} (mode 0600). Keep a copy in custody, apart from "
            "the database and its backups: without it the audit trail can't be verified."
        )
    if create_roles:
        _create_roles(database.url)
    _seed_regulations(database)
    console.print(f"Database ready: {database.url}")


def _seed_regulations(database: Any) -> None:
    """The shipped regulations register, loaded once (a later init leaves it as it is)."""
    from pharmaqms.compliance import service
    from pharmaqms.kernel.identity import Channel

    with unit_of_work(database) as session:
        outcome = service.seed(session, actor=auth.system_actor(session, Channel.CLI))
    if outcome.added:
        console.print(f"Regulations register: {len(outcome.added)} regulations loaded.")


def _create_roles(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from pharmaqms.kernel.pgroles import Roles, create_roles

    roles = Roles()
    engine = create_engine(url)
    try:
        create_roles(engine, roles)
    finally:
        engine.dispose()
    parsed = make_url(url)
    for role, what in ((roles.app, "the application"), (roles.owner, "pharmaqms init")):
        shown = parsed.set(username=role, password=None).render_as_string(hide_password=True)
        console.print(f"Roles ready: {what} connects as {shown}")
    console.print(
        "Give both roles a password (ALTER ROLE … PASSWORD) unless the server trusts them."
    )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port."),
    workers: int = typer.Option(
        1,
        min=1,
        help="API processes sharing the port (uvicorn workers, restarted when one dies). "
        "They share nothing but the database: run as many as the cores and the database "
        "connections allow (docs/deploy.md).",
    ),
    keep_alive: int = typer.Option(
        KEEP_ALIVE_SECONDS,
        "--keep-alive",
        min=1,
        max=3600,
        help="Seconds an idle connection is kept open. Keep it above the reverse proxy's "
        "idle time for its kept connections (nginx's upstream keepalive_timeout), or the "
        "proxy will now and then send a request on a connection being closed.",
    ),
) -> None:
    """Serve the web UI and the API (on SQLite, with the background jobs in process; request
    log: JSON lines on standard error)."""
    import uvicorn

    from pharmaqms.kernel.jobs import InProcessWorker, is_durable
    from pharmaqms.kernel.keys import keyring_for
    from pharmaqms.kernel.observability.logs import log_config
    from pharmaqms.kernel.settings import get_settings

    # The key file is checked before any worker starts (each checks again as it builds the
    # application): a missing key stops the command, not N workers in a restart loop.
    keyring_for(get_database().url)
    metrics_dir = _shared_metrics_dir() if workers > 1 else None
    # Proxy headers (the client's address, HTTPS) are believed only when the setting says the
    # proxy in front is the only way in; otherwise anyone could claim HTTPS.
    trusted = get_settings().trust_proxy_headers
    database = get_database()
    # On SQLite the jobs (e-mail, webhooks, sweeps, the daily jobs) run in a thread beside the
    # server; on PostgreSQL they wait in the queue for ``pharmaqms worker``.
    runner = None
    if not is_durable(database) and get_settings().notify_interval_seconds:
        from pharmaqms.schedule import install

        install()
        runner = InProcessWorker(database).start()
    elif is_durable(database):
        console.print("Background jobs are queued in PostgreSQL: run `pharmaqms worker` too.")
    try:
        uvicorn.run(
            "pharmaqms.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=log_config(),
            access_log=False,
            proxy_headers=trusted,
            forwarded_allow_ips="*" if trusted else None,
            # A worker process answers its supervisor's health check only once the application
            # is imported; on a busy host that takes far longer than uvicorn's 5 s default, and
            # the supervisor would kill and restart every worker for ever (seen at load 11).
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            timeout_keep_alive=keep_alive,
        )
    finally:
        if runner is not None:
            runner.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
@handle_errors
def worker(
    concurrency: int = typer.Option(
        1, "--concurrency", min=1, max=64, help="Jobs run at the same time in this worker."
    ),
    with_schedule: bool = typer.Option(
        True,
        "--schedule/--no-schedule",
        help="Also defer the periodic jobs when due (any worker may; one job per tick).",
    ),
) -> None:
    """Run background and scheduled jobs from the PostgreSQL queue until stopped (Ctrl-C or
    SIGTERM finish the running jobs first). Start as many as needed, on any machine."""
    from pharmaqms.kernel.errors import InvalidInput
    from pharmaqms.kernel.jobs import is_durable, run_worker
    from pharmaqms.schedule import install

    database = get_database()
    if not is_durable(database):
        raise InvalidInput(
            "pharmaqms worker needs the PostgreSQL queue (PHARMAQMS_DATABASE_URL=postgresql+"
            "psycopg://…); on SQLite the jobs run inside `pharmaqms serve`, and "
            "`pharmaqms jobs run-daily` runs the daily ones by hand"
        )
    console.print(f"Worker on the PostgreSQL queue, concurrency {concurrency}.")
    if with_schedule:
        console.print("Schedule (UTC):")
        for name, cron in install().items():
            console.print(f"  {cron:<16} {name}", highlight=False)
    run_worker(database, concurrency=concurrency)


def _shared_metrics_dir() -> Path | None:
    """A fresh directory where the workers' metrics add up (prometheus_client's multiprocess
    mode), set in the environment before the workers start so that they inherit it. Returns
    the directory to remove at the end (None: the operator's own)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        # The operator's own directory (kept): its metric files of an earlier run would add
        # in, so they go; nothing else in it is touched.
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return None
    path = Path(tempfile.mkdtemp(prefix="pharmaqms-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


@app.command()
@handle_errors
def demo(
    seed: int = typer.Option(7, help="Seed of the generator: the same seed, the same data."),
    scale: float = typer.Option(1.0, help="1 = a small company's year; larger for benchmarks."),
    timings: bool = typer.Option(
        False, "--timings", help="Print the processor and elapsed seconds of every step."
    ),
) -> None:
    """Load demo users (one per role) and demo records, through the services (all audited)."""
    from pharmaqms.cli.demo import DEMO_PASSWORD, LoaderTiming, load_demo

    steps: list[LoaderTiming] = []
    loaded = load_demo(
        get_database(), seed=seed, scale=scale, progress=progress_bar(), timings=steps
    )
    if not loaded:
        console.print("Demo data is already loaded.")
        return
    if timings:
        steps_table = Table(title="Demo load, per step")
        steps_table.add_column("step")
        steps_table.add_column("processor s", justify="right")
        steps_table.add_column("elapsed s", justify="right")
        for step in steps:
            steps_table.add_row(step.name, f"{step.cpu_seconds:.1f}", f"{step.wall_seconds:.1f}")
        console.print(steps_table)
    # Processor time first: on a busy machine the elapsed time says more about the others.
    console.print(
        f"Demo loaded in {sum(s.cpu_seconds for s in steps):.0f} s of processor time "
        f"({sum(s.wall_seconds for s in steps):.0f} s elapsed)."
    )
    table = Table(title=f"Demo accounts (password: {DEMO_PASSWORD})")
    table.add_column("username")
    table.add_column("name")
    table.add_column("roles")
    for username, name, roles in loaded:
        table.add_row(username, name, ", ".join(roles))
    console.print(table)
    console.print(
        "The demo accounts must change this published password at their first login, unless "
        "the server runs as a demonstration instance: PHARMAQMS_DEMO=1 pharmaqms serve "
        "(make run does)."
    )


@audit_app.command("verify")
@handle_errors
def audit_verify(
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    expect_head: list[Path] = typer.Option(
        [],
        "--expect-head",
        help="A signed head kept elsewhere (pharmaqms audit head --json): the chain must still "
        "contain it. Repeat for several.",
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        min=1,
        help="Check the chain's links in this many processes, each a run of the trail "
        "(each entry carries its predecessor's hash); the verdict is the same.",
    ),
) -> None:
    """Check the keyed hash chain, every record against its last audit entry, every signature
    against its signing entry and every sealed data row against its seal.

    Exit code 0 when intact, 1 with the findings when anything was changed, removed or
    inserted behind the application's back (or when there is no audit trail at all)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pharmaqms.kernel.observability.verify_runs import record_verify_run
    from pharmaqms.kernel.verify import verify

    expected = [_read_head_file(path) for path in expect_head]
    with progress_bar() as progress, unit_of_work(write=False) as session:
        task = progress.add_task("verifying", total=None)
        report = verify(
            session,
            lambda _stage, n: progress.advance(task, n),
            expected_heads=expected,
            jobs=jobs,
        )
    # Remembered for the metrics (pharmaqms_audit_verify_age_seconds); nothing else reads it,
    # so a database this command may only read (a replica, an inspector's role) still verifies.
    try:
        with unit_of_work() as session:
            record_verify_run(session, report)
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:200]
        typer.echo(f"(this run was not recorded for the metrics: {reason})", err=True)
    if as_json:
        echo_json(report.as_dict())
    else:
        if report.intact:
            console.print(
                f"[green]intact[/]: {report.entries:,} audit entries, {report.records:,} "
                f"records, {report.signatures:,} signatures, {report.data_rows:,} data rows; "
                f"head {report.head_seq} {report.head_hash[:16]}…"
            )
        else:
            table = Table(title=f"{len(report.findings)} finding(s): the audit trail is NOT intact")
            for column in ("kind", "record", "entry", "what"):
                table.add_column(column)
            for f in report.findings:
                record = f"{f.record_type} {f.record_id}" if f.record_type else ""
                table.add_row(f.kind, record, str(f.seq or ""), f.message)
            console.print(table)
    raise typer.Exit(0 if report.intact else 1)


def _read_head_file(path: Path) -> Any:
    if path.stat().st_size > 64 * 1024:
        fail(f"{path} is too large to be a signed head")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        fail(f"{path} is not a signed head (JSON): {err}")


@audit_app.command("head")
@handle_errors
def audit_head(
    as_json: bool = typer.Option(False, "--json", help="Print the signed head as JSON."),
) -> None:
    """Print the chain head (sequence, hash, time) signed with the installation's key. Keep it
    elsewhere: `pharmaqms audit verify --expect-head FILE` finds a cut or a rewrite of the
    trail up to it."""
    from pharmaqms.kernel import clock
    from pharmaqms.kernel.chain import signed_head
    from pharmaqms.kernel.keys import keyring_for

    database = get_database()
    with unit_of_work(write=False) as session:
        document = signed_head(
            session.connection(), keyring_for(str(database.engine.url)), clock.now().isoformat()
        )
    if as_json:
        typer.echo(json.dumps(document, sort_keys=True))
    else:
        console.print(
            f"entry {document['seq']} {document['entry_hash']} at {document['at']}\n"
            f"key {document['key_id']}, signature {document['signature'][:32]}…"
        )


@user_app.command("add")
@handle_errors
def user_add(
    username: str,
    full_name: str = typer.Option(..., "--full-name", help="Printed with signatures."),
    roles: list[str] = typer.Option(..., "--role", help="Repeat for several roles."),
    email: str | None = typer.Option(None),
    service_account: bool = typer.Option(False, "--service-account", help="An integration."),
    acting_as: str | None = typer.Option(None, "--as", help="Administrator acting."),
    grant_reason: str | None = typer.Option(
        None, "--grant-reason", help="Why roles that sign are asked for (with --as)."
    ),
) -> None:
    """Add a user (asks for the initial password; PHARMAQMS_NEW_PASSWORD for scripts).

    Without --as the system account provisions the account with all its roles. An
    administrator acting with --as gets the account without the roles that sign: their
    password signs a request for them, which a second administrator approves."""
    password = None
    if not service_account:
        password = os.environ.get("PHARMAQMS_NEW_PASSWORD")
        if password is None:
            if not is_interactive():
                fail("set PHARMAQMS_NEW_PASSWORD or run interactively")
            password = getpass.getpass(f"Initial password for {username}: ")
    from pharmaqms.kernel import role_grants

    actor, signer_password = cli_signer(acting_as)
    with unit_of_work() as session:
        user = auth.add_user(
            session,
            actor=actor,
            username=username,
            full_name=full_name,
            roles=roles,
            password=password,
            email=email,
            service_account=service_account,
            signature_password=signer_password,
            grant_reason=grant_reason,
        )
        console.print(f"User [bold]{user.username}[/] added (id {user.id}).")
        for waiting in role_grants.pending_for(session, user.id):
            console.print(
                f"{waiting.number}: {', '.join(waiting.roles)} wait for a second administrator."
            )
        if service_account:
            _token, raw = auth.create_api_token(
                session, actor=actor, user_id=user.id, name="initial token"
            )
            console.print(f"API token (shown once): {raw}")


def _user_id(username: str) -> int:
    with unit_of_work(write=False) as session:
        user = auth.user_by_username(session, username)
        if user is None:
            fail(f"no user {username!r}")
        return user.id


@user_app.command("deactivate")
@handle_errors
def user_deactivate(
    username: str,
    reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Deactivate a user: never deleted, the username is never reused."""
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        auth.deactivate_user(session, actor=actor, user_id=_user_id(username), reason=reason)
    console.print(f"{username} deactivated.")


@user_app.command("time-zone")
@handle_errors
def user_time_zone(
    username: str,
    zone: str = typer.Argument(..., help="An IANA name (Europe/Berlin); '' for the site's."),
    reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Set the time zone a person reads and types times in (stored times stay UTC)."""
    from pharmaqms.kernel import user_time_zones

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        row = user_time_zones.set_time_zone(
            session, actor=actor, user_id=_user_id(username), time_zone=zone, reason=reason
        )
        shown = row.time_zone if row is not None and row.time_zone else "the site's default"
    console.print(f"Time zone of {username}: {shown}.", highlight=False)


@user_app.command("reset-password")
@handle_errors
def user_reset_password(
    username: str,
    reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Reset a password to a temporary one, printed once: it works once and must be changed at
    the next login. Ends every session and token of the account; its owner confirms the reset
    before signing again."""
    from pharmaqms.kernel import password_resets

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        done = password_resets.reset_password(
            session, actor=actor, user_id=_user_id(username), reason=reason
        )
        secret, expires = done.secret, done.reset.expires_at
    console.print(
        f"Password of {username} reset. Temporary password (shown once, valid until "
        f"{expires:%Y-%m-%d %H:%M} UTC): {secret}",
        highlight=False,
    )


@user_app.command("list")
@handle_errors
def user_list() -> None:
    """List the users and their roles."""
    from sqlalchemy import select

    from pharmaqms.kernel.models import User

    table = Table()
    for column in ("username", "name", "roles", "status"):
        table.add_column(column)
    with unit_of_work(write=False) as session:
        for user in session.scalars(select(User).order_by(User.username)):
            status = "locked" if user.locked_at else ("active" if user.is_active else "deactivated")
            table.add_row(user.username, user.full_name, ", ".join(user.roles), status)
    console.print(table)


@app.command()
@handle_errors
def backup(path: Path = typer.Argument(..., help="The zip file to write.")) -> None:
    """Write every table to a zip file with a manifest of counts and checksums."""
    from pharmaqms.kernel.backup import backup as do_backup

    if path.exists():
        fail(f"{path} exists already: choose a new file")
    with progress_bar() as progress:
        task = progress.add_task("backing up", total=None)
        manifest = do_backup(get_database().engine, path, lambda _t, n: progress.advance(task, n))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(f"Backup written to {path}: {rows:,} rows in {len(manifest['tables'])} tables.")


@app.command()
@handle_errors
def restore(path: Path = typer.Argument(..., exists=False, help="A backup zip file.")) -> None:
    """Restore a backup into a new, empty database; this command creates its schema.

    Don't run `pharmaqms init` on it first: init adds the system account and the roles, and a
    database that holds any row is refused."""
    from pharmaqms.kernel.backup import restore as do_restore

    if not path.exists():
        fail(f"no such file: {path}")
    database = get_database()
    # The restore creates the schema in the transaction that writes the rows: a restore that
    # fails leaves the database without tables, not with an empty schema.
    with progress_bar() as progress:
        task = progress.add_task("restoring", total=None)
        manifest = do_restore(database.engine, path, lambda _t, n: progress.advance(task, n))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(f"Restored {rows:,} rows from {path}. Run `pharmaqms audit verify` to check.")


_register_subcommands()
