"""The command line answers bad input with exit code 2, one line on stderr, and no change."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from click.testing import Result
from tests.conftest import People
from tests.kernel.cli import run_cli, run_cli_at
from tests.kernel.helpers import entries, head_seq, row, snapshot
from tests.support import PASSWORD

from pharmaqms.cli import common
from pharmaqms.cli.common import handle_errors
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
    start = head_seq(db)

    result = run_cli(
        db,
        "user",
        "deactivate",
        "operator",
        "--reason",
        "left",
        "--as",
        "admin",
        env={"PHARMAQMS_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 0, result.stderr
    assert row(db, User, people.operator.user_id)["is_active"] is False
    [change] = entries(db, record_type="user", record_id=people.operator.user_id, after=start)
    assert (change.actor_username, change.channel) == ("admin", "cli")


# --- acting as a person needs that person's password ----------------------------------------------


def test_acting_as_a_person_without_their_password_is_refused_and_nothing_changes(
    db: Database, people: People
) -> None:
    before = snapshot(db)

    result = run_cli(db, "user", "deactivate", "operator", "--reason", "left", "--as", "admin")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: acting as admin needs their password: set PHARMAQMS_PASSWORD or run interactively"
    ]
    assert row(db, User, people.operator.user_id)["is_active"] is True
    assert snapshot(db) == before


def test_a_wrong_password_for_the_acting_person_counts_toward_their_lockout(
    db: Database, people: People
) -> None:
    result = run_cli(
        db,
        "user",
        "deactivate",
        "operator",
        "--reason",
        "left",
        env={"PHARMAQMS_USER": "admin", "PHARMAQMS_PASSWORD": "not-the-password"},
    )

    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: wrong username or password"]
    assert row(db, User, people.operator.user_id)["is_active"] is True
    assert row(db, User, people.admin.user_id)["failed_login_count"] == 1


def test_the_acting_persons_password_may_be_typed_at_the_prompt(
    db: Database, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "is_interactive", lambda: True)
    runner_input = PASSWORD + "\n"

    result = run_cli(
        db,
        "user",
        "deactivate",
        "operator",
        "--reason",
        "left",
        "--as",
        "admin",
        input=runner_input,
    )

    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.output
    assert row(db, User, people.operator.user_id)["is_active"] is False


def test_without_as_the_command_acts_as_the_system_account(db: Database, people: People) -> None:
    start = head_seq(db)

    result = run_cli(db, "user", "deactivate", "operator", "--reason", "left")

    assert result.exit_code == 0, result.stderr
    [change] = entries(db, record_type="user", record_id=people.operator.user_id, after=start)
    assert (change.actor_username, change.channel) == ("system", "cli")


def test_restoring_a_missing_file_exits_2_with_one_line(db: Database, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-backup.zip"
    before = snapshot(db)

    result = run_cli(db, "restore", str(missing))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: no such file: {missing}"]
    assert snapshot(db) == before


# --- bad input the command line reads before any service runs -----------------------------------


def one_line(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    [line] = result.stderr.splitlines()
    assert result.stdout.strip() == ""
    return line


def test_an_uninitialised_database_says_to_run_init(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    line = one_line(run_cli_at(url, "user", "list"))

    assert line == "error: database not initialised: run pharmaqms init"


def test_an_unreachable_database_exits_2_with_one_line() -> None:
    url = "postgresql+psycopg://qms:secret@127.0.0.1:1/qms"  # nothing listens on port 1

    line = one_line(run_cli_at(url, "user", "list"))

    assert line.startswith(f"error: can't open the database {url}: ")


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://host/db"])
def test_a_malformed_database_url_exits_2_with_one_line(url: str) -> None:
    line = one_line(run_cli_at(url, "user", "list"))

    assert line.startswith("error: PHARMAQMS_DATABASE_URL is not a usable database URL: ")


def test_an_invalid_setting_exits_2_naming_it(db: Database) -> None:
    result = run_cli(db, "user", "list", env={"PHARMAQMS_PASSWORD_MAX_AGE_DAYS": "ninety"})

    line = one_line(result)
    assert line.startswith("error: invalid setting PHARMAQMS_PASSWORD_MAX_AGE_DAYS: ")


def test_restoring_from_a_directory_exits_2_with_one_line(db: Database, tmp_path: Path) -> None:
    before = snapshot(db)

    line = one_line(run_cli(db, "restore", str(tmp_path)))

    assert line == f"error: {tmp_path} is a directory"
    assert snapshot(db) == before


def test_a_file_the_command_may_not_touch_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # (tests may run as root, where a read-only directory is no refusal: raised directly)
    @handle_errors
    def backup_to_a_locked_directory() -> None:
        raise PermissionError(13, "Permission denied", "/srv/locked/backup.zip")

    with pytest.raises(typer.Exit) as exited:
        backup_to_a_locked_directory()

    assert exited.value.exit_code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: permission denied: /srv/locked/backup.zip"
    ]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("user", "add", "hana", "--role", "qa"),
            "error: Missing option '--full-name'. (see pharmaqms user add --help)",
        ),
        (
            ("demo", "--seed", "seven"),
            "error: Invalid value for '--seed': Input should be a valid integer, unable to "
            "parse string as an integer (see pharmaqms demo --help)",
        ),
        (("user", "promote"), "error: No such command 'promote'. (see pharmaqms user --help)"),
    ],
)
def test_a_usage_error_is_one_line_with_exit_2(
    db: Database, args: tuple[str, ...], line: str
) -> None:
    before = snapshot(db)

    assert one_line(run_cli(db, *args)) == line
    assert snapshot(db) == before


def test_the_restore_help_asks_for_an_empty_database_not_an_initialised_one(
    db: Database,
) -> None:
    result = run_cli(db, "restore", "--help")

    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "Restore a backup into a new, empty database; this command creates its schema." in text
    assert "Don't run `pharmaqms init` on it first" in text
    assert "run `pharmaqms init` on it first)" not in text
