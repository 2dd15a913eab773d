"""Site roles: QA adds a role the code does not define (a contract QA reviewer) through a
version of ``roles.permissions`` under change control, and drops it later, without a developer.
The sandbox says who holds it; an account is given it only while a version in force defines
it; its holders act with its permissions until a version drops it, then get nothing from it;
a malformed or uncontrolled site role is refused with the reason and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    draft,
    put_in_force,
    report,
    snapshot,
    user_id,
)
from tests.conftest import Api
from tests.kernel.test_role_grants import add_second_admin
from tests.quality.quality_steps import add_person
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import auth, clock, role_grants, role_permissions
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, ControlBroken, InvalidInput, PermissionDenied
from pharmaqms.kernel.models import User
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations import service as deviations

ROLES = role_permissions.KEY
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REVIEWER = "contract_qa_reviewer"
REVIEWS = ["audit.read", "deviations.report", "records.read"]
DESCRIBED = {
    "description": "Contract QA reviewer: reviews a contract manufacturer's records",
    "permissions": REVIEWS,
}


@pytest.fixture
def moving_clock(db: Any) -> Any:
    with clock.frozen_at(START) as frozen:
        yield frozen


def with_site_roles(**sites: Any) -> dict[str, Any]:
    """The code's grants, and the site roles given."""
    return {**role_permissions.code_grants(), **sites}


def accounts(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def register_roles(page: str, username: str) -> str:
    """The Roles cell of an account's row in the users register (``/admin/users``)."""
    row = re.search(rf'<tr data-username="{username}">(.*?)</tr>', page, re.S)
    assert row is not None, f"no row for {username}"
    cell = re.search(r'<td data-testid="user-roles">(.*?)</td>', row.group(1), re.S)
    assert cell is not None, f"no roles cell in the row of {username}"
    return cell.group(1).strip()


def summary(db: Database, version_id: int) -> list[str]:
    with unit_of_work(db, write=False) as s:
        return list(service.get_version(s, version_id).test_summary)


@pytest.mark.clause("part11:11.10(d)", "part11:11.10(g)")
@pytest.mark.postgres
def test_qa_adds_a_site_role_an_account_acts_with_it_and_a_later_version_drops_it(
    db: Database, people: Any, app: Any, moving_clock: clock.FrozenClock
) -> None:
    # given QA adds a contract QA reviewer under a change control, in force in an hour
    cid = approved_change_from_a_new_edition(db, people)
    added_from = START + timedelta(hours=1)
    added = put_in_force(
        db, people, ROLES, with_site_roles(**{REVIEWER: DESCRIBED}),
        effective_from=added_from, change_id=cid,
    )  # fmt: skip
    # then the sandbox said it is new and that no one holds it yet
    assert (
        f"{REVIEWER} is a new site role ({DESCRIBED['description']}) with audit.read, "
        "deviations.report, records.read: no one holds it yet"
    ) in summary(db, added)
    with unit_of_work(db, write=False) as s:
        grid = role_permissions.permission_grid(service.get_version(s, added).content)
    assert dict(grid.rows)["audit.read"][grid.columns.index(f"{REVIEWER} (site role)") - 1] == "✓"

    # before its date the role can't be given: nothing changes
    unchanged, users = snapshot(db), accounts(db)
    with pytest.raises(InvalidInput, match=rf"unknown role\(s\): {REVIEWER}; known roles: admin"):
        add_person(db, "carla", "Carla Contractor", [REVIEWER], actor=people.admin)
    assert (snapshot(db), accounts(db)) == (unchanged, users)

    # after its date the users page lists it with its origin, and an account is given it
    moving_clock.advance(hours=2)
    admin = UiClient(app)
    assert admin.login("admin").status_code == 303
    page = admin.get("/admin/users")
    assert f'value="{REVIEWER}"> {REVIEWER}' in page.text
    assert "(site role, configuration version 2 of roles.permissions)" in page.text
    carla = add_person(db, "carla", "Carla Contractor", [REVIEWER], actor=people.admin)
    # the users register lists it among the account's roles, unmarked while it is defined
    assert register_roles(admin.get("/admin/users").text, "carla") == REVIEWER
    # the account does what the role allows: reports a deviation, reads the audit trail
    actor = people.carla
    assert (actor.permissions, actor.permissions_version) == (frozenset(REVIEWS), 2)
    reported = report(db, actor, "Batch record 1234 misses a signature")
    client = Api(app, "carla")
    assert client.get("/api/v1/audit").status_code == 200
    with unit_of_work(db, write=False) as s:
        assert REVIEWER not in role_grants.signing_roles(s)

    # when a later version drops it, the sandbox says who loses what
    dropped_from = clock.now() + timedelta(hours=1)
    dropped = put_in_force(
        db, people, ROLES, role_permissions.code_grants(),
        effective_from=dropped_from, change_id=cid,
    )  # fmt: skip
    assert (
        f"{REVIEWER} (site role) is dropped: 1 active accounts hold it and would lose its "
        "permissions (audit.read, deviations.report, records.read); their accounts show it as "
        "no longer defined until an administrator takes it away"
    ) in summary(db, dropped)
    # until its date the account still acts
    report(db, people.carla, "Before the role is dropped")

    # then from its date the account still lists the role but gets nothing from it
    moving_clock.advance(hours=2)
    actor = people.carla
    assert (actor.roles, actor.permissions, actor.permissions_version) == (
        frozenset({REVIEWER}),
        frozenset(),
        3,
    )
    unchanged = snapshot(db)
    with pytest.raises(PermissionDenied, match=r"'deviations\.report'"):
        report(db, actor, "After the role is dropped")
    assert snapshot(db) == unchanged
    assert client.get("/api/v1/audit").status_code == 403
    # its user page shows the role as no longer defined (a new session: the last one idled out)
    assert admin.login("admin").status_code == 303
    user_page = admin.get(f"/admin/users/{carla}")
    assert f'{REVIEWER} <span class="muted">(no longer defined: gives no permissions)' in (
        user_page.text
    )
    # and so does its row in the users register
    assert register_roles(admin.get("/admin/users").text, "carla") == (
        f'{REVIEWER} <span class="muted">(no longer defined: gives no permissions)</span>'
    )
    # and its export, which a reviewer reads without the page
    exported = admin.get("/admin/users?export=csv").text
    [carla_line] = [line for line in exported.splitlines() if line.startswith("carla,")]
    assert f"{REVIEWER} (no longer defined: gives no permissions)" in carla_line
    # it is given to nobody else any more; the account keeps it until taken away
    unchanged, users = snapshot(db), accounts(db)
    with pytest.raises(InvalidInput, match=rf"unknown role\(s\): {REVIEWER}"):
        add_person(db, "dora", "Dora Contractor", [REVIEWER], actor=people.admin)
    with (
        pytest.raises(InvalidInput, match=rf"unknown role\(s\): {REVIEWER}"),
        unit_of_work(db) as s,
    ):
        auth.set_roles(
            s, actor=people.admin, user_id=user_id(db, "qa2"), roles=["qa", REVIEWER],
            reason="covers the contract site",
        )  # fmt: skip
    assert (snapshot(db), accounts(db)) == (unchanged, users)
    with unit_of_work(db) as s:
        kept = auth.set_roles(
            s, actor=people.admin, user_id=carla, roles=[REVIEWER, "auditor"],
            reason="reads the records of the contract site",
        )  # fmt: skip
        assert kept.roles == ["auditor", REVIEWER]
    # what the account could do is reconstructed at any past moment
    with unit_of_work(db, write=False) as s:
        then = role_permissions.permissions_for(s, [REVIEWER], added_from)
        now = role_permissions.permissions_for(s, [REVIEWER], dropped_from)
        assert (then[0].version_no, then[1]) == (2, frozenset(REVIEWS))
        assert (now[0].version_no, now[1]) == (3, frozenset())
        assert deviations.get_deviation(s, reported).title == "Batch record 1234 misses a signature"


@pytest.mark.clause("part11:11.10(g)")
@pytest.mark.postgres
def test_a_site_role_that_is_malformed_or_breaks_a_control_is_refused_and_changes_nothing(
    db: Database, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    common = {"effective_from": START + timedelta(days=1), "change_id": cid, "rationale": "why"}
    code = role_permissions.code_grants()
    before = snapshot(db)

    def refused(error: type[Exception], match: str, **sites: Any) -> None:
        with pytest.raises(error, match=match):
            draft(db, people.qa, ROLES, with_site_roles(**sites), **common)

    # a name that is not lower-case snake_case of 3 to 40 characters
    name_rule = "a site role's name is lower-case snake_case of 3 to 40 characters"
    refused(InvalidInput, rf"'Contract-QA': {name_rule}", **{"Contract-QA": DESCRIBED})
    refused(InvalidInput, rf"'cq': {name_rule}", cq=DESCRIBED)
    refused(InvalidInput, rf"'{'r' * 41}': {name_rule}", **{"r" * 41: DESCRIBED})
    refused(InvalidInput, rf"'contract__qa': {name_rule}", contract__qa=DESCRIBED)
    # a built-in's name, or the system account's
    refused(InvalidInput, "qa is a built-in role: give its list of permissions", qa=DESCRIBED)
    refused(InvalidInput, "system: the name is the system account's role", system=DESCRIBED)
    # a name with a list only: the code does not know it, and a site role is described
    refused(InvalidInput, "unknown roles janitor; .* a site role of your own is given as",
            janitor=["records.read"])  # fmt: skip
    refused(InvalidInput, f"{REVIEWER}: describe the site role",
            **{REVIEWER: {"permissions": REVIEWS}})  # fmt: skip
    refused(InvalidInput, f"{REVIEWER}: a site role has a description and permissions only, "
            "not read_only", **{REVIEWER: {**DESCRIBED, "read_only": True}})  # fmt: skip
    # a permission outside the code's vocabulary
    refused(InvalidInput, rf"{REVIEWER}: unknown permissions deviations\.forgive",
            **{REVIEWER: {**DESCRIBED, "permissions": ["deviations.forgive"]}})  # fmt: skip
    # * on a site role
    refused(ControlBroken, rf"{REVIEWER} is a site role: it may not hold \*",
            **{REVIEWER: {**DESCRIBED, "permissions": ["*"]}})  # fmt: skip
    # the controls still hold for the whole version: the read-only role given a write
    with pytest.raises(ControlBroken, match=r"auditor is read-only .* deviations\.report"):
        draft(db, people.qa, ROLES, {**with_site_roles(**{REVIEWER: DESCRIBED}),
              "auditor": [*code["auditor"], "deviations.report"]}, **common)  # fmt: skip
    assert snapshot(db) == before
    # and a site role that signs makes giving it a second administrator's act
    vid = draft(
        db, people.qa, ROLES,
        with_site_roles(**{REVIEWER: {**DESCRIBED, "permissions": [*REVIEWS, "capa.approve"]}}),
        **common,
    )  # fmt: skip
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    assert (
        f"{REVIEWER} becomes a signing role: giving it to an account will need a second "
        "administrator's approval"
    ) in summary(db, vid)


@pytest.mark.clause("part11:11.100")
def test_a_request_for_a_site_role_that_a_later_version_dropped_is_not_approved(
    db: Database, people: Any, moving_clock: clock.FrozenClock
) -> None:
    # given a site role that signs, in force, asked for by one administrator
    cid = approved_change_from_a_new_edition(db, people)
    signing = {**DESCRIBED, "permissions": [*REVIEWS, "capa.approve"]}
    put_in_force(db, people, ROLES, with_site_roles(**{REVIEWER: signing}),
                 effective_from=START + timedelta(hours=1), change_id=cid)  # fmt: skip
    moving_clock.advance(hours=2)
    admin2 = add_second_admin(db)
    carla = add_person(db, "carla", "Carla Contractor", [], actor=people.admin)
    with unit_of_work(db) as s:
        request = role_grants.request_roles(
            s, actor=people.admin, user_id=carla, roles=[REVIEWER],
            reason="reviews the contract site's CAPAs", password=PASSWORD,
        )  # fmt: skip
        s.flush()
        request_id = request.id
    # when a version drops the role before the second administrator decides
    put_in_force(db, people, ROLES, role_permissions.code_grants(),
                 effective_from=clock.now() + timedelta(hours=1), change_id=cid)  # fmt: skip
    moving_clock.advance(hours=2)
    # then the approval is refused with the reason and the account gets nothing
    unchanged = snapshot(db)
    with unit_of_work(db, write=False) as s:
        second = auth.actor_for(s, auth.get_user(s, admin2))
    with (
        pytest.raises(Conflict, match=f"{REVIEWER} no longer defined .* reject it"),
        unit_of_work(db) as s,
    ):
        role_grants.decide(
            s, actor=second, request_id=request_id, decision="approve", password=PASSWORD
        )
    assert snapshot(db) == unchanged
    assert people.carla.roles == frozenset()


def test_a_site_role_naming_a_permission_no_built_in_list_names_takes_nothing_from_them() -> None:
    """A permission no built-in list of a version names follows the code's grant (a module
    installed after the version); a site role naming it does not change that."""
    code = role_permissions.code_grants()
    newer = next(p for p in sorted(code["qa"]) if p != "*")
    content: dict[str, Any] = {
        role: [p for p in perms if p != newer] for role, perms in code.items()
    }
    before = role_permissions.grants_of(content)
    content["contract_qa_reviewer"] = {
        "description": "Reviews for a client",
        "permissions": [newer],
    }
    after = role_permissions.grants_of(content)
    assert newer in before["qa"] and newer in after["qa"]
    assert {r: after[r] for r in code} == before
    assert after["contract_qa_reviewer"] == frozenset({newer})


@pytest.mark.postgres
def test_a_site_role_takes_the_workflow_step_a_version_gives_it(
    db: Database, people: Any, moving_clock: clock.FrozenClock
) -> None:
    from pharmaqms.kernel.workflow_roles import roles_key, transition_roles
    from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW

    steps_key = roles_key(DEVIATION_WORKFLOW)
    cid = approved_change_from_a_new_edition(db, people)
    # given the reviewer role comes into force in half an hour
    put_in_force(
        db, people, ROLES, with_site_roles(**{REVIEWER: DESCRIBED}),
        effective_from=START + timedelta(minutes=30), change_id=cid,
    )  # fmt: skip
    # when a steps version gives it the cancelling of a deviation, the sandbox run now says
    # that no version in force defines the role yet
    content = transition_roles(DEVIATION_WORKFLOW)
    content["cancel"] = {"roles": ["qa", REVIEWER], "guards": []}
    steps = put_in_force(
        db, people, steps_key, content, effective_from=START + timedelta(hours=1), change_id=cid
    )
    assert (
        f"{REVIEWER} is not a role of roles.permissions v1: nobody can take cancel through it "
        "until a version of roles.permissions defines it"
    ) in summary(db, steps)
    # then, both in force, an account holding only the site role cancels a deviation
    moving_clock.advance(hours=2)
    add_person(db, "carla", "Carla Contractor", [REVIEWER], actor=people.admin)
    reported = report(db, people.operator, "Reported twice by mistake")
    with unit_of_work(db) as s:
        result = deviations.transition(
            s, actor=people.carla, deviation_id=reported, name="cancel", reason="a duplicate"
        )
        assert result.record.status == "cancelled"
    # and the change can retrain the holders of the site role on a document
    from pharmaqms.quality.changes import service as changes
    from pharmaqms.quality.documents import service as documents

    with unit_of_work(db) as s:
        sop = documents.create_document(
            s, actor=people.qa, doc_type="sop", title="Reviewing a contract site's records"
        )
        s.flush()
        task = changes.add_action(
            s, actor=people.qa, change_id=cid, kind="retrain_role",
            description="Train the contract reviewers", owner_id=people.qa.user_id,
            due_at=clock.now() + timedelta(days=30), document_id=sop.document_id, role=REVIEWER,
            reason="the reviewers take a step of the deviation workflow now",
        )  # fmt: skip
        assert task.role == REVIEWER
    # and a later draft's sandbox says the site role is defined and held
    later = draft(db, people.qa, steps_key, content, effective_from=clock.now(), change_id=cid,
                  rationale="again")  # fmt: skip
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=later)
    assert (
        f"{REVIEWER} (site role of roles.permissions v2, 1 active accounts) takes cancel"
    ) in summary(db, later)
    # a name that is no role at all, or a site role no version defines, is refused with the
    # reason, and nothing changes
    unchanged = snapshot(db)
    for role, reason in (
        ("QA Lead", "unknown roles QA Lead; known: "),
        ("contract_auditor", "unknown roles contract_auditor: neither the code's nor a site role"),
    ):
        content["cancel"] = {"roles": ["qa", role], "guards": []}
        with pytest.raises(InvalidInput, match=reason):
            draft(db, people.qa, steps_key, content, effective_from=clock.now(), change_id=cid,
                  rationale="a typo")  # fmt: skip
    assert snapshot(db) == unchanged
