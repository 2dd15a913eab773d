"""Lockout that someone who knows only the usernames can't turn into a permanent denial of
service: the account locks for a while (15 minutes, doubling with each further lockout before
the next successful login, capped), the count and the security alert stay, and an
administrator can still unlock at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import entries, row, snapshot, sop_in_state, transition
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import AccountLocked, AuthenticationFailed
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import SecurityAlert, User
from pharmaqms.kernel.settings import reset_settings_cache
from pharmaqms.kernel.uow import unit_of_work

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def login(db: Database, username: str, password: str = PASSWORD) -> User:
    with unit_of_work(db) as s:
        return auth.authenticate(s, username=username, password=password, channel=Channel.UI)


def fail_logins(db: Database, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            login(db, username, "wrong-password")


def alert_details(db: Database, user_id: int) -> list[str]:
    with unit_of_work(db, write=False) as s:
        return list(
            s.scalars(
                select(SecurityAlert.detail)
                .where(SecurityAlert.user_id == user_id)
                .order_by(SecurityAlert.id)
            )
        )


def until(db: Database, username: str) -> datetime | None:
    with unit_of_work(db, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        return auth.locked_until(s, user)


def test_a_lock_lasts_fifteen_minutes_then_the_right_password_works(
    db: Database, people: People, frozen_clock: Any
) -> None:
    # given five failed logins at 09:00
    fail_logins(db, "qc", 5)

    # then the account is locked until 09:15, and says so
    assert until(db, "qc") == START + timedelta(minutes=15)
    frozen_clock.advance(minutes=14, seconds=59)
    before = snapshot(db)
    with pytest.raises(AccountLocked) as refused:
        login(db, "qc")
    assert refused.value.detail == (
        "the account qc is locked after repeated failed attempts until 2026-03-02 09:15 UTC "
        "(+00:00): "
        "an administrator can unlock it sooner or reset the password"
    )
    assert snapshot(db) == before  # a refusal while locked counts nothing more

    # when the quarter of an hour has passed, the right password logs in and clears the lock
    frozen_clock.advance(seconds=1)
    assert login(db, "qc").username == "qc"
    cleared = row(db, User, people.qc.user_id)
    assert (cleared["locked_at"], cleared["failed_login_count"]) == (None, 0)
    [detail] = alert_details(db, people.qc.user_id)
    assert detail == (
        "Account qc (Chloe Chemist) locked after 5 failed attempts; last: login via ui; "
        "lockout 1 since the last successful login: 15 min, until 2026-03-02 09:15 UTC"
    )


def test_each_further_lockout_before_a_successful_login_doubles_up_to_the_cap(
    db: Database, people: People, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHARMAQMS_LOCKOUT_MAX_MINUTES", "100")
    reset_settings_cache()
    try:
        lengths = []
        for _ in range(5):
            fail_logins(db, "qc", 5)
            ends = until(db, "qc")
            assert ends is not None
            lengths.append(int((ends - frozen_clock()).total_seconds() // 60))
            frozen_clock.advance(minutes=lengths[-1])
            # the lock ran out; an attacker's next wrong guesses start a new count
        # a successful login ends the series: the next lockout is 15 minutes again
        login(db, "qc")
        frozen_clock.advance(minutes=1)
        fail_logins(db, "qc", 5)
        assert until(db, "qc") == frozen_clock() + timedelta(minutes=15)
    finally:
        monkeypatch.undo()
        reset_settings_cache()

    assert lengths == [15, 30, 60, 100, 100]
    assert len(alert_details(db, people.qc.user_id)) == 6
    actions = [e.action for e in entries(db) if e.record_id == people.qc.user_id]
    assert actions.count("account_locked") == 6
    assert actions.count("lockout_ended") == 4


def test_an_expired_lock_gives_a_new_count_not_an_instant_relock(
    db: Database, people: People, frozen_clock: Any
) -> None:
    fail_logins(db, "qc", 5)
    frozen_clock.advance(minutes=15)

    fail_logins(db, "qc", 1)

    after = row(db, User, people.qc.user_id)
    assert (after["locked_at"], after["failed_login_count"]) == (None, 1)
    assert login(db, "qc").username == "qc"


def test_an_administrator_still_unlocks_at_once(
    db: Database, people: People, frozen_clock: Any
) -> None:
    fail_logins(db, "qc", 5)
    frozen_clock.advance(minutes=1)

    with unit_of_work(db) as s:
        auth.unlock_user(s, actor=people.admin, user_id=people.qc.user_id, reason="help desk")

    assert until(db, "qc") is None
    assert login(db, "qc").username == "qc"


def test_a_locked_account_can_not_sign_until_the_lock_ends(
    db: Database, people: People, frozen_clock: Any
) -> None:
    vid = sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")
    fail_logins(db, "qa", 5)

    with pytest.raises(AccountLocked) as refused:
        transition(db, people.qa, vid, "approve", password=PASSWORD)
    assert refused.value.detail == (
        "the account qa is locked until 2026-03-02 09:15 UTC (+00:00): it can't sign"
    )

    frozen_clock.advance(minutes=15)
    transition(db, people.qa, vid, "approve", password=PASSWORD)


def test_the_lockout_is_told_in_the_sites_time_before_login(
    db: Any, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pharmaqms.kernel.settings import reset_settings_cache

    fail_logins(db, "qc", 5)
    monkeypatch.setenv("PHARMAQMS_SITE_TIME_ZONE", "Europe/Berlin")
    reset_settings_cache()
    try:
        with pytest.raises(AccountLocked) as refused:
            login(db, "qc")
    finally:
        monkeypatch.delenv("PHARMAQMS_SITE_TIME_ZONE")
        reset_settings_cache()
    assert "until 2026-03-02 10:15 CET (+01:00):" in refused.value.detail
