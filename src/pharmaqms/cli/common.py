"""What every command shares: one-line errors on stderr with exit code 2, the CLI actor."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import QMSError
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    # Printed as written: a message may hold brackets ("[roles]", a lot "[/x]") that rich
    # would otherwise read as markup.
    err_console.print(f"error: {message}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a refusal into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except QMSError as err:
            field = f" [{err.field}]" if err.field else ""
            fail(f"{err.detail}{field}")
        except FileNotFoundError as err:
            fail(f"no such file: {err.filename}")

    return wrapper


def cli_actor(username: str | None = None) -> Actor:
    """The person running a command: ``--as`` or PHARMAQMS_USER, else the system account.

    A command run on the server by an operator with shell access acts as the system account;
    the audit trail says so (channel "cli")."""
    name = username or os.environ.get("PHARMAQMS_USER")
    with unit_of_work(write=False) as session:
        if name:
            user = auth.user_by_username(session, name)
            if user is None or not user.is_active:
                fail(f"no active user {name!r}")
            return auth.actor_for(session, user, Channel.CLI)
        return auth.system_actor(session, Channel.CLI)


def is_interactive() -> bool:
    return sys.stdin.isatty()


def echo_json(value: Any) -> None:
    import json

    from pharmaqms.kernel.canonical import plain

    typer.echo(json.dumps(plain(value), indent=2, ensure_ascii=False))
