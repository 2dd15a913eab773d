"""User administration pages: every change through the identity services, with its reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from tests.support import PASSWORD, PEOPLE
from tests.web.support import counts, flash_of

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import RoleGrantRequest, SecurityAlert, User
from pharmaqms.kernel.uow import unit_of_work


def user(db: Database, username: str) -> User:
    with unit_of_work(db, write=False) as s:
        found = auth.user_by_username(s, username)
        assert found is not None
        s.expunge(found)  # a snapshot to read after the session ends
        return found


def lock_out(ui: Any, username: str) -> None:
    client = ui()
    for _ in range(5):
        client.post_login({"username": username, "password": "wrong"})


def test_the_user_list_shows_status_roles_last_login_and_password_age(
    ui: Any, db: Database
) -> None:
    lock_out(ui, "qc")

    page = ui("admin").get("/admin/users").text

    for username, (full_name, roles) in PEOPLE.items():
        row = re.search(rf'<tr data-username="{username}">(.*?)</tr>', page, re.S)
        assert row, username
        assert full_name in row.group(1)
        assert f'<td data-testid="user-roles">{", ".join(roles)}</td>' in row.group(1)
        assert '<td class="num">0 d</td>' in row.group(1)
    qc_row = re.search(r'<tr data-username="qc">(.*?)</tr>', page, re.S)
    assert qc_row and 'data-status="locked"' in qc_row.group(1)
    admin_row = re.search(r'<tr data-username="admin">(.*?)</tr>', page, re.S)
    assert admin_row and "UTC" in admin_row.group(1)  # logged in just now
    assert "Account qc (Chloe Chemist) locked after 5 failed attempts" in page


def test_adding_a_user_with_roles_from_the_checkboxes(ui: Any, db: Database) -> None:
    client = ui("admin")
    client.get("/admin/users")

    response = client.post(
        "/admin/users",
        {
            "username": "mara.micro",
            "full_name": "Mara Micro",
            "email": "mara@example.org",
            "roles": ["auditor", "qc_analyst", "rd_scientist"],
            "password": PASSWORD,
            "grant_reason": "new microbiologist",
            "signature_password": PASSWORD,
        },
    )

    # the role that does not sign is given; those that sign wait for a second administrator
    created = user(db, "mara.micro")
    assert response.headers["location"] == f"/admin/users/{created.id}"
    message = flash_of(client.follow(response).text)
    assert message.startswith(
        "User mara.micro (Mara Micro) added. The roles qc_analyst, rd_scientist wait for a "
        "second administrator (RGR-"
    )
    assert created.roles == ["auditor"]
    assert created.must_change_password is True
    with unit_of_work(db, write=False) as s:
        [request] = s.scalars(select(RoleGrantRequest))
        assert (request.grantee_id, request.roles, request.reason) == (
            created.id,
            ["qc_analyst", "rd_scientist"],
            "new microbiologist",
        )
    page = client.get(f"/admin/users/{created.id}").text
    assert 'data-testid="pending-grant"' in page


@pytest.mark.clause("part11:11.100")
def test_a_username_is_never_reused(ui: Any, db: Database) -> None:
    client = ui("admin")
    client.get("/admin/users")
    before = counts(db)

    response = client.post(
        "/admin/users",
        {"username": "qc", "full_name": "Someone Else", "roles": ["qa"], "password": PASSWORD},
        referer="/admin/users",
    )

    assert flash_of(client.follow(response).text) == (
        "the username 'qc' exists already and is never reused"
    )
    assert counts(db) == before


@pytest.mark.clause("annex11:12")
def test_changing_roles_needs_a_reason(ui: Any, db: Database) -> None:
    target = user(db, "rd")
    client = ui("admin")
    client.get(f"/admin/users/{target.id}")
    before = counts(db)

    refused = client.post(
        f"/admin/users/{target.id}/roles", {"roles": ["rd_scientist", "auditor"], "reason": ""}
    )
    assert "reason" in flash_of(client.follow(refused).text)
    assert counts(db) == before
    assert user(db, "rd").roles == ["rd_scientist"]

    done = client.post(
        f"/admin/users/{target.id}/roles",
        {"roles": ["rd_scientist", "auditor"], "reason": "helps with the inspection"},
    )
    assert flash_of(client.follow(done).text) == "Roles of rd: auditor, rd_scientist."
    assert user(db, "rd").roles == ["auditor", "rd_scientist"]


def test_a_role_that_signs_is_given_by_a_request_a_second_administrator_approves(
    ui: Any, db: Database
) -> None:
    with unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username="admin2",
            full_name="Bea Backup",
            roles=["admin"],
            password=PASSWORD,
            must_change_password=False,
        )
    target = user(db, "rd")
    client = ui("admin")
    client.get(f"/admin/users/{target.id}")
    before = counts(db)

    # the roles form does not give it
    direct = client.post(
        f"/admin/users/{target.id}/roles", {"roles": ["rd_scientist", "qa"], "reason": "QA too"}
    )
    assert flash_of(client.follow(direct).text) == (
        "qa signs: giving it to rd takes a request that a second administrator approves "
        "(role-requests)"
    )
    assert counts(db) == before

    # the signed request does, once the second administrator approves it
    client.get(f"/admin/users/{target.id}")
    asked = client.post(
        f"/admin/users/{target.id}/role-requests",
        {"roles": ["qa"], "reason": "QA reviewer for R&D", "password": PASSWORD},
    )
    page = client.follow(asked)
    assert "wait for a second administrator" in flash_of(page.text)
    assert user(db, "rd").roles == ["rd_scientist"]
    request_url = asked.headers["location"]
    assert 'disabled data-transition="approve"' in page.text  # not by the one who asked
    second = ui("admin2")
    [line] = [line for line in second.get("/").text.split('data-testid="task"')[1:] if "qa" in line]
    assert f'href="{request_url}"' in line
    form = second.get(request_url).text
    version = re.search(r'name="expected_version" value="(\d+)"', form)
    assert version
    approved = second.post(
        f"{request_url}/transitions/approve",
        {"password": PASSWORD, "expected_version": version.group(1)},
        referer=request_url,
    )
    assert "Approve as second administrator done, signed “Approved”" in flash_of(
        second.follow(approved).text
    )
    assert user(db, "rd").roles == ["qa", "rd_scientist"]


def test_deactivating_and_reactivating_an_account(ui: Any, db: Database) -> None:
    target = user(db, "logistics")
    victim = ui("logistics")
    client = ui("admin")
    client.get(f"/admin/users/{target.id}")

    deactivated = client.post(
        f"/admin/users/{target.id}/deactivate", {"reason": "left the company"}
    )

    page = client.follow(deactivated).text
    assert flash_of(page) == "logistics deactivated; their sessions are ended."
    assert 'data-status="deactivated"' in page
    assert user(db, "logistics").is_active is False
    assert victim.get("/").headers["location"] == "/login?next=/"

    reactivated = client.post(f"/admin/users/{target.id}/reactivate", {"reason": "came back"})
    assert flash_of(client.follow(reactivated).text) == "logistics reactivated."
    assert user(db, "logistics").is_active is True


def test_unlocking_a_locked_account_and_acknowledging_its_alert_from_the_dashboard(
    ui: Any, db: Database
) -> None:
    lock_out(ui, "qc")
    target = user(db, "qc")
    client = ui("admin")
    dashboard = client.get("/").text
    assert "Account qc (Chloe Chemist) locked after 5 failed attempts" in dashboard

    unlocked = client.post(f"/admin/users/{target.id}/unlock", {"reason": "user confirmed"})
    assert flash_of(client.follow(unlocked).text) == "qc unlocked."
    assert user(db, "qc").locked_at is None
    with unit_of_work(db, write=False) as s:
        alert_id = s.scalars(select(SecurityAlert.id)).one()
    acknowledged = client.post(
        f"/admin/alerts/{alert_id}/acknowledge",
        {"note": "called Chloe: she had caps lock on", "next": "/"},
    )

    assert acknowledged.headers["location"] == "/"
    page = client.follow(acknowledged).text
    assert flash_of(page) == "Security alert acknowledged."
    assert "No open security alerts." in page
    assert ui("qc").get("/").status_code == 200


def test_resetting_a_password_shows_a_temporary_one_once_which_must_be_changed(
    ui: Any, db: Database
) -> None:
    target = user(db, "pv")
    client = ui("admin")
    client.get(f"/admin/users/{target.id}")

    response = client.post(
        f"/admin/users/{target.id}/reset-password", {"reason": "forgot the password"}
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r'data-testid="temporary-password">([^<]+)</p>', response.text)
    assert found
    temporary = found.group(1)
    assert temporary not in client.get(f"/admin/users/{target.id}").text
    login = ui().post_login({"username": "pv", "password": temporary})
    assert login.headers["location"] == "/password?username=pv"


def test_an_api_token_is_minted_for_a_service_account_shown_once_and_works(
    ui: Any, db: Database
) -> None:
    with unit_of_work(db) as s:
        admin = auth.actor_for(s, s.scalars(select(User).where(User.username == "admin")).one())
        service = auth.add_user(
            s,
            actor=admin,
            username="wms",
            full_name="WMS interface",
            roles=["integration"],
            service_account=True,
        )
        service_id = service.id
    client = ui("admin")
    client.get(f"/admin/users/{service_id}")

    response = client.post(
        f"/admin/users/{service_id}/tokens", {"name": "WMS interface", "valid_days": 30}
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r'data-testid="api-token">(pqms_[^<]+)</p>', response.text)
    assert found
    raw = found.group(1)
    me = client.client.get("/api/v1/me", headers={"authorization": f"Bearer {raw}"})
    assert me.json()["username"] == "wms"
    user_page = client.get(f"/admin/users/{service_id}").text
    assert raw not in user_page
    assert f"<code>{raw[:12]}…</code>" in user_page


def test_no_token_is_minted_for_a_person(ui: Any, db: Database) -> None:
    target = user(db, "logistics")
    client = ui("admin")
    page = client.get(f"/admin/users/{target.id}").text
    before = counts(db)

    response = client.post(f"/admin/users/{target.id}/tokens", {"name": "on behalf"})

    assert f'action="/admin/users/{target.id}/tokens"' not in page
    assert flash_of(client.follow(response).text) == (
        "logistics is a person: a person gets a token only by logging in with their own "
        "password; tokens are minted for service accounts"
    )
    assert counts(db) == before


def test_a_non_administrator_is_refused_the_user_pages_and_their_forms(
    ui: Any, db: Database
) -> None:
    operator, client = ui("operator"), ui("qa")
    target = user(db, "qc")
    client.get(f"/admin/users/{target.id}")
    before = counts(db)

    page = operator.get("/admin/users")
    assert page.status_code == 403
    assert (
        "operator may not see users: the permission &#39;users.read&#39; is not in any of "
        "their roles (production_operator)"
    ) in page.text
    refused = client.post(f"/admin/users/{target.id}/deactivate", {"reason": "no"})

    assert flash_of(client.follow(refused).text) == (
        "qa may not deactivate users: the permission 'users.manage' is not in any of their "
        "roles (qa)"
    )
    assert user(db, "qc").is_active is True
    assert counts(db) == before


# --- reading accounts without administering them -----------------------------------------------


def test_an_auditor_reads_users_and_alerts_but_sees_no_action(ui: Any, db: Database) -> None:
    # given an account locked out, which raises a security alert
    lock_out(ui, "qc")
    client = ui("auditor")

    # when the auditor opens the user list and an account
    listing = client.get("/admin/users")
    account = client.get(f"/admin/users/{user(db, 'qc').id}")

    # then they see the accounts, their roles and the alert, and no form to change anything
    assert listing.status_code == 200
    assert '<tr data-username="qc">' in listing.text
    assert "Account qc (Chloe Chemist) locked after 5 failed attempts" in listing.text
    assert account.status_code == 200
    assert "Chloe Chemist" in account.text
    for page in (listing.text, account.text):
        assert 'method="post" action="/admin/' not in page
    assert "Add a user" not in listing.text


def test_an_auditor_can_not_act_on_an_account_and_nothing_changes(ui: Any, db: Database) -> None:
    lock_out(ui, "qc")
    client = ui("auditor")
    client.get("/admin/users")
    before = counts(db)

    response = client.post(f"/admin/users/{user(db, 'qc').id}/unlock", {"reason": "asked nicely"})

    assert "may not unlock accounts" in flash_of(client.follow(response).text)
    assert user(db, "qc").locked_at is not None
    assert counts(db) == before
