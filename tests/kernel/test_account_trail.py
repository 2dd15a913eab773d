"""Account bookkeeping and the audit trail: logins, failed attempts, lockout, unlock and
password changes leave every user row matching its last audit entry, so ``audit verify``
stays intact; operational fields (the last login) change without bumping the row's version,
and a change of an audited field still bumps it exactly once."""

from __future__ import annotations

import pytest
from tests.conftest import People
from tests.kernel.helpers import entries, row, snapshot
from tests.support import PASSWORD

from pharmaqms.kernel import auth, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import AccountLocked, AuthenticationFailed, PasswordExpired
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import Finding, verify

NEW_PASSWORD = "Fresh-Secret-77!"


def login(db: Database, username: str, password: str) -> None:
    with unit_of_work(db) as s:
        auth.authenticate(s, username=username, password=password, channel=Channel.UI)


def fail_login(db: Database, username: str) -> None:
    with pytest.raises(AuthenticationFailed):
        login(db, username, "wrong-password")


def findings(db: Database) -> list[Finding]:
    with unit_of_work(db, write=False) as s:
        return verify(s).findings


@pytest.mark.postgres
def test_a_login_leaves_the_trail_intact_and_the_version_unchanged(
    db: Database, people: People
) -> None:
    # given a fresh database that verifies intact
    assert findings(db) == []
    before = row(db, User, people.qc.user_id)
    start = snapshot(db)

    # when qc logs in
    login(db, "qc", PASSWORD)

    # then the login is recorded, the row's version is not bumped, and verify finds nothing
    after = row(db, User, people.qc.user_id)
    assert after["last_login_at"] is not None
    assert after["version"] == before["version"]
    assert {k: v for k, v in after.items() if k != "last_login_at"} == {
        k: v for k, v in before.items() if k != "last_login_at"
    }
    assert [e.action for e in entries(db, after=start.head[0])] == ["login"]
    assert findings(db) == []


@pytest.mark.postgres
def test_failures_lockout_unlock_resets_and_logins_leave_the_trail_intact(
    db: Database, people: People
) -> None:
    # given a fresh database that verifies intact
    assert findings(db) == []
    qc = people.qc.user_id
    steps: list[tuple[str, list[Finding]]] = []

    def check(step: str) -> None:
        steps.append((step, findings(db)))

    # when qc logs in, fails, logs in again (which resets the counter), is locked out, is
    # unlocked, logs in, gets a temporary password, changes it and logs in with the new one
    login(db, "qc", PASSWORD)
    check("login")
    fail_login(db, "qc")
    check("failed login")
    login(db, "qc", PASSWORD)
    assert row(db, User, qc)["failed_login_count"] == 0
    check("login after a failure")
    for _ in range(get_threshold()):
        fail_login(db, "qc")
    assert row(db, User, qc)["locked_at"] is not None
    check("lockout")
    with pytest.raises(AccountLocked):
        login(db, "qc", PASSWORD)
    check("refused while locked")
    with unit_of_work(db) as s:
        auth.unlock_user(s, actor=people.admin, user_id=qc, reason="called the help desk")
    login(db, "qc", PASSWORD)
    check("unlock and login")
    with unit_of_work(db) as s:
        done = password_resets.reset_password(s, actor=people.admin, user_id=qc, reason="forgotten")
        temporary, reset_id = done.secret, done.reset.id
    with pytest.raises(PasswordExpired):
        login(db, "qc", temporary)
    check("reset and refused login")
    with unit_of_work(db) as s:
        auth.change_password(s, username="qc", old_password=temporary, new_password=NEW_PASSWORD)
    login(db, "qc", NEW_PASSWORD)
    check("password change and login")
    with unit_of_work(db) as s:
        password_resets.confirm_reset(s, actor=people.qc, reset_id=reset_id)
    check("reset confirmed by its owner")

    # then the trail verified intact after every step
    assert steps == [(step, []) for step, _ in steps]
    assert row(db, User, qc)["last_login_at"] is not None


def get_threshold() -> int:
    from pharmaqms.kernel.settings import get_settings

    return get_settings().lockout_threshold


def test_a_change_of_an_audited_field_bumps_the_version_once(db: Database, people: People) -> None:
    # given qc at some version
    before = row(db, User, people.qc.user_id)["version"]

    # when an administrator changes qc's roles
    with unit_of_work(db) as s:
        auth.set_roles(
            s,
            actor=people.admin,
            user_id=people.qc.user_id,
            roles=["qc_analyst", "auditor"],
            reason="covers the inspection",
        )

    # then the version moved by one, and the trail is intact
    assert row(db, User, people.qc.user_id)["version"] == before + 1
    assert findings(db) == []


def test_an_account_form_opened_before_a_login_still_saves(db: Database, people: People) -> None:
    # given an administrator's session holding qc's account, read before qc logs in
    with unit_of_work(db) as admins:
        held = auth.get_user(admins, people.qc.user_id)  # kept: the identity map is weak
        version = held.version
        admins.commit()  # the form stays open; the read is over

        # when qc logs in meanwhile, then the administrator saves the form
        login(db, "qc", PASSWORD)
        auth.set_roles(
            admins,
            actor=people.admin,
            user_id=people.qc.user_id,
            roles=["qc_analyst", "auditor"],
            reason="covers the inspection",
        )
        assert held.version == version + 1

    # then the change is saved (a login is not an edit of the account) and the trail is intact
    stored = row(db, User, people.qc.user_id)
    assert stored["roles"] == ["auditor", "qc_analyst"]
    assert stored["version"] == version + 1
    assert stored["last_login_at"] is not None
    assert findings(db) == []
