"""Login, logout and password change through the browser forms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from tests.support import PASSWORD
from tests.web.support import counts, flash_of, last_audit_action

from pharmaqms.kernel import auth, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import User, WebSession
from pharmaqms.kernel.uow import unit_of_work

NEW_PASSWORD = "Another-Horse-17!"


def open_sessions(db: Database, username: str) -> int:
    with unit_of_work(db, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        rows = s.scalars(
            select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        )
        return len(list(rows))


@pytest.mark.clause("part11:11.10(d)")
def test_an_unauthenticated_visit_is_sent_to_the_login_page(ui: Any) -> None:
    client = ui()

    response = client.get("/documents")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/documents"
    page = client.get("/login?next=/documents")
    assert page.status_code == 200
    assert 'name="next" value="/documents"' in page.text


def test_login_sets_an_httponly_lax_session_cookie_and_returns_to_the_page_asked_for(
    ui: Any, db: Database
) -> None:
    client = ui()

    response = client.post_login({"username": "qa", "password": PASSWORD, "next": "/documents"})

    assert response.status_code == 303
    assert response.headers["location"] == "/documents"
    [cookie] = [c for c in response.headers.get_list("set-cookie") if "pqms_session=" in c]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert open_sessions(db, "qa") == 1
    assert last_audit_action(db) == "login"


def test_login_never_sends_people_to_another_site(ui: Any) -> None:
    client = ui()

    response = client.post_login(
        {"username": "qa", "password": PASSWORD, "next": "//evil.example/x"}
    )

    assert response.headers["location"] == "/"


def test_a_wrong_password_shows_the_reason_and_opens_no_session(ui: Any, db: Database) -> None:
    client = ui()

    response = client.post_login({"username": "qa", "password": "wrong"})

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    assert "pqms_session" not in client.client.cookies
    page = client.get(response.headers["location"])
    assert flash_of(page.text) == "wrong username or password"
    assert open_sessions(db, "qa") == 0
    assert last_audit_action(db) == "login_failed"


def test_a_locked_account_is_told_so_even_with_the_right_password(ui: Any, db: Database) -> None:
    client = ui()
    for _ in range(5):
        client.post_login({"username": "qc", "password": "wrong"})

    response = client.post_login({"username": "qc", "password": PASSWORD})

    page = client.follow(response)
    assert re.fullmatch(
        r"the account qc is locked after repeated failed attempts until "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\+00:00\): an administrator can unlock it sooner or "
        r"reset "
        r"the password",
        flash_of(page.text),
    )
    assert open_sessions(db, "qc") == 0


def test_an_expired_password_leads_to_the_change_form_and_the_new_one_works(
    ui: Any, db: Database
) -> None:
    with unit_of_work(db) as s:
        user = s.scalars(select(User).where(User.username == "qp")).one()
        admin = auth.actor_for(s, s.scalars(select(User).where(User.username == "admin")).one())
        temporary = password_resets.reset_password(
            s, actor=admin, user_id=user.id, reason="forgotten"
        ).secret
    client = ui()

    refused = client.post_login({"username": "qp", "password": temporary})

    assert refused.headers["location"] == "/password?username=qp"
    form = client.follow(refused)
    assert flash_of(form.text) == (
        "the password of qp has expired or must be changed: change it first"
    )
    assert 'name="username" value="qp"' in form.text
    changed = client.post(
        "/password",
        {
            "username": "qp",
            "old_password": temporary,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.headers["location"] == "/login"
    assert flash_of(client.follow(changed).text) == (
        "Password changed: log in with the new password."
    )
    assert client.login("qp", NEW_PASSWORD).headers["location"] == "/"


def test_a_mistyped_confirmation_changes_no_password(ui: Any, db: Database) -> None:
    client = ui()
    client.get("/password?username=qa")
    before = counts(db)

    response = client.post(
        "/password",
        {
            "username": "qa",
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "!",
        },
    )

    assert response.headers["location"] == "/password?username=qa"
    assert flash_of(client.follow(response).text) == (
        "the new password and its confirmation differ"
    )
    assert counts(db) == before
    assert client.login("qa").headers["location"] == "/"


@pytest.mark.clause("part11:11.10(d)")
def test_logout_ends_the_session(ui: Any, db: Database) -> None:
    client = ui("qa")

    response = client.post("/logout", {})

    assert response.headers["location"] == "/login"
    assert open_sessions(db, "qa") == 0
    assert client.get("/").headers["location"] == "/login?next=/"


def test_logout_without_the_csrf_token_is_refused(ui: Any, db: Database) -> None:
    client = ui("qa")

    response = client.post("/logout", {}, csrf=False)

    assert response.status_code == 303
    assert open_sessions(db, "qa") == 1
    assert flash_of(client.follow(response).text) == (
        "the form's CSRF token is missing or wrong: reload the page and retry"
    )
