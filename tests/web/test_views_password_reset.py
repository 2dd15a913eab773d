"""The owner's side of a password reset in the browser: the task in their inbox leads to the
reset, which they confirm (signing works again) or dispute (security is alerted)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from tests.web.support import flash_of

from pharmaqms.kernel import auth, password_resets
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import PasswordReset, SecurityAlert, User
from pharmaqms.kernel.uow import unit_of_work

OWN = "Own-Secret-Pw-42!"


def reset_by_admin(db: Database, username: str) -> str:
    with unit_of_work(db) as s:
        admin = auth.actor_for(s, s.scalars(select(User).where(User.username == "admin")).one())
        target = s.scalars(select(User).where(User.username == username)).one()
        return password_resets.reset_password(
            s, actor=admin, user_id=target.id, reason="forgot it"
        ).secret


def owner_back_in(ui: Any, username: str, temporary: str) -> Any:
    client = ui()
    client.client.post("/login", data={"username": username, "password": temporary})
    client.get(f"/password?username={username}")
    changed = client.post(
        "/password",
        {
            "username": username,
            "old_password": temporary,
            "new_password": OWN,
            "confirm_password": OWN,
        },
    )
    assert changed.headers["location"] == "/login"
    assert client.login(username, OWN).headers["location"] == "/"
    return client


def test_the_owner_follows_the_task_and_confirms_the_reset(ui: Any, db: Database) -> None:
    temporary = reset_by_admin(db, "qp")
    client = owner_back_in(ui, "qp", temporary)

    inbox = client.get("/").text
    link = re.search(r'<a href="(/account/password-resets/\d+)">Your password was reset by', inbox)
    assert link, inbox
    page = client.get(link.group(1)).text
    assert "Ada Administrator (admin)" in page
    confirmed = client.post(f"{link.group(1)}/confirm", {}, referer=link.group(1))

    assert flash_of(client.follow(confirmed).text) == (
        "Thank you: the reset is confirmed, and you can sign again."
    )
    with unit_of_work(db, write=False) as s:
        reset = s.scalars(select(PasswordReset)).one()
        assert reset.confirmed_at is not None
        assert auth.open_resets(s, reset.user_id) == []


def test_the_owner_disputes_a_reset_they_did_not_ask_for(ui: Any, db: Database) -> None:
    temporary = reset_by_admin(db, "pv")
    client = owner_back_in(ui, "pv", temporary)
    with unit_of_work(db, write=False) as s:
        reset_id = s.scalars(select(PasswordReset.id)).one()
    client.get(f"/account/password-resets/{reset_id}")

    disputed = client.post(
        f"/account/password-resets/{reset_id}/dispute", {"note": "I was on holiday"}
    )

    assert flash_of(client.follow(disputed).text) == (
        "Security has been alerted that you did not ask for this reset."
    )
    with unit_of_work(db, write=False) as s:
        kinds = list(s.scalars(select(SecurityAlert.kind).order_by(SecurityAlert.id)))
    assert kinds == ["password_reset", "password_reset_disputed"]


def test_someone_else_can_not_open_the_reset_of_an_account(ui: Any, db: Database) -> None:
    reset_by_admin(db, "pv")
    with unit_of_work(db, write=False) as s:
        reset_id = s.scalars(select(PasswordReset.id)).one()

    page = ui("qa").get(f"/account/password-resets/{reset_id}")

    assert page.status_code == 404
