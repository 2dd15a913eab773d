"""The command line answers bad input with exit code 2, one line on stderr, and no change."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.helpers import row, snapshot
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import User

NEW_USER = {"PHARMAQMS_NEW_PASSWORD": PASSWORD}


def test_adding_a_user_with_an_unknown_role_exits_2_with_one_line(db: Database) -> None:
    before = snapshot(db)

    result = run_cli(
        db, "user", "add", "hana", "--full-name", "Hana Hash", "--role", "chemist", env=NEW_USER
    )

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: unknown role(s): chemist; known roles: admin, ")
    assert "qc_analyst" in line
    assert result.stdout == ""
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("user", "add", "hana", "--full-name", "Hana", "--role", "chemist"),
            " [roles]",
        ),
        (("user", "deactivate", "[/x]", "--reason", "left"), "error: no user '[/x]'"),
    ],
)
def test_error_lines_are_printed_as_written(db: Database, args: tuple[str, ...], line: str) -> None:
    result = run_cli(db, *args, env=NEW_USER)

    assert result.exit_code == 2
    [printed] = result.stderr.splitlines()
    assert printed.endswith(line)


def test_adding_a_user_with_a_known_role_works(db: Database) -> None:
    before = snapshot(db)

    result = run_cli(
        db, "user", "add", "hana", "--full-name", "Hana Hash", "--role", "qc_analyst", env=NEW_USER
    )

    assert result.exit_code == 0, result.stderr
    assert "User hana added" in result.stdout
    assert snapshot(db).users == before.users + 1


def test_deactivating_an_unknown_user_exits_2_with_one_line(db: Database) -> None:
    before = snapshot(db)

    result = run_cli(db, "user", "deactivate", "ghost", "--reason", "left the company")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: no user 'ghost'"]
    assert snapshot(db) == before


def test_deactivating_a_known_user_works_and_is_attributed_to_the_cli(
    db: Database, people: People
) -> None:
    result = run_cli(db, "user", "deactivate", "operator", "--reason", "left", "--as", "admin")

    assert result.exit_code == 0, result.stderr
    assert row(db, User, people.operator.user_id)["is_active"] is False


def test_restoring_a_missing_file_exits_2_with_one_line(db: Database, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-backup.zip"
    before = snapshot(db)

    result = run_cli(db, "restore", str(missing))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: no such file: {missing}"]
    assert snapshot(db) == before
