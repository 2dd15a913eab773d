"""A demo database built once per test run at a small scale (about a minute here), for
the tests that need one: the demo's own guard and the browser walk of the pages."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from tests.support import PASSWORD

# What building the demo imports in a process (initialise() migrates, and the migrations load
# every module's models and registrations): a test that reads the demo must see the same
# modules installed whether or not its process built it.
import pharmaqms.schema  # noqa: F401
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database

DEMO_SCALE = 0.02
_BUILT: dict[str, Path] = {}


def fresh_database(path: Path) -> Database:
    """A database as ``pharmaqms init`` leaves it: the installation and its administrator."""
    database = Database(f"sqlite:///{path}")
    initialise(database, admin_password=PASSWORD, admin_full_name="Ada Administrator")
    return database


def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The path of a demo database file, built once per test run: the first test process to
    ask builds it under a lock in the run's shared temporary directory, the others wait for
    it and read it (each copies it before writing). The demo is loaded by the
    ``pharmaqms demo`` command in its own process, as an operator runs it: in this process
    other tests may have imported module loaders in another order."""
    if "demo" in _BUILT:
        return _BUILT["demo"]
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own base (…/pytest-N/popen-gwK); the run's is its parent.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = shared / f"demo-template-{DEMO_SCALE}.db"
    built = path.with_suffix(".built")
    with open(shared / "demo-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not built.exists():
                path.unlink(missing_ok=True)
                fresh_database(path).dispose()
                command = Path(sys.executable).with_name("pharmaqms")
                result = subprocess.run(
                    [str(command), "demo", "--scale", str(DEMO_SCALE)],
                    env={**os.environ, "PHARMAQMS_DATABASE_URL": f"sqlite:///{path}"},
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                assert result.returncode == 0, result.stderr
                built.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _BUILT["demo"] = path
    return path


def demo_copy(template: Path, path: Path) -> Database:
    # SQLite's backup API, not a file copy: the last transactions of the demo may still sit in
    # the template's write-ahead log, which a copy of the main file would leave behind.
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return Database(f"sqlite:///{path}")


def demo_instance(
    template: Path, path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A copy of the demo database as a demonstration instance (``PHARMAQMS_DEMO=1``: the demo
    accounts log in with the published password), set as the process default; for a fixture
    to ``yield from``."""
    from pharmaqms.kernel.db import set_database
    from pharmaqms.kernel.settings import reset_settings_cache

    database = demo_copy(template, path)
    set_database(database)
    monkeypatch.setenv("PHARMAQMS_DEMO", "1")
    reset_settings_cache()
    yield database
    set_database(None)
    database.dispose()
    monkeypatch.undo()
    reset_settings_cache()
