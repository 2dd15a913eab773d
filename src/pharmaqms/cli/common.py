"""What every command shares: one-line errors on stderr with exit code 2, the CLI actor."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import exc as sa_exc

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def progress_bar() -> Progress:
    """A bar with the rows done and the time taken, for long work (backup, restore, copies)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def fail(message: str, code: int = 2) -> NoReturn:
    # Printed as written: a message may hold brackets ("[roles]", a lot "[/x]") that rich
    # would otherwise read as markup.
    err_console.print(f"error: {message}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(code)


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _database_error(err: sa_exc.DBAPIError) -> str:
    """What a driver error at the start of a command means to the person who ran it."""
    text = _first_line(err)
    # SQLite: "no such table"; PostgreSQL: relation "users" does not exist.
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return "database not initialised: run pharmaqms init"
    return f"can't open the database {get_settings().database_url}: {text}"


def _settings_error(err: ValidationError) -> str:
    problems = [
        f"PHARMAQMS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
        if e["loc"]
        else e["msg"]
        for e in err.errors()
    ]
    return "invalid setting " + "; ".join(problems)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a refusal or bad input (a wrong database URL, an uninitialised database, a bad
    setting, a file that can't be read) into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except QMSError as err:
            field = f" [{err.field}]" if err.field else ""
            fail(f"{err.detail}{field}")
        except FileNotFoundError as err:
            fail(f"no such file: {err.filename}")
        except IsADirectoryError as err:
            fail(f"{err.filename} is a directory")
        except PermissionError as err:
            fail(f"permission denied: {err.filename}")
        except (sa_exc.OperationalError, sa_exc.ProgrammingError) as err:
            fail(_database_error(err))
        except sa_exc.ArgumentError as err:
            fail(f"PHARMAQMS_DATABASE_URL is not a usable database URL: {_first_line(err)}")
        except ValidationError as err:
            fail(_settings_error(err))

    return wrapper


def cli_actor(username: str | None = None) -> Actor:
    """The person running a command: ``--as`` or PHARMAQMS_USER, else the system account.

    Acting as a person proves it is them: their password, from PHARMAQMS_PASSWORD or the prompt,
    checked as at login (a wrong one counts toward their lockout; an expired one is refused).
    A command run on the server by an operator with shell access acts as the system account;
    the audit trail says so (channel "cli")."""
    return cli_signer(username)[0]


def cli_signer(username: str | None = None) -> tuple[Actor, str | None]:
    """As ``cli_actor``, with the password the person gave (for a command that signs), or None
    for the system account, which never signs."""
    name = (username or os.environ.get("PHARMAQMS_USER") or "").strip()
    if not name:
        with unit_of_work(write=False) as session:
            return auth.system_actor(session, Channel.CLI), None
    password = os.environ.get("PHARMAQMS_PASSWORD")
    if password is None:
        if not is_interactive():
            fail(
                f"acting as {name} needs their password: set PHARMAQMS_PASSWORD or run "
                "interactively"
            )
        password = typer.prompt(f"Password of {name}", hide_input=True, err=True)
    with unit_of_work() as session:
        user = auth.authenticate(session, username=name, password=password, channel=Channel.CLI)
        return auth.actor_for(session, user, Channel.CLI), password


def is_interactive() -> bool:
    return sys.stdin.isatty()


def echo_json(value: Any) -> None:
    import json

    from pharmaqms.kernel.canonical import plain

    typer.echo(json.dumps(plain(value), indent=2, ensure_ascii=False))
