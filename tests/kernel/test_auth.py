"""Authentication and accounts (Part 11 §11.300): argon2 hashes, the password policy, history
and ageing, lockout with an alert, unlock and reset by an administrator, identities never
reused, bearer tokens, session cookies with CSRF protection, idle sessions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import (
    SOP_BODY,
    changes_of,
    entries,
    row,
    signatures,
    snapshot,
    sop_in_state,
    transition,
)
from tests.support import PASSWORD

from pharmaqms.kernel import audit, auth, clock, password_resets
from pharmaqms.kernel.bootstrap import initialise
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    PasswordExpired,
)
from pharmaqms.kernel.http.context import CSRF_HEADER, SESSION_COOKIE
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import Role, SecurityAlert, User
from pharmaqms.kernel.passwords import hash_password, verify_password
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import DocumentVersion

NEW_PASSWORDS = [f"Fresh-Secret-{n}{n}!" for n in range(1, 7)]


def login(db: Database, username: str, password: str) -> User:
    with unit_of_work(db) as s:
        return auth.authenticate(s, username=username, password=password, channel=Channel.UI)


def add_person(db: Database, people: People, username: str, password: str = PASSWORD) -> int:
    # Provisioned as the installation does (pharmaqms user add on the server): qc_analyst signs,
    # and from an administrator it would wait for a second one.
    with unit_of_work(db) as s:
        user = auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username=username,
            full_name=username.title(),
            roles=["qc_analyst"],
            password=password,
            must_change_password=False,
        )
        return user.id


def change_password(db: Database, username: str, old: str, new: str) -> None:
    with unit_of_work(db) as s:
        auth.change_password(s, username=username, old_password=old, new_password=new)


# --- hashing and the policy ------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_and_the_configured_parameters(
    db: Database, people: People
) -> None:
    settings = get_settings()
    stored = row(db, User, people.qc.user_id)["password_hash"]

    assert stored.startswith("$argon2id$v=19$")
    assert (
        f"m={settings.argon2_memory_cost},t={settings.argon2_time_cost},"
        f"p={settings.argon2_parallelism}$"
    ) in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    assert not verify_password(stored, "")
    assert not verify_password(None, PASSWORD)
    # salted: the same password never hashes the same twice
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt-pw!", "it must be at least 12 characters long"),
        ("Aa1-" * 65, "it must be at most 256 characters long"),
        (
            "onlylowercaseletters",
            "it must mix at least three of: lower case, upper case, digits, other characters",
        ),
        (
            "lowercase-and-symbols",
            "it must mix at least three of: lower case, upper case, digits, other characters",
        ),
        ("Hana-Secret-99", "it must not contain the username"),
    ],
)
@pytest.mark.clause("part11:11.300")
def test_each_rule_of_the_password_policy_refuses_and_nothing_is_written(
    db: Database, people: People, password: str, reason: str
) -> None:
    before = snapshot(db)

    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=people.admin,
            username="hana",
            full_name="Hana Hash",
            roles=["auditor"],
            password=password,
        )

    assert refused.value.field == "password"
    assert refused.value.reasons == [reason]
    assert snapshot(db) == before


def test_a_password_that_meets_every_rule_is_accepted(db: Database, people: People) -> None:
    uid = add_person(db, people, "hana", "Good-Enough-Pw9")
    assert login(db, "hana", "Good-Enough-Pw9").id == uid


@pytest.mark.clause("part11:11.300")
def test_the_last_five_passwords_cannot_be_reused(db: Database, people: People) -> None:
    # given a user who changed their password five times
    add_person(db, people, "hana", PASSWORD)
    current = PASSWORD
    for new in NEW_PASSWORDS[:5]:
        change_password(db, "hana", current, new)
        current = new
    before = snapshot(db)
    stored = row(db, User, before.users)  # hana is the newest user

    # when they go back to any of the last five
    for reused in NEW_PASSWORDS[:4]:
        with pytest.raises(InvalidInput) as refused:
            change_password(db, "hana", current, reused)
        # then it is refused and nothing changes
        assert refused.value.detail == "the new password must differ from the last 5 passwords"
    assert snapshot(db) == before
    assert row(db, User, before.users) == stored

    # while the sixth-newest is allowed again
    change_password(db, "hana", current, PASSWORD)
    assert login(db, "hana", PASSWORD).username == "hana"


@pytest.mark.clause("part11:11.300")
def test_a_password_expires_after_the_maximum_age(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given a password set now
    add_person(db, people, "hana")
    max_age = get_settings().password_max_age_days
    assert max_age == 90

    # on its last valid day it still works
    frozen_clock.advance(days=max_age)
    assert login(db, "hana", PASSWORD).username == "hana"

    # a second later it has expired: login is refused and nothing is written
    frozen_clock.advance(seconds=1)
    before = snapshot(db)
    with pytest.raises(PasswordExpired) as refused:
        login(db, "hana", PASSWORD)
    assert refused.value.status == 401
    assert refused.value.extra == {"username": "hana"}
    assert snapshot(db) == before

    # the owner can still change it, proving the old one, and then log in
    change_password(db, "hana", PASSWORD, NEW_PASSWORDS[0])
    assert login(db, "hana", NEW_PASSWORDS[0]).username == "hana"


# --- lockout ---------------------------------------------------------------------------------


def fail_logins(db: Database, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            login(db, username, "wrong-password")


@pytest.mark.clause("part11:11.300")
@pytest.mark.postgres
def test_five_failed_logins_lock_the_account_raise_an_alert_and_are_audited(
    db: Database, people: People
) -> None:
    # given four failed logins: counted, not locked yet
    start = snapshot(db)
    fail_logins(db, "qc", 4)
    assert row(db, User, people.qc.user_id)["failed_login_count"] == 4
    assert row(db, User, people.qc.user_id)["locked_at"] is None
    assert snapshot(db).alerts == start.alerts

    # when the fifth fails
    fail_logins(db, "qc", 1)

    # then the account is locked, an alert is raised, and the trail says so
    locked = row(db, User, people.qc.user_id)
    assert locked["failed_login_count"] == 5
    assert locked["locked_at"] is not None
    with unit_of_work(db, write=False) as s:
        [alert] = s.scalars(select(SecurityAlert).where(SecurityAlert.user_id == locked["id"]))
        kind, detail = alert.kind, alert.detail
    assert kind == "account_locked"
    assert detail.startswith("Account qc (Chloe Chemist) locked after 5 failed attempts")
    actions = [e.action for e in entries(db, after=start.head[0])]
    assert actions == ["login_failed"] * 5 + ["create", "account_locked"]
    [lock_entry] = [e for e in entries(db, after=start.head[0]) if e.action == "account_locked"]
    assert (lock_entry.record_type, lock_entry.record_id) == ("user", locked["id"])
    assert lock_entry.reason == "5 failed attempts in a row"
    assert changes_of(lock_entry)["locked_at"][0] is None


def test_a_locked_user_can_neither_log_in_nor_sign(db: Database, people: People) -> None:
    # given an SOP waiting for QA, and QA locked out
    vid = sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")
    qa = people.qa
    fail_logins(db, "qa", 5)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when QA logs in, or signs, with the right password
    with pytest.raises(AccountLocked) as login_refused:
        login(db, "qa", PASSWORD)
    with pytest.raises(AccountLocked) as signing_refused:
        transition(db, qa, vid, "approve", password=PASSWORD)

    # then both are refused, and nothing changed
    assert "is locked" in login_refused.value.detail
    assert "can't sign" in signing_refused.value.detail
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored
    assert signatures(db, vid) == []


@pytest.mark.clause("part11:11.200", "part11:11.300")
def test_wrong_signature_passwords_count_toward_the_same_lockout(
    db: Database, people: People
) -> None:
    vid = sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")
    fail_logins(db, "qa", 4)

    with pytest.raises(AuthenticationFailed):
        transition(db, people.qa, vid, "approve", password="wrong-password")

    assert row(db, User, people.qa.user_id)["locked_at"] is not None
    with pytest.raises(AccountLocked):
        login(db, "qa", PASSWORD)


def test_an_administrator_unlocks_an_account(db: Database, people: People) -> None:
    fail_logins(db, "qc", 5)
    start = snapshot(db)

    with unit_of_work(db) as s:
        auth.unlock_user(
            s, actor=people.admin, user_id=people.qc.user_id, reason="called the help desk"
        )

    [entry] = entries(db, after=start.head[0])
    assert (entry.action, entry.actor_username, entry.reason) == (
        "unlock",
        "admin",
        "called the help desk",
    )
    assert changes_of(entry)["failed_login_count"] == [5, 0]
    assert login(db, "qc", PASSWORD).username == "qc"


def test_an_administrator_resets_a_password_which_unlocks_and_must_be_changed(
    db: Database, people: People
) -> None:
    fail_logins(db, "qc", 5)

    with unit_of_work(db) as s:
        temporary = password_resets.reset_password(
            s, actor=people.admin, user_id=people.qc.user_id, reason="forgotten"
        ).secret

    assert row(db, User, people.qc.user_id)["locked_at"] is None
    with pytest.raises(PasswordExpired):
        login(db, "qc", temporary)
    change_password(db, "qc", temporary, NEW_PASSWORDS[0])
    assert login(db, "qc", NEW_PASSWORDS[0]).username == "qc"


@pytest.mark.clause("part11:11.10(g)")
def test_only_an_administrator_unlocks(db: Database, people: People) -> None:
    from pharmaqms.kernel.errors import PermissionDenied

    fail_logins(db, "qc", 5)
    before = snapshot(db)

    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        auth.unlock_user(s, actor=people.qa, user_id=people.qc.user_id, reason="friend")

    assert snapshot(db) == before
    assert row(db, User, people.qc.user_id)["locked_at"] is not None


# --- identities --------------------------------------------------------------------------------


@pytest.mark.clause("part11:11.100", "part11:11.300")
@pytest.mark.postgres
def test_a_username_is_never_reused_after_deactivation(db: Database, people: People) -> None:
    # given a deactivated user
    with unit_of_work(db) as s:
        auth.deactivate_user(
            s, actor=people.admin, user_id=people.operator.user_id, reason="left the company"
        )
    before = snapshot(db)

    # when someone new would get the same name, in any case
    for username in ("operator", "Operator", " OPERATOR "):
        with pytest.raises(Conflict) as refused, unit_of_work(db) as s:
            auth.add_user(
                s,
                actor=people.admin,
                username=username,
                full_name="Olga Other",
                roles=["production_operator"],
                password=PASSWORD,
            )
        # then it is refused
        assert refused.value.detail == "the username 'operator' exists already and is never reused"

    # and nothing changed; the old account still exists, deactivated, and can't log in
    assert snapshot(db) == before
    assert row(db, User, people.operator.user_id)["is_active"] is False
    with pytest.raises(AuthenticationFailed):
        login(db, "operator", PASSWORD)


@pytest.mark.clause("part11:11.10(d)")
@pytest.mark.postgres
def test_a_login_to_an_inactive_unknown_or_machine_account_is_refused_and_audited(
    db: Database, people: People
) -> None:
    # given a deactivated person; and a name nobody has, and the system's service account
    with unit_of_work(db) as s:
        auth.deactivate_user(
            s, actor=people.admin, user_id=people.operator.user_id, reason="left the company"
        )
    for username in ("operator", "nobody", "system"):
        with unit_of_work(db, write=False) as s:
            known = auth.user_by_username(s, username)
            user_id = known.id if known is not None else None
        before = snapshot(db)

        # when someone tries to log in with it
        with pytest.raises(AuthenticationFailed) as refused:
            login(db, username, PASSWORD)

        # then the refusal says no more than needed, and the attempt is in the trail
        assert refused.value.detail == "wrong username or password"
        [attempt] = entries(db, after=before.head[0])
        assert (attempt.action, attempt.record_type, attempt.record_id) == (
            "login_failed",
            "user",
            user_id,
        )
        assert attempt.record_label == username
        assert changes_of(attempt) == {"why": "unknown or inactive account"}
        assert replace(snapshot(db), audit_entries=0, head=(0, "")) == replace(
            before, audit_entries=0, head=(0, "")
        )


# --- bearer tokens -----------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def issue(client: TestClient, username: str = "qc") -> tuple[str, int]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["token"], response.json()["token_id"]


def assert_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["detail"] == "the bearer token is unknown, expired or revoked"


@pytest.mark.clause("part11:11.10(d)")
def test_an_unknown_bearer_token_is_refused(app: Any) -> None:
    client = TestClient(app)

    assert_401(client.get("/api/v1/me", headers=bearer("pqms_not-a-token")))


@pytest.mark.clause("part11:11.10(d)")
def test_an_expired_bearer_token_is_refused(
    app: Any, db: Database, frozen_clock: clock.FrozenClock
) -> None:
    client = TestClient(app)
    token, _ = issue(client)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    frozen_clock.advance(days=1, seconds=1)

    assert_401(client.get("/api/v1/me", headers=bearer(token)))


@pytest.mark.clause("part11:11.10(d)")
def test_a_revoked_bearer_token_is_refused(app: Any, db: Database, people: People) -> None:
    client = TestClient(app)
    token, token_id = issue(client)
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == "qc"

    with unit_of_work(db) as s:
        auth.revoke_api_token(s, actor=people.qc, token_id=token_id, reason="laptop lost")

    assert_401(client.get("/api/v1/me", headers=bearer(token)))


def test_a_token_of_a_deactivated_user_is_refused(app: Any, db: Database, people: People) -> None:
    client = TestClient(app)
    token, _ = issue(client)

    with unit_of_work(db) as s:
        auth.deactivate_user(s, actor=people.admin, user_id=people.qc.user_id, reason="left")

    assert_401(client.get("/api/v1/me", headers=bearer(token)))


# --- session cookies ---------------------------------------------------------------------------


def browser(app: Any, db: Database, username: str) -> tuple[TestClient, str]:
    """A client holding a logged-in session cookie; returns it and the session's CSRF token."""
    with unit_of_work(db) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        opened = auth.open_web_session(s, user)
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, opened.cookie)
    return client, opened.csrf_token


NEW_SOP = {"doc_type": "sop", "title": "Gowning", "body": SOP_BODY}


def test_an_unsafe_request_with_the_cookie_but_without_the_csrf_token_is_refused(
    app: Any, db: Database
) -> None:
    # given a logged-in browser
    client, csrf = browser(app, db, "qc")
    before = snapshot(db)

    # when a page on another site makes it post (the cookie goes along, the token does not)
    forged = client.post("/api/v1/documents", json=NEW_SOP)
    wrong = client.post("/api/v1/documents", json=NEW_SOP, headers={CSRF_HEADER: "guess"})

    # then both are refused and nothing changed
    for response in (forged, wrong):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "permission_denied"
        assert "CSRF token is missing or wrong" in response.json()["detail"]
    assert snapshot(db) == before

    # while reading needs no token, and the real token lets the same post through
    assert client.get("/api/v1/me").json()["username"] == "qc"
    created = client.post("/api/v1/documents", json=NEW_SOP, headers={CSRF_HEADER: csrf})
    assert created.status_code == 201, created.text
    assert snapshot(db).versions == before.versions + 1


@pytest.mark.clause("part11:11.10(d)")
def test_an_idle_session_expires(app: Any, db: Database, frozen_clock: clock.FrozenClock) -> None:
    # given a browser session used every 29 minutes
    client, _csrf = browser(app, db, "qc")
    idle = get_settings().session_idle_minutes
    assert idle == 30
    for _ in range(3):
        frozen_clock.advance(minutes=idle - 1)
        assert client.get("/api/v1/me").status_code == 200

    # when it is left alone longer than the idle limit
    frozen_clock.advance(minutes=idle, seconds=1)
    response = client.get("/api/v1/me")

    # then it no longer works
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"


@pytest.mark.clause("part11:11.10(d)")
def test_a_session_ends_after_its_maximum_lifetime_even_when_in_use(
    app: Any, db: Database, frozen_clock: clock.FrozenClock
) -> None:
    client, _csrf = browser(app, db, "qc")
    hours = get_settings().session_max_hours
    for _ in range(hours * 3):
        frozen_clock.advance(minutes=20)
        assert client.get("/api/v1/me").status_code == 200

    frozen_clock.advance(minutes=20)

    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.clause("part11:11.10(d)", "part11:11.300")
def test_a_deactivated_users_session_stops_working(app: Any, db: Database, people: People) -> None:
    client, _csrf = browser(app, db, "qc")
    assert client.get("/api/v1/me").status_code == 200
    before = snapshot(db)

    with unit_of_work(db) as s:
        auth.deactivate_user(s, actor=people.admin, user_id=people.qc.user_id, reason="left")

    assert client.get("/api/v1/me").status_code == 401
    assert replace(snapshot(db), audit_entries=0, head=(0, "")) == replace(
        before, audit_entries=0, head=(0, "")
    )


# --- password ageing reaches the API ------------------------------------------------------------


def test_a_person_can_not_get_a_never_expiring_or_long_lived_token(
    app: Any, db: Database, people: People
) -> None:
    # given qc holding a token of the default lifetime
    client = TestClient(app)
    token, _ = issue(client)
    before = snapshot(db)

    # when they log in for a token that never expires or lasts more than 90 days, or ask for
    # one for their account with the token they hold
    never = client.post(
        "/api/v1/auth/token",
        json={"username": "qc", "password": PASSWORD, "name": "forever", "valid_days": None},
    )
    long = client.post(
        "/api/v1/auth/token",
        json={"username": "qc", "password": PASSWORD, "name": "a year", "valid_days": 365},
    )
    minted = client.post(
        f"/api/v1/users/{people.qc.user_id}/tokens",
        json={"name": "forever", "valid_days": None},
        headers=bearer(token),
    )

    # then each is refused naming the field or the rule, and nothing is written
    for refused in (never, long):
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "valid_days"
    assert long.json()["detail"] == "valid_days: Input should be less than or equal to 90"
    assert minted.status_code == 403, minted.text
    assert minted.json()["code"] == "permission_denied"
    assert snapshot(db) == before


def test_a_persons_token_lasts_a_day_unless_asked_and_at_most_90(
    app: Any, db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    client = TestClient(app)
    login_for = {"username": "qc", "password": PASSWORD}

    default = client.post("/api/v1/auth/token", json=login_for)
    longest = client.post("/api/v1/auth/token", json={**login_for, "name": "CI", "valid_days": 90})

    assert default.status_code == 200, default.text
    assert expiry(default.json()) == clock.now() + timedelta(days=1)
    assert expiry(longest.json()) == clock.now() + timedelta(days=90)


def test_failed_logins_for_a_token_count_toward_the_lockout(app: Any, db: Database) -> None:
    client = TestClient(app)
    for _ in range(5):
        refused = client.post("/api/v1/auth/token", json={"username": "qc", "password": "wrong"})
        assert refused.status_code == 401

    locked = client.post("/api/v1/auth/token", json={"username": "qc", "password": PASSWORD})

    assert locked.status_code == 401
    assert locked.json()["code"] == "account_locked"


def expiry(token: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))


def test_a_service_account_keeps_its_long_lived_tokens(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    with unit_of_work(db) as s:
        service = auth.add_user(
            s,
            actor=people.admin,
            username="mes-bridge",
            full_name="MES bridge",
            roles=["integration"],
            password=None,
            service_account=True,
        )
        yearly, _ = auth.create_api_token(s, actor=people.admin, user_id=service.id, name="push")
        never, _ = auth.create_api_token(
            s, actor=people.admin, user_id=service.id, name="legacy", never_expires=True
        )

        assert yearly.expires_at == clock.now() + timedelta(days=365)
        assert never.expires_at is None


def test_a_signer_whose_password_expired_is_refused_and_told_to_change_it(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given an SOP in review and an approver whose password has passed its maximum age
    with unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username="ines",
            full_name="Ines",
            roles=["qa"],
            password=PASSWORD,
            must_change_password=False,
        )
    approver = people.actor("ines")
    vid = sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")
    frozen_clock.advance(days=get_settings().password_max_age_days, seconds=1)
    before = snapshot(db)

    # when they sign with the right password
    with pytest.raises(PasswordExpired) as refused:
        transition(db, approver, vid, "approve", password=PASSWORD)

    # then the signature is refused, saying to change the password, and nothing is written
    assert refused.value.detail == (
        "signature (Approved) refused: the password of ines has expired or must be changed: "
        "change it, then sign"
    )
    assert snapshot(db) == before
    assert signatures(db, vid) == []


# --- reading accounts: users.read ----------------------------------------------------------------


@pytest.mark.clause("alcoa:available")
def test_an_auditor_reads_users_and_security_alerts_through_the_api(
    api: Any, db: Database, people: People
) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login(db, "qc", "wrong")
    auditor = api("auditor")

    users = auditor.get("/api/v1/users")
    alerts = auditor.get("/api/v1/security/alerts")

    assert users.status_code == 200, users.text
    assert {u["username"]: u["roles"] for u in users.json()}["qc"] == ["qc_analyst"]
    assert alerts.status_code == 200, alerts.text
    assert [a["kind"] for a in alerts.json()] == ["account_locked"]


def test_an_auditor_changes_no_account_through_the_api(
    api: Any, db: Database, people: People
) -> None:
    auditor = api("auditor")
    before = snapshot(db)

    refused = auditor.post(
        f"/api/v1/users/{people.qc.user_id}/deactivate", json={"reason": "inspection"}
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert snapshot(db) == before
    assert row(db, User, people.qc.user_id)["is_active"] is True


def test_an_existing_database_gets_users_read_for_auditors_at_init(
    db: Database, people: People
) -> None:
    # given a database installed before users.read existed
    with unit_of_work(db) as s, audit.changes(s, actor=people.admin, reason="as installed"):
        for role in s.scalars(select(Role).where(Role.name.in_(["auditor", "qa"]))):
            role.permissions = [p for p in role.permissions if p != "users.read"]

    # when it is initialised again (pharmaqms init migrates and syncs the roles)
    initialise(db)

    # then auditors and QA read accounts; the role change is in the audit trail
    with unit_of_work(db, write=False) as s:
        granted = {r.name: r.permissions for r in s.scalars(select(Role))}
    assert "users.read" in granted["auditor"]
    assert "users.read" in granted["qa"]
    assert people.actor("auditor").can("users.read")
    assert not people.actor("auditor").can("users.manage")
