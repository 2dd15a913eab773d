"""Administrators manage accounts; they never act or sign as someone else (Part 11 §11.10(d),
(g), §11.100, §11.300). The four ways in that issue 9 §2 reproduced, each through the API as
an administrator would try it, and each refused without a trace of success."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import row, signatures, snapshot, sop_in_state
from tests.support import PASSWORD, reviewed_version

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import ApiToken, User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import DocumentVersion

OWN_PASSWORD = "Quinn-Own-Secret-7!"


def approve_sop(client: Any, version_id: int, password: str = PASSWORD) -> Any:
    return client.post(
        f"/api/v1/records/document_version/{version_id}/transitions/approve",
        json={
            "password": password,
            "expected_version": reviewed_version(client, "document_version", version_id),
        },
    )


def tokens_of(db: Database, user_id: int) -> list[int]:
    with unit_of_work(db, write=False) as s:
        return list(s.scalars(select(ApiToken.id).where(ApiToken.user_id == user_id)))


def test_v1_an_administrator_can_not_give_herself_qa_so_can_not_approve_an_sop(
    api: Any, db: Database, people: People
) -> None:
    # given an SOP waiting for QA's approval, and an administrator
    vid = sop_in_state(db, people.qc, people.qa, "in_review", "Line clearance")
    admin = api("admin")
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # when she gives herself the QA role, directly or by a request of her own
    granted = admin.post(
        f"/api/v1/users/{people.admin.user_id}/roles",
        json={"roles": ["admin", "qa"], "reason": "I review SOPs too"},
    )
    requested = admin.post(
        f"/api/v1/users/{people.admin.user_id}/role-requests",
        json={"roles": ["qa"], "reason": "I review SOPs too", "password": PASSWORD},
    )
    # and then approves the SOP with her signature
    approved = approve_sop(admin, vid)

    # then all three are refused, and nothing changed: no role, no request, no signature
    for refused in (granted, requested):
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "own_account"
    assert granted.json()["detail"] == "nobody changes their own roles: admin may not do so"
    assert approved.status_code == 403, approved.text
    assert approved.json()["code"] == "permission_denied"
    assert row(db, User, people.admin.user_id)["roles"] == ["admin"]
    assert row(db, DocumentVersion, vid) == stored
    assert signatures(db, vid) == []
    assert snapshot(db) == before


def test_v2_an_administrator_can_not_mint_a_token_for_a_person(
    api: Any, db: Database, people: People
) -> None:
    # given an administrator
    admin = api("admin")
    before = snapshot(db)

    # when she asks for a token of quinn's (qa) account
    minted = admin.post(f"/api/v1/users/{people.qa.user_id}/tokens", json={"name": "on behalf"})

    # then it is refused with its own code, and no token exists to act as qa with
    assert minted.status_code == 403, minted.text
    assert minted.json()["code"] == "person_token_refused"
    assert minted.json()["detail"] == (
        "qa is a person: a person gets a token only by logging in with their own password; "
        "tokens are minted for service accounts"
    )
    assert "token" not in minted.json()
    assert tokens_of(db, people.qa.user_id) == []
    assert snapshot(db) == before


@pytest.mark.clause("part11:11.200")
def test_v3_an_administrator_who_resets_a_password_and_uses_it_can_not_sign(
    api: Any, db: Database, people: People
) -> None:
    # given an SOP waiting for QA
    vid = sop_in_state(db, people.qc, people.qa2, "in_review", "Line clearance")
    admin = api("admin")

    # when the administrator resets qa's password, logs in with the temporary one (which must
    # be changed first), changes it and logs in with her own choice
    reset = admin.post(
        f"/api/v1/users/{people.qa.user_id}/reset-password", json={"reason": "forgot it"}
    )
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    first_use = api().client.post(
        "/api/v1/auth/token", json={"username": "qa", "password": temporary}
    )
    assert first_use.status_code == 401, first_use.text
    assert first_use.json()["code"] == "password_expired"
    changed = api().client.post(
        "/api/v1/auth/password",
        json={"username": "qa", "old_password": temporary, "new_password": OWN_PASSWORD},
    )
    assert changed.status_code == 204, changed.text
    impostor = api()
    impostor.login("qa", OWN_PASSWORD)
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    # and signs the approval as qa
    signed = approve_sop(impostor, vid, OWN_PASSWORD)

    # then the signature is refused until qa confirms the reset, and nothing is written
    assert signed.status_code == 403, signed.text
    assert signed.json()["code"] == "password_reset_unconfirmed"
    assert signatures(db, vid) == []
    assert row(db, DocumentVersion, vid) == stored
    assert snapshot(db) == before
    # and the reset waits in qa's inbox and on the security page
    [task] = [
        t for t in impostor.get("/api/v1/tasks").json() if t["record_type"] != "document_version"
    ]
    assert (task["kind"], task["record_type"]) == ("confirm_password_reset", "password_reset")
    assert task["title"].startswith("Your password was reset by Ada Administrator (admin) on ")
    assert task["title"].endswith(" UTC — confirm it was you who asked")
    alerts = admin.get("/api/v1/security/alerts").json()
    assert [a["kind"] for a in alerts] == ["password_reset"]
    assert alerts[0]["detail"].startswith(
        "Password of qa (Quentin Quality) reset by admin (Ada Administrator): forgot it"
    )


def test_v4_a_persons_tokens_and_sessions_stop_working_when_their_password_is_reset(
    api: Any, db: Database, people: People
) -> None:
    # given qa logged in through the API
    quinn = api("qa")
    assert quinn.get("/api/v1/me").status_code == 200

    # when an administrator resets qa's password
    reset = api("admin").post(
        f"/api/v1/users/{people.qa.user_id}/reset-password", json={"reason": "laptop stolen"}
    )
    assert reset.status_code == 200, reset.text

    # then the token qa held no longer works
    refused = quinn.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the bearer token is unknown, expired or revoked"
