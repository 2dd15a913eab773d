"""The ``pharmaqms`` command."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer._click import exceptions as click_errors  # typer 0.29 carries its own click
from typer.core import TyperGroup

import pharmaqms.schema  # noqa: F401 - every module's tables: verify and backup need them all
from pharmaqms.cli.common import (
    cli_actor,
    console,
    echo_json,
    err_console,
    fail,
    handle_errors,
    is_interactive,
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
        ("pharmaqms.cli.mqtt", "mqtt"),
        ("pharmaqms.cli.trace", "trace"),
        ("pharmaqms.cli.jobs", "jobs"),
        ("pharmaqms.cli.data", None),  # top level: pharmaqms ingest, export, sources
    ):
        try:
            sub = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        app.add_typer(sub.app, name=name)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command()
@handle_errors
def init(
    admin_username: str = typer.Option("admin", help="Username of the first administrator."),
    admin_full_name: str = typer.Option("System Administrator", help="Their full name."),
) -> None:
    """Create or migrate the database named by PHARMAQMS_DATABASE_URL.

    The first run creates an administrator: its password comes from PHARMAQMS_ADMIN_PASSWORD,
    or is asked for at the prompt."""
    from pharmaqms.kernel.bootstrap import initialise, needs_admin

    database = get_database()
    password = os.environ.get("PHARMAQMS_ADMIN_PASSWORD")
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
            admin_password=password,
            admin_full_name=admin_full_name,
        )
        console.print(f"Administrator [bold]{admin_username}[/] created.")
    console.print(f"Database ready: {database.url}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port."),
) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    from pharmaqms.web.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
@handle_errors
def demo(
    seed: int = typer.Option(7, help="Seed of the generator: the same seed, the same data."),
    scale: float = typer.Option(1.0, help="1 = a small company's year; larger for benchmarks."),
) -> None:
    """Load demo users (one per role) and demo records, through the services (all audited)."""
    from pharmaqms.cli.demo import DEMO_PASSWORD, load_demo

    loaded = load_demo(get_database(), seed=seed, scale=scale, progress=_progress())
    if not loaded:
        console.print("Demo data is already loaded.")
        return
    table = Table(title=f"Demo accounts (password: {DEMO_PASSWORD})")
    table.add_column("username")
    table.add_column("name")
    table.add_column("roles")
    for username, name, roles in loaded:
        table.add_row(username, name, ", ".join(roles))
    console.print(table)


@audit_app.command("verify")
@handle_errors
def audit_verify(
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check the hash chain and every record against its last audit entry.

    Exit code 0 when intact, 1 with the findings when anything was changed, removed or
    inserted behind the application's back."""
    from pharmaqms.kernel.verify import verify

    with _progress() as progress, unit_of_work(write=False) as session:
        task = progress.add_task("verifying", total=None)
        report = verify(session, lambda _stage, n: progress.advance(task, n))
    if as_json:
        echo_json(report.as_dict())
    else:
        if report.intact:
            console.print(
                f"[green]intact[/]: {report.entries:,} audit entries, {report.records:,} "
                f"records, {report.signatures:,} signatures; head {report.head_seq} "
                f"{report.head_hash[:16]}…"
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


@audit_app.command("head")
@handle_errors
def audit_head() -> None:
    """Print the chain head (sequence and hash): keep it elsewhere to detect a rewrite."""
    from pharmaqms.kernel.models import AuditChainHead

    with unit_of_work(write=False) as session:
        head = session.get(AuditChainHead, 1)
        if head is None:
            fail("the database is not initialised")
        typer.echo(json.dumps({"seq": head.seq, "entry_hash": head.entry_hash}))


@user_app.command("add")
@handle_errors
def user_add(
    username: str,
    full_name: str = typer.Option(..., "--full-name", help="Printed with signatures."),
    roles: list[str] = typer.Option(..., "--role", help="Repeat for several roles."),
    email: str | None = typer.Option(None),
    service_account: bool = typer.Option(False, "--service-account", help="An integration."),
    acting_as: str | None = typer.Option(None, "--as", help="Administrator acting."),
) -> None:
    """Add a user (asks for the initial password; PHARMAQMS_NEW_PASSWORD for scripts)."""
    password = None
    if not service_account:
        password = os.environ.get("PHARMAQMS_NEW_PASSWORD")
        if password is None:
            if not is_interactive():
                fail("set PHARMAQMS_NEW_PASSWORD or run interactively")
            password = getpass.getpass(f"Initial password for {username}: ")
    actor = cli_actor(acting_as)
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
        )
        console.print(f"User [bold]{user.username}[/] added (id {user.id}).")
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


@user_app.command("reset-password")
@handle_errors
def user_reset_password(
    username: str,
    reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Set a temporary password (must be changed at next login); unlocks the account."""
    password = os.environ.get("PHARMAQMS_NEW_PASSWORD")
    if password is None:
        if not is_interactive():
            fail("set PHARMAQMS_NEW_PASSWORD or run interactively")
        password = getpass.getpass(f"Temporary password for {username}: ")
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        auth.reset_password(
            session, actor=actor, user_id=_user_id(username), new_password=password, reason=reason
        )
    console.print(f"Password of {username} reset; it must be changed at the next login.")


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
    with _progress() as progress:
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
    with _progress() as progress:
        task = progress.add_task("restoring", total=None)
        manifest = do_restore(database.engine, path, lambda _t, n: progress.advance(task, n))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(f"Restored {rows:,} rows from {path}. Run `pharmaqms audit verify` to check.")


_register_subcommands()
