"""Running the ``pharmaqms`` command in-process against a test database, the way an operator
runs it: the database is named by PHARMAQMS_DATABASE_URL, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import Result
from typer.testing import CliRunner

from pharmaqms.cli.main import app
from pharmaqms.kernel import db as _database_module
from pharmaqms.kernel.db import Database, get_database, set_database
from pharmaqms.kernel.settings import reset_settings_cache


@contextmanager
def _database_from_environment(url: str) -> Iterator[None]:
    previous = get_database()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PHARMAQMS_DATABASE_URL", url)
        set_database(None)
        reset_settings_cache()
        try:
            yield
        finally:
            # A command refused for a bad URL or bad settings created no database.
            created = _database_module._database
            if created is not None and created is not previous:
                created.dispose()
            set_database(previous)
            reset_settings_cache()


def run_cli(
    db: Database, *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    """``pharmaqms *args`` with PHARMAQMS_DATABASE_URL pointing at ``db``."""
    runner = CliRunner()
    with _database_from_environment(db.url):
        return runner.invoke(app, list(args), env=env, input=input, catch_exceptions=False)


def run_cli_at(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """``pharmaqms *args`` with PHARMAQMS_DATABASE_URL set to ``url``, which may be wrong."""
    runner = CliRunner()
    with _database_from_environment(url):
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)
