"""A password reset by an administrator (Part 11 §11.300(c)): everything of the account ends, the
temporary password is made up by the system and works once, and the account signs nothing until
its owner has set their own password and confirmed the reset; an administrator who used the
secret is found out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import (
    changes_of,
    entries,
    row,
    signatures,
    snapshot,
    sop_in_state,
    transition,
)

from pharmaqms.kernel import auth, clock, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    OwnAccount,
    PasswordExpired,
    PasswordResetUnconfirmed,
    SegregationOfDuties,
)
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import PasswordReset, SecurityAlert, Task, User, WebSession
from pharmaqms.kernel.passwords import policy_problems, verify_password
from pharmaqms.kernel.uow import unit_of_work

OWN = "Own-Secret-Pw-42!"


def reset(db: Database, people: People, username: str = "qa", reason: str = "forgot it") -> str:
    with unit_of_work(db) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        return password_resets.reset_password(
            s, actor=people.admin, user_id=user.id, reason=reason
        ).secret


def login(db: Database, username: str, password: str) -> User:
    with unit_of_work(db) as s:
        return auth.authenticate(s, username=username, password=password, channel=Channel.UI)


def change(db: Database, username: str, old: str, new: str) -> None:
    with unit_of_work(db) as s:
        auth.change_password(s, username=username, old_password=old, new_password=new)


def the_reset(db: Database) -> PasswordReset:
    with unit_of_work(db, write=False) as s:
        found = s.scalars(select(PasswordReset).order_by(PasswordReset.id.desc())).first()
        assert found is not None
        s.expunge(found)
        return found


def alerts(db: Database) -> list[tuple[str, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (a.kind, a.detail) for a in s.scalars(select(SecurityAlert).order_by(SecurityAlert.id))
        ]


def test_the_temporary_password_is_made_up_shown_once_and_stored_only_as_a_hash(
    db: Database, people: People
) -> None:
    secret = reset(db, people)

    assert re.fullmatch(r"[A-HJ-NP-Za-km-z2-9]{4}(-[A-HJ-NP-Za-km-z2-9]{4}){3}", secret)
    assert policy_problems(secret, username="qa") == []
    stored = the_reset(db)
    assert secret not in repr(row(db, PasswordReset, stored.id))
    assert verify_password(stored.temporary_hash, secret)
    assert row(db, User, people.qa.user_id)["must_change_password"] is True
    [entry] = entries(db, record_type="password_reset")
    assert changes_of(entry)["temporary_hash"] == [None, "***"]


@pytest.mark.clause("part11:11.300")
def test_the_temporary_password_works_once_and_a_second_use_is_told_and_alerted(
    db: Database, people: People
) -> None:
    # given an administrator's reset, and the temporary password used to set a new one
    secret = reset(db, people)
    with pytest.raises(PasswordExpired):
        login(db, "qa", secret)
    change(db, "qa", secret, OWN)
    used_at = the_reset(db).password_set_at
    assert used_at is not None

    # when someone presents the temporary password again
    with pytest.raises(AuthenticationFailed) as refused:
        login(db, "qa", secret)

    # then they are told it was used, and when; security is alerted; it counts as a failure
    assert refused.value.detail == (
        f"this temporary password was used already, on {used_at:%Y-%m-%d %H:%M} UTC (+00:00): "
        "if that "
        "was not you, tell your security officer at once"
    )
    assert [kind for kind, _ in alerts(db)] == ["password_reset", "temporary_password_reused"]
    assert row(db, User, people.qa.user_id)["failed_login_count"] == 1
    assert login(db, "qa", OWN).username == "qa"


def test_the_temporary_password_expires_after_72_hours(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    secret = reset(db, people)
    frozen_clock.advance(hours=72, seconds=1)
    before = snapshot(db)

    with pytest.raises(AuthenticationFailed) as refused:
        change(db, "qa", secret, OWN)

    assert refused.value.detail.startswith("the temporary password of qa expired on ")
    assert snapshot(db) == before


@pytest.mark.clause("part11:11.300")
def test_a_reset_ends_every_session_and_token_of_the_account(
    db: Database, people: People, api: Any
) -> None:
    with unit_of_work(db) as s:
        user = auth.user_by_username(s, "qa")
        assert user is not None
        auth.open_web_session(s, user)
    client = api("qa")
    assert client.get("/api/v1/me").status_code == 200

    reset(db, people)

    with unit_of_work(db, write=False) as s:
        open_sessions = s.scalars(
            select(WebSession).where(
                WebSession.user_id == people.qa.user_id, WebSession.ended_at.is_(None)
            )
        ).all()
    assert open_sessions == []
    assert client.get("/api/v1/me").status_code == 401
    [(kind, detail)] = alerts(db)
    assert kind == "password_reset"
    assert detail == (
        "Password of qa (Quentin Quality) reset by admin (Ada Administrator): forgot it. 2 "
        "session(s) and token(s) ended; qa signs nothing until they have set their own "
        "password and confirmed the reset"
    )


def test_the_owner_signs_again_once_they_have_set_their_password_and_confirmed(
    db: Database, people: People
) -> None:
    # given an SOP waiting for QA, and QA's password reset and changed by its owner
    vid = sop_in_state(db, people.qc, people.qa2, "in_review", "Line clearance")
    secret = reset(db, people)
    change(db, "qa", secret, OWN)
    before = snapshot(db)

    # when QA signs before confirming the reset, it is refused and nothing is written
    with pytest.raises(PasswordResetUnconfirmed) as refused:
        transition(db, people.qa, vid, "approve", password=OWN)
    assert refused.value.detail.startswith(
        "signature (Approved) refused: the password of qa was reset by an administrator on "
    )
    assert snapshot(db) == before

    # and once confirmed (the answer is audited, the task closed), the signature goes through
    with unit_of_work(db) as s:
        password_resets.confirm_reset(s, actor=people.qa, reset_id=the_reset(db).id)
    transition(db, people.qa, vid, "approve", password=OWN)

    assert [s.signer_username for s in signatures(db, vid)] == ["qa"]
    [confirmed] = [e for e in entries(db, record_type="password_reset") if e.action == "confirm"]
    assert (confirmed.actor_username, confirmed.reason) == (
        "qa",
        "the owner confirmed they asked for the reset",
    )
    with unit_of_work(db, write=False) as s:
        task = s.scalars(select(Task).where(Task.record_type == "password_reset")).one()
        assert (task.status, task.outcome) == ("done", "confirmed by its owner")


def test_a_disputed_reset_alerts_security(db: Database, people: People) -> None:
    secret = reset(db, people)
    change(db, "qa", secret, OWN)

    with unit_of_work(db) as s:
        password_resets.dispute_reset(
            s, actor=people.qa, reset_id=the_reset(db).id, note="I did not ask; on leave"
        )

    kinds = [kind for kind, _ in alerts(db)]
    assert kinds == ["password_reset", "password_reset_disputed"]
    assert alerts(db)[1][1].startswith(
        "qa (Quentin Quality) did not ask for the password reset by admin (Ada Administrator) on "
    )
    assert the_reset(db).disputed_at is not None


def test_only_the_owner_answers_a_reset_and_only_once_they_set_their_password(
    db: Database, people: People
) -> None:
    reset(db, people)
    reset_id = the_reset(db).id
    before = snapshot(db)

    with pytest.raises(NotFound), unit_of_work(db) as s:
        password_resets.confirm_reset(s, actor=people.admin, reset_id=reset_id)
    with pytest.raises(Conflict) as early, unit_of_work(db) as s:
        password_resets.confirm_reset(s, actor=people.qa, reset_id=reset_id)

    assert early.value.detail == "set your own password first, then confirm the reset"
    assert snapshot(db) == before


def test_the_resetting_administrator_does_not_acknowledge_the_alert_and_no_one_resets_their_own(
    db: Database, people: People
) -> None:
    reset(db, people)
    with unit_of_work(db, write=False) as s:
        alert_id = s.scalars(select(SecurityAlert.id)).one()
    before = snapshot(db)

    with pytest.raises(SegregationOfDuties), unit_of_work(db) as s:
        auth.acknowledge_alert(s, actor=people.admin, alert_id=alert_id, note="was me")
    with pytest.raises(OwnAccount), unit_of_work(db) as s:
        password_resets.reset_password(
            s, actor=people.admin, user_id=people.admin.user_id, reason="mine"
        )

    assert snapshot(db) == before
