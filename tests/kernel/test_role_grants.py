"""Roles that sign are given by two administrators (Part 11 §11.100(b), §11.200(a)(3)): one asks
and signs, a different one approves and signs; nobody decides on their own account; the
provisioning of an installation (the system account on the command line) is the one exception."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import changes_of, entries, row, snapshot
from tests.support import PASSWORD

from pharmaqms.kernel import auth, clock, role_grants, role_permissions
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.configuration.models import ConfigStatus, ConfigVersion
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import ElectronicSignature, Role, RoleGrantRequest, Task, User
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import Transition, Workflow


def add_second_admin(db: Database) -> int:
    with unit_of_work(db) as s:
        return auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username="admin2",
            full_name="Bea Backup",
            roles=["admin"],
            password=PASSWORD,
            must_change_password=False,
        ).id


def grants(db: Database) -> list[RoleGrantRequest]:
    with unit_of_work(db, write=False) as s:
        found = list(s.scalars(select(RoleGrantRequest).order_by(RoleGrantRequest.id)))
        s.expunge_all()
        return found


def signed(db: Database, request_id: int) -> list[tuple[str, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (sig.signer_username, sig.meaning)
            for sig in s.scalars(
                select(ElectronicSignature)
                .where(
                    ElectronicSignature.record_type == "role_grant_request",
                    ElectronicSignature.record_id == request_id,
                )
                .order_by(ElectronicSignature.id)
            )
        ]


def ask(client: Any, user_id: int, roles: list[str], password: str = PASSWORD) -> Any:
    return client.post(
        f"/api/v1/users/{user_id}/role-requests",
        json={"roles": roles, "reason": "covers QA review of the new line", "password": password},
    )


def decide(client: Any, request_id: int, decision: str, **body: Any) -> Any:
    version = client.get(f"/api/v1/role-requests/{request_id}").json()["version"]
    return client.post(
        f"/api/v1/role-requests/{request_id}/{decision}",
        json={"expected_version": version, **body},
    )


# --- which roles sign ----------------------------------------------------------------------------


def test_the_roles_that_sign_are_derived_from_the_workflows_and_the_permissions(
    db: Database,
) -> None:
    with unit_of_work(db, write=False) as s:
        every = set(s.scalars(select(Role.name)))
        signing = role_grants.signing_roles(s)

    # today every role but the reader and the machine signs something, admin through '*'
    assert every - signing == {"auditor", "integration"}
    assert "admin" in signing


def test_a_role_that_gains_a_signed_step_or_a_signing_permission_signs_from_then_on(
    db: Database, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a module that adds a signed transition for integration accounts
    any_type = next(iter(RECORD_TYPES.values()))
    workflow = Workflow(
        record_type="calibration_check",
        states=("open", "done"),
        initial="open",
        transitions=(
            Transition(
                "sign_off",
                "Sign off",
                frozenset({"open"}),
                "done",
                frozenset({"integration"}),
                signature="Verified",
            ),
        ),
    )
    monkeypatch.setitem(
        RECORD_TYPES, "calibration_check", replace(any_type, name="x", workflow=workflow)
    )
    # and a permission that approves given to auditors by the roles configuration in force
    # (stored directly: the configuration service, which refuses it, lives above the kernel)
    with unit_of_work(db) as s, auth.audit.changes(s, actor=people.admin, reason="test"):
        content = role_permissions.code_grants()
        content["auditor"] = [*content["auditor"], "reports.approve"]
        s.add(
            ConfigVersion(
                status=ConfigStatus.APPROVED.value,
                key=role_permissions.KEY,
                version_no=99,
                content=content,
                content_sha256=store.content_sha256(content),
                effective_from=clock.now(),
                change_number="",
                rationale="test",
                test_summary=[],
            )
        )

    with unit_of_work(db, write=False) as s:
        signing = role_grants.signing_roles(s)

    assert {"integration", "auditor"} <= signing


# --- the two-person rule -------------------------------------------------------------------------


@pytest.mark.clause("part11:11.100", "annex11:12")
def test_a_second_administrator_approves_a_role_that_signs_and_only_then_it_is_given(
    api: Any, db: Database, people: People, frozen_clock: Any
) -> None:
    admin2_id = add_second_admin(db)
    rd = people.rd.user_id
    first, second = api("admin"), api("admin2")

    # when admin asks for qa for rd, signing the request
    asked = ask(first, rd, ["qa"])

    # then the request waits, signed by its author; rd has no new role; admin2 has a task
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["number"], request["status"], request["roles"]) == (
        "RGR-2026-0001",
        "requested",
        ["qa"],
    )
    assert (request["grantee"], request["requested_by"]) == ("rd", "admin")
    assert signed(db, request["id"]) == [("admin", "Authored")]
    assert row(db, User, rd)["roles"] == ["rd_scientist"]
    assert [u["pending_roles"] for u in first.get("/api/v1/users").json() if u["id"] == rd] == [
        ["qa"]
    ]
    [task] = [t for t in second.get("/api/v1/tasks").json() if t["kind"] == "second_approval"]
    assert task["title"] == (
        "Second approval: give rd (Rita Research) the role qa, asked for by Ada Administrator"
    )

    # and the requester can't approve it herself
    before = snapshot(db)
    own = decide(first, request["id"], "approve", password=PASSWORD)
    assert own.status_code == 403, own.text
    assert own.json()["code"] == "segregation_of_duties"
    assert snapshot(db) == before

    # while the second administrator's signed approval gives the role
    start = snapshot(db).head[0]
    approved = decide(second, request["id"], "approve", password=PASSWORD)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert row(db, User, rd)["roles"] == ["qa", "rd_scientist"]
    assert signed(db, request["id"]) == [("admin", "Authored"), ("admin2", "Approved")]
    [grant] = [e for e in entries(db, after=start) if e.action == "grant_roles"]
    assert (grant.actor_username, grant.record_type, grant.record_id) == ("admin2", "user", rd)
    assert changes_of(grant)["roles"] == [["rd_scientist"], ["qa", "rd_scientist"]]
    assert grant.reason == (
        "RGR-2026-0001 approved by a second administrator: covers QA review of the new line"
    )
    with unit_of_work(db, write=False) as s:
        open_tasks = s.scalars(
            select(Task).where(Task.record_type == "role_grant_request", Task.status == "open")
        ).all()
    assert open_tasks == []
    assert admin2_id != people.admin.user_id


def test_a_rejected_request_gives_nothing(api: Any, db: Database, people: People) -> None:
    add_second_admin(db)
    request = ask(api("admin"), people.rd.user_id, ["qualified_person"]).json()

    refused_without_reason = decide(api("admin2"), request["id"], "reject", password=PASSWORD)
    rejected = decide(
        api("admin2"), request["id"], "reject", password=PASSWORD, reason="not trained as QP"
    )

    assert refused_without_reason.status_code == 422
    assert refused_without_reason.json()["code"] == "reason_required"
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert signed(db, request["id"]) == [("admin", "Authored"), ("admin2", "Rejected")]
    assert row(db, User, people.rd.user_id)["roles"] == ["rd_scientist"]


@pytest.mark.clause("part11:11.100", "annex11:12")
def test_nobody_approves_roles_for_their_own_account(
    api: Any, db: Database, people: People
) -> None:
    # given admin asking for qa for the second administrator
    admin2_id = add_second_admin(db)
    request = ask(api("admin"), admin2_id, ["qa"]).json()
    second = api("admin2")
    before = snapshot(db)

    # when the second administrator approves it for herself
    approved = decide(second, request["id"], "approve", password=PASSWORD)

    # then it is refused and nothing changed
    assert approved.status_code == 403, approved.text
    assert approved.json()["code"] == "segregation_of_duties"
    assert f"the grantee of {request['number']} may not" in approved.json()["detail"]
    assert row(db, User, admin2_id)["roles"] == ["admin"]
    assert snapshot(db) == before


def test_a_request_is_signed_with_the_requesters_own_password(
    api: Any, db: Database, people: People
) -> None:
    before = snapshot(db)

    refused = ask(api("admin"), people.rd.user_id, ["qa"], password="not-my-password")

    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "signature_refused"
    assert grants(db) == []
    assert row(db, User, people.admin.user_id)["failed_login_count"] == 1
    assert snapshot(db).signatures == before.signatures


def test_only_the_requester_withdraws_a_request(api: Any, db: Database, people: People) -> None:
    add_second_admin(db)
    request = ask(api("admin"), people.rd.user_id, ["qa"]).json()

    other = decide(api("admin2"), request["id"], "withdraw", reason="not needed")
    own = decide(api("admin"), request["id"], "withdraw", reason="asked for the wrong person")

    assert other.status_code == 403, other.text
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "withdrawn"
    assert row(db, User, people.rd.user_id)["roles"] == ["rd_scientist"]


# --- direct changes of roles ---------------------------------------------------------------------


def test_one_administrator_adds_a_role_that_does_not_sign_and_takes_any_away(
    api: Any, db: Database, people: People
) -> None:
    admin = api("admin")
    qa = people.qa.user_id

    added = admin.post(
        f"/api/v1/users/{qa}/roles", json={"roles": ["qa", "auditor"], "reason": "inspection prep"}
    )
    removed = admin.post(
        f"/api/v1/users/{qa}/roles", json={"roles": ["auditor"], "reason": "left QA"}
    )

    assert added.status_code == 200, added.text
    assert removed.status_code == 200, removed.text
    assert row(db, User, qa)["roles"] == ["auditor"]


def test_one_administrator_can_not_add_a_role_that_signs(
    api: Any, db: Database, people: People
) -> None:
    admin = api("admin")
    before = snapshot(db)

    refused = admin.post(
        f"/api/v1/users/{people.rd.user_id}/roles",
        json={"roles": ["rd_scientist", "qa"], "reason": "now also QA"},
    )

    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "second_approval_required"
    assert body["detail"] == (
        "qa signs: giving it to rd takes a request that a second administrator approves "
        "(role-requests)"
    )
    assert body["signing_roles"] == ["qa"]
    assert row(db, User, people.rd.user_id)["roles"] == ["rd_scientist"]
    assert snapshot(db) == before


@pytest.mark.clause("part11:11.100")
def test_an_account_created_with_roles_that_sign_starts_without_them(
    api: Any, db: Database, people: People
) -> None:
    admin = api("admin")
    new = {
        "username": "mara.micro",
        "full_name": "Mara Micro",
        "roles": ["qc_analyst", "auditor"],
        "password": PASSWORD,
    }
    before = snapshot(db)

    unsigned = admin.post("/api/v1/users", json=new)
    assert unsigned.status_code == 422, unsigned.text
    assert unsigned.json()["field"] == "signature_password"
    assert unsigned.json()["detail"] == (
        "qc_analyst signs: a second administrator must approve it. Sign the request for it "
        "with your password; the account is created without it meanwhile"
    )
    assert snapshot(db) == before

    created = admin.post(
        "/api/v1/users", json={**new, "signature_password": PASSWORD, "grant_reason": "new hire"}
    )

    assert created.status_code == 201, created.text
    assert (created.json()["roles"], created.json()["pending_roles"]) == (
        ["auditor"],
        ["qc_analyst"],
    )
    [request] = grants(db)
    assert (request.roles, request.reason, request.status) == (
        ["qc_analyst"],
        "new hire",
        "requested",
    )
    assert signed(db, request.id) == [("admin", "Authored")]


def test_the_system_account_on_the_command_line_provisions_roles_that_sign(
    db: Database, people: People
) -> None:
    with unit_of_work(db) as s:
        system = auth.system_actor(s, Channel.CLI)
        user = auth.add_user(
            s,
            actor=system,
            username="quinn",
            full_name="Quinn",
            roles=["qa"],
            password=PASSWORD,
        )
        auth.set_roles(
            s, actor=system, user_id=user.id, roles=["qa", "qualified_person"], reason="QP"
        )
        uid = user.id

    assert row(db, User, uid)["roles"] == ["qa", "qualified_person"]
    assert grants(db) == []
    # but not through another door: the system account's token or channel is not provisioning
    with pytest.raises(InvalidInput), unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.API),
            username="rita2",
            full_name="Rita",
            roles=["qa"],
            password=PASSWORD,
        )
