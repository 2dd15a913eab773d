"""Roles, their permissions and who takes each workflow step as controlled configuration: a
version drafted under a change control, run on the sandbox, approved by a second QA person,
in force from its date — an action before the date is judged by the old version, one after by
the new; a signature records the permissions it ran under; the permissions at a past moment
are reconstructed; what Part 11 forbids is refused with the reason and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    report,
    snapshot,
)
from tests.support import PASSWORD

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import clock, role_grants, role_permissions
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import (
    ControlBroken,
    InvalidInput,
    PermissionDenied,
    TransitionNotAllowed,
)
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow_roles import transition_roles
from pharmaqms.quality.deviations import service as deviations
from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW

ROLES = role_permissions.KEY
STEPS = "workflow.deviation.roles"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def moving_clock(db: Any) -> Any:
    with clock.frozen_at(START) as frozen:
        yield frozen


def _in_force(
    db: Any, people: Any, key: str, content: Any, effective: datetime, cid: int | None = None
) -> int:
    """Drafted by QA under an approved change, run on the sandbox, approved by QA 2."""
    cid = cid or approved_change_from_a_new_edition(db, people)
    vid = draft(
        db, people.qa, key, content, effective_from=effective, change_id=cid, rationale="why"
    )
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    return vid


def _uses(db: Any, record_type: str, record_id: int) -> set[tuple[str, int, str]]:
    with unit_of_work(db, write=False) as s:
        return {(u.key, u.version_no, u.purpose) for u in store.uses_of(s, record_type, record_id)}


@pytest.mark.clause("part11:11.10(d)", "part11:11.10(k)")
@pytest.mark.postgres
def test_a_role_loses_a_permission_from_the_version_s_date_and_past_permissions_are_kept(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    # given logistics reports deviations under the code's grants (the seeded first version)
    with unit_of_work(db, write=False) as s:
        seed = store.in_force(s, ROLES)
        assert (seed.version_no, seed.number is not None) == (1, True)
        assert seed.content == role_permissions.code_grants()
    assert "deviations.report" in people.logistics.permissions
    assert people.logistics.permissions_version == 1
    # when a version that leaves deviations to the warehouse supervisors comes into force
    effective = START + timedelta(hours=1)
    content = role_permissions.code_grants()
    content["logistics"].remove("deviations.report")
    cid = approved_change_from_a_new_edition(db, people)
    vid = _in_force(db, people, ROLES, content, effective, cid)
    # then the sandbox said who changes, and the grid and the diff show it
    with unit_of_work(db, write=False) as s:
        summary = service.get_version(s, vid).test_summary
        reading = store.read(store.kind(ROLES), content)
        previous = store.version(s, ROLES, 1).content
    assert "logistics (1 active accounts): loses deviations.report" in summary
    assert service.differences(previous, content) == ["logistics: − deviations.report"]
    assert reading is not None and reading.form == "grid"
    grid = reading.data
    row = dict(grid.rows)["deviations.report"]
    assert row[grid.columns.index("logistics") - 1] == ""
    assert row[grid.columns.index("qa") - 1] == "✓"
    # and the approval's signature ran under the permissions in force then (v1)
    assert (ROLES, 1, "permissions of the signer (Approved)") in _uses(db, "config_version", vid)

    # before its date logistics still reports, and its actor came from v1
    before = report(db, people.logistics, "Before the date")
    # after its date the same account may not; the refusal changes nothing
    moving_clock.advance(hours=2)
    logistics = people.logistics
    assert logistics.permissions_version == 2
    assert "deviations.report" not in logistics.permissions
    unchanged = snapshot(db)
    with pytest.raises(PermissionDenied, match=r"'deviations\.report'"):
        report(db, logistics, "After the date")
    assert snapshot(db) == unchanged
    # a signature after the date records the version its signer's permissions came from
    days = {"critical": 10, "major": 20, "minor": 45}
    soon = clock.now() + timedelta(hours=1)
    later = _in_force(db, people, "quality.deviation_due_days", days, soon, cid)
    assert (ROLES, 2, "permissions of the signer (Approved)") in _uses(db, "config_version", later)

    # the permissions at a past moment are reconstructed
    with unit_of_work(db, write=False) as s:
        at_start = role_permissions.permissions_for(s, ["logistics"], START)
        at_effective = role_permissions.permissions_for(s, ["logistics"], effective)
        assert (at_start[0].version_no, "deviations.report" in at_start[1]) == (1, True)
        assert (at_effective[0].version_no, "deviations.report" in at_effective[1]) == (2, False)
        assert store.in_force(s, ROLES, at=effective - timedelta(seconds=1)).version_no == 1
    with unit_of_work(db, write=False) as s:
        assert deviations.get_deviation(s, before).title == "Before the date"


@pytest.mark.clause("part11:11.10(g)", "part11:11.100")
@pytest.mark.postgres
def test_a_permissions_version_that_breaks_part_11_is_refused_and_changes_nothing(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    common = {"effective_from": START + timedelta(days=1), "change_id": cid, "rationale": "why"}

    def variant(**roles: list[str]) -> dict[str, list[str]]:
        return {**role_permissions.code_grants(), **roles}

    code = role_permissions.code_grants()
    before = snapshot(db)
    # the read-only role given a write
    with pytest.raises(ControlBroken, match=r"auditor is read-only .* deviations\.report"):
        draft(db, people.qa, ROLES, variant(auditor=[*code["auditor"], "deviations.report"]),
              **common)  # fmt: skip
    # * taken from the administrator: nobody could manage users
    with pytest.raises(ControlBroken, match="admin must keep") as refused:
        draft(db, people.qa, ROLES, variant(admin=["users.read"]), **common)
    assert "no role could manage users (users.manage)" in refused.value.detail
    # * given to another role
    with pytest.raises(ControlBroken, match=r"\* \(every permission\) is the administrator's"):
        draft(db, people.qa, ROLES, variant(qa=[*code["qa"], "*"]), **common)
    # the service account given a permission that signs
    with pytest.raises(
        ControlBroken, match=r"integration is a service account role.*capa\.approve"
    ):
        draft(db, people.qa, ROLES, variant(integration=[*code["integration"], "capa.approve"]),
              **common)  # fmt: skip
    # unknown permissions and roles, named; a role left out
    with pytest.raises(InvalidInput, match=r"qa: unknown permissions deviations\.forgive"):
        draft(db, people.qa, ROLES, variant(qa=["deviations.forgive"]), **common)
    with pytest.raises(InvalidInput, match="unknown roles janitor"):
        draft(db, people.qa, ROLES, variant(janitor=["records.read"]), **common)
    with pytest.raises(InvalidInput, match="missing: auditor"):
        draft(db, people.qa, ROLES, {k: v for k, v in code.items() if k != "auditor"}, **common)
    assert snapshot(db) == before
    # and a service account role keeps out of signing: role grants see no change either
    with unit_of_work(db, write=False) as s:
        assert {"auditor", "integration"}.isdisjoint(role_grants.signing_roles(s))


@pytest.mark.clause("part11:11.10(g)")
@pytest.mark.postgres
def test_a_steps_version_that_breaks_part_11_is_refused_and_changes_nothing(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    common = {"effective_from": START + timedelta(days=1), "change_id": cid, "rationale": "why"}
    code = transition_roles(DEVIATION_WORKFLOW)

    def variant(transition: str, **entry: Any) -> dict[str, Any]:
        content = {name: dict(value) for name, value in code.items()}
        content[transition].update(entry)
        return content

    before = snapshot(db)
    with pytest.raises(ControlBroken, match=r"\(cancel\): give it at least one role"):
        draft(db, people.qa, STEPS, variant("cancel", roles=[]), **common)
    with pytest.raises(ControlBroken, match=r"'Approve' \(approve\) is signed \(Approved\): "
                       "integration is a service account role"):  # fmt: skip
        draft(db, people.qa, STEPS, variant("approve", roles=["integration", "qa"]), **common)
    with pytest.raises(ControlBroken, match="auditor is read-only and takes no transition"):
        draft(db, people.qa, STEPS, variant("cancel", roles=["auditor", "qa"]), **common)
    with pytest.raises(ControlBroken, match="must keep the guards investigation_complete"):
        draft(db, people.qa, STEPS, variant("approve", guards=["classified"]), **common)
    with pytest.raises(InvalidInput, match="unknown guards always_true; the catalogue of"):
        draft(db, people.qa, STEPS, variant("cancel", guards=["always_true"]), **common)
    with pytest.raises(InvalidInput, match="unknown roles janitor"):
        draft(db, people.qa, STEPS, variant("cancel", roles=["janitor"]), **common)
    # a version that lets one role both review medically and sign off a PV case, which the
    # code gives to roles that share none
    pv = RECORD_TYPES["pv_case"].workflow
    pv_code = transition_roles(pv)
    signers = pv_code["sign_off"]["roles"]
    pv_content = {name: dict(value) for name, value in pv_code.items()}
    pv_content["medical_review"]["roles"] = sorted({*pv_code["medical_review"]["roles"], *signers})
    with pytest.raises(ControlBroken, match=r"kept apart by role in the code .* may not take both"):
        draft(db, people.qa, "workflow.pv_case.roles", pv_content, **common)
    assert snapshot(db) == before


@pytest.mark.postgres
def test_a_steps_version_gives_a_step_to_a_role_and_a_guard_from_the_catalogue_on_its_date(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    # given the supervisors may not cancel a deviation under the code's roles
    first = classified_deviation(db, people, "Cancelled by QA's rule", START)
    with pytest.raises(PermissionDenied, match="needs one of the roles qa"), unit_of_work(db) as s:
        deviations.transition(s, actor=people.supervisor, deviation_id=first, name="cancel",
                              reason="a duplicate")  # fmt: skip
    # when a version lets them, and cancelling needs the deviation classified first
    content = transition_roles(DEVIATION_WORKFLOW)
    content["cancel"] = {"roles": ["production_supervisor", "qa"], "guards": ["classified"]}
    effective = clock.now() + timedelta(hours=1)
    vid = _in_force(db, people, STEPS, content, effective)
    assert ("workflow.config_version.roles", 1, "roles of transition:approve") in _uses(
        db, "config_version", vid
    )
    # and its sandbox run rehearsed the engine with it in force on the open deviation
    with unit_of_work(db, write=False) as s:
        summary = service.get_version(s, vid).test_summary or []
        label = deviations.get_deviation(s, first).audit_label()
    assert f"{label} 'Cancel (not a deviation)': qa, qa2 → qa, qa2, supervisor" in summary
    # then after its date a supervisor cancels a classified deviation
    moving_clock.advance(hours=2)
    second = classified_deviation(db, people, "Cancelled by a supervisor", clock.now())
    with unit_of_work(db) as s:
        result = deviations.transition(
            s, actor=people.supervisor, deviation_id=second, name="cancel", reason="a duplicate"
        )
        assert result.record.status == "cancelled"
    # and an unclassified one can't be cancelled any more: the chosen guard says why
    reported = report(db, people.operator, "Not yet classified")
    unchanged = snapshot(db)
    with pytest.raises(TransitionNotAllowed), unit_of_work(db) as s:
        deviations.transition(
            s, actor=people.qa, deviation_id=reported, name="cancel", reason="a duplicate"
        )
    assert snapshot(db) == unchanged
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, STEPS, at=START).content == transition_roles(DEVIATION_WORKFLOW)
        assert store.in_force(s, STEPS, at=effective).content == content
