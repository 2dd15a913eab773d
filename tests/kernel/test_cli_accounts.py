"""Accounts on the command line: the system account provisions roles that sign, an
administrator acting with --as asks a second one for them, and a reset prints a temporary
password once."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.helpers import row
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import PasswordReset, RoleGrantRequest, User
from pharmaqms.kernel.passwords import verify_password
from pharmaqms.kernel.uow import unit_of_work


def user_named(db: Database, username: str) -> User:
    with unit_of_work(db, write=False) as s:
        found = s.scalars(select(User).where(User.username == username)).one()
        s.expunge(found)
        return found


def test_the_system_account_provisions_a_role_that_signs(db: Database) -> None:
    result = run_cli(
        db,
        *("user", "add", "hana", "--full-name", "Hana Hash", "--role", "qa"),
        env={"PHARMAQMS_NEW_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 0, result.stderr
    assert user_named(db, "hana").roles == ["qa"]


def test_an_administrator_acting_with_as_asks_a_second_one_for_roles_that_sign(
    db: Database,
) -> None:
    result = run_cli(
        db,
        *("user", "add", "hana", "--full-name", "Hana Hash", "--role", "qa", "--role", "auditor"),
        *("--as", "admin", "--grant-reason", "new QA reviewer"),
        env={"PHARMAQMS_NEW_PASSWORD": PASSWORD, "PHARMAQMS_PASSWORD": PASSWORD},
    )

    assert result.exit_code == 0, result.stderr
    assert re.search(r"RGR-\d{4}-0001: qa wait for a second administrator\.", result.stdout)
    hana = user_named(db, "hana")
    assert hana.roles == ["auditor"]
    with unit_of_work(db, write=False) as s:
        [request] = s.scalars(select(RoleGrantRequest))
        assert (request.grantee_id, request.roles, request.reason) == (
            hana.id,
            ["qa"],
            "new QA reviewer",
        )


def test_a_reset_prints_the_temporary_password_once(db: Database, people: People) -> None:
    result = run_cli(db, "user", "reset-password", "pv", "--reason", "forgot it")

    assert result.exit_code == 0, result.stderr
    found = re.search(r"Temporary password \(shown once, valid until [^)]+\): (\S+)", result.stdout)
    assert found, result.stdout
    with unit_of_work(db, write=False) as s:
        reset = s.scalars(select(PasswordReset)).one()
        assert verify_password(reset.temporary_hash, found.group(1))
        assert reset.reason == "forgot it"
    assert row(db, User, people.pv.user_id)["must_change_password"] is True
