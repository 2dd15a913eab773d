"""The steps of a workflow as controlled configuration (``workflow.<type>.transitions``): QA
adds a site step to the CAPA workflow (back to plan approval from implementation) and
withdraws a deviation's cancellation from investigation, each under change control and in
force from its date; the step is taken through the record's generic URL, opens the task of the
status it enters and records the version it ran under. Versions that would skip the code's
work, drop a signature or segregation the code demands, reopen a final status or leave a
record stuck are refused, and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    drafted_and_tested,
    put_in_force,
    snapshot,
    uses,
)
from tests.conftest import People
from tests.quality.quality_steps import problem, sign, take
from tests.quality.test_capa_fulfilment import capa_with

from pharmaqms.compliance.configuration import service
from pharmaqms.compliance.configuration.demo import REPLAN  # the demo's site step
from pharmaqms.kernel import clock, workflow_steps
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import ControlBroken, InvalidInput, TransitionNotAllowed
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import Transition, Workflow, perform, roles, states
from pharmaqms.quality.deviations import service as deviations

CAPA_KEY = "workflow.capa.transitions"
DEVIATION_KEY = "workflow.deviation.transitions"


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def _in_force_in_a_minute(db: Database, people: People, key: str, content: Any) -> int:
    return put_in_force(
        db,
        people,
        key,
        content,
        effective_from=clock.now() + timedelta(minutes=1),
        change_id=approved_change_from_a_new_edition(db, people),
    )


def test_the_built_in_version_adds_and_withdraws_nothing(db: Database) -> None:
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, CAPA_KEY).content == {"added": {}, "withdrawn": {}}
    # the workflow that controls configuration changes keeps its steps to itself
    assert not store.is_registered("workflow.config_version.transitions")


@pytest.mark.clause("part11:11.10(f)")
@pytest.mark.postgres
def test_a_site_step_from_its_date_taken_by_its_roles_opening_the_status_task(
    db: Database, people: People, api: Any, frozen_clock: clock.FrozenClock
) -> None:
    qa, supervisor = api("qa"), api("supervisor")
    capa, _ = capa_with(qa, supervisor, db)
    vid, summary = drafted_and_tested(
        db,
        people,
        CAPA_KEY,
        {"added": {"site_replan": REPLAN}, "withdrawn": {}},
        effective_from=clock.now() + timedelta(minutes=1),
        rationale="A CAPA whose actions change goes back for plan approval (SOP-QA-012 rev 4).",
    )
    # the sandbox run says who would be offered it, and that it opens the status's task
    assert (
        "'Back to plan approval (actions changed)' (site_replan): 1 record(s) now in "
        "implementation would be offered it, to plan approval, by qa, not signed"
    ) in summary
    assert any("opens the task of plan approval" in line for line in summary)
    # and the workflow engine, rehearsed with the draft in force, offers it on that CAPA to QA
    number = capa["number"]
    assert (
        f"{number} 'Back to plan approval (actions changed)': a new step, for qa, qa2"
    ) in summary
    with unit_of_work(db) as s:
        from tests.support import PASSWORD

        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)

    # before its date the step does not exist
    before = snapshot(db)
    refused = qa.post(
        f"/api/v1/records/capa/{capa['id']}/transitions/site_replan", json={"reason": "x"}
    )
    assert problem(refused, 404, "not_found")["detail"].startswith("capa has no transition")
    assert snapshot(db) == before

    frozen_clock.advance(minutes=2)
    offered = qa.get(f"/api/v1/records/capa/{capa['id']}/transitions").json()
    assert "site_replan" in [o["name"] for o in offered]
    # the supervisor (the CAPA's owner, not QA) is offered it with the reason they can't take it
    theirs = supervisor.get(f"/api/v1/records/capa/{capa['id']}/transitions").json()
    site = next(o for o in theirs if o["name"] == "site_replan")
    assert not site["allowed"] and "needs one of the roles qa" in site["reasons"][0]
    # a reason is asked, as the version says
    before = snapshot(db)
    problem(
        qa.post(f"/api/v1/records/capa/{capa['id']}/transitions/site_replan", json={}),
        422,
        "reason_required",
    )
    assert snapshot(db) == before

    taken = take(qa, "capa", capa["id"], "site_replan", reason="Action 2 replaced by a new jig.")
    assert (taken["previous_status"], taken["status"]) == ("implementation", "plan_approval")
    assert (CAPA_KEY, 2, "transition:site_replan") in uses(db, "capa", capa["id"])
    with unit_of_work(db, write=False) as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_type == "capa", AuditEntry.record_id == capa["id"])
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.action == "transition:site_replan"
        assert entry.reason == "Action 2 replaced by a new jig."
        # the audit trail names the step as the version does
        from pharmaqms.kernel.reports.trail import TrailReader

        assert TrailReader(s).action_label("capa", entry.action) == REPLAN["label"]
        open_tasks = s.scalars(
            select(Task.kind).where(
                Task.record_type == "capa", Task.record_id == capa["id"], Task.closed_at.is_(None)
            )
        ).all()
    # the code's task of plan approval is open again, and the code's own steps go on from there
    assert "approve_plan" in open_tasks
    assert sign(api("qa2"), "capa", capa["id"], "approve_plan")["status"] == "implementation"


@pytest.mark.postgres
def test_a_withdrawn_step_is_refused_with_the_version_from_its_statuses_only(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    in_investigation = classified_deviation(db, people, "Label roll mix-up", clock.now())
    with unit_of_work(db) as s:
        reported = deviations.report_deviation(
            s,
            actor=people.operator,
            title="Reported twice by mistake",
            description="Same event as the label roll mix-up.",
            area="packaging",
            occurred_at=clock.now(),
            discovered_at=clock.now(),
            immediate_actions="None needed.",
        )
        s.flush()
        reported_id = reported.id
    _in_force_in_a_minute(
        db, people, DEVIATION_KEY, {"added": {}, "withdrawn": {"cancel": ["investigation"]}}
    )
    frozen_clock.advance(minutes=2)
    before = snapshot(db)
    with (
        unit_of_work(db) as s,
        pytest.raises(
            TransitionNotAllowed,
            match=r"'Cancel \(not a deviation\)' from investigation is withdrawn by "
            r"workflow\.deviation\.transitions v2",
        ),
    ):
        deviations.transition(
            s,
            actor=people.qa,
            deviation_id=in_investigation,
            name="cancel",
            reason="Not a deviation after all.",
        )
    assert snapshot(db) == before
    # a deviation still in its first status may be cancelled as before
    with unit_of_work(db) as s:
        deviations.transition(
            s, actor=people.qa, deviation_id=reported_id, name="cancel", reason="Reported twice."
        )
        assert deviations.get_deviation(s, reported_id).status == "cancelled"


@pytest.mark.postgres
def test_versions_that_would_break_what_the_code_demands_are_refused_and_nothing_changes(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)

    def added(**entry: Any) -> dict[str, Any]:
        return {"added": {"site_step": {**REPLAN, **entry}}, "withdrawn": {}}

    capa: list[tuple[type[Exception], str, Any]] = [
        (ControlBroken, "every code step into closed is signed \\(Closed\\)",
         added(to="closed", guards=["actions_done", "effectiveness_shown"])),
        (ControlBroken, "must keep the guards actions_done, effectiveness_shown",
         added(to="closed", signature="Closed")),
        (ControlBroken, "closed is final in the code",
         added(**{"from": ["closed"], "to": "implementation"})),
        (ControlBroken, "entering implementation by the code's 'Approve plan' \\(approve_plan\\) "
         "does work beyond the change of status",
         added(**{"from": ["effectiveness_check"], "to": "implementation"})),
        (ControlBroken, "auditor is read-only", added(roles=["auditor"])),
        (ControlBroken, "the system account takes only the code's scheduled steps",
         added(roles=["system"])),
        (ControlBroken, "integration is a service account role and never signs",
         added(roles=["integration"], signature="Reviewed")),
        (ControlBroken, "'Close' \\(close\\) is a step the code's own verbs take",
         {"added": {}, "withdrawn": {"close": ["implementation"]}}),
        (InvalidInput, "a signature without a meaning is not a signature", added(signature="")),
        (InvalidInput, "'replan' is not a site step's name",
         {"added": {"replan": REPLAN}, "withdrawn": {}}),
        (InvalidInput, "capa has no step 'close_fast'",
         {"added": {}, "withdrawn": {"close_fast": ["draft"]}}),
        (InvalidInput, "'Cancel' does not start from implementation",
         {"added": {}, "withdrawn": {"cancel": ["implementation"]}}),
        (InvalidInput, "unknown statuses on_hold", added(**{"from": ["on_hold"]})),
        (InvalidInput, "unknown guards signed_by_the_boss", added(guards=["signed_by_the_boss"])),
        (InvalidInput, "a step leaves its status", added(to="implementation")),
        (InvalidInput, "site_step: give exactly the fields",
         {"added": {"site_step": {"label": "x"}}, "withdrawn": {}}),
        (InvalidInput, "give an object with the fields added", {"added": {}}),
        (InvalidInput, "unknown roles capa_board: neither the code's nor a site role",
         added(roles=["capa_board"])),
    ]  # fmt: skip
    deviation: list[tuple[type[Exception], str, Any]] = [
        # the code's entry into investigation starts the investigator's work (task, due date)
        (ControlBroken, "entering investigation by the code's 'Classify",
         {"added": {"site_back": {**REPLAN, "from": ["approved"], "to": "investigation",
                                  "guards": []}}, "withdrawn": {}}),
        (ControlBroken, "no step of the code enters reported",
         {"added": {"site_back": {**REPLAN, "from": ["investigation"], "to": "reported",
                                  "guards": []}}, "withdrawn": {}}),
    ]  # fmt: skip
    before = snapshot(db)
    for key, refusals in ((CAPA_KEY, capa), (DEVIATION_KEY, deviation)):
        for error, message, content in refusals:
            with pytest.raises(error, match=message):
                put_in_force(
                    db, people, key, content, effective_from=clock.now() + timedelta(days=1),
                    change_id=cid,
                )  # fmt: skip
            assert snapshot(db) == before, message


def _dead_end() -> Workflow:
    """A made-up workflow whose optional step is a record's only way out of ``hold``."""
    return Workflow(
        record_type="made_up",
        states=("open", "hold", "done", "dropped"),
        initial="open",
        retired_states=frozenset({"dropped"}),
        transitions=(
            Transition("park", "Park", states("open"), "hold", roles("qa")),
            Transition("finish", "Finish", states("open"), "done", roles("qa")),
            Transition("drop", "Drop", states("hold"), "dropped", roles("qa"), withdrawable=True),
            Transition("unpark", "Unpark", states("hold"), "open", roles("qa"), withdrawable=True),
        ),
    )


def test_withdrawals_that_would_leave_a_record_stuck_or_a_status_unreached_are_refused() -> None:
    workflow = _dead_end()

    def controls(withdrawn: dict[str, list[str]]) -> list[str]:
        return workflow_steps._control_problems(workflow, {"added": {}, "withdrawn": withdrawn})

    # a retired status may be left unreached; the record in hold still has a way out
    assert controls({"drop": ["hold"]}) == []
    # both ways out of hold: a record parked there would stay for ever
    assert controls({"drop": ["hold"], "unpark": ["hold"]}) == [
        "a record in hold would have no step out"
    ]
    # one way out left (to a retired status, which is final too): nothing stuck
    assert controls({"unpark": ["hold"]}) == []


def test_a_withdrawal_that_cuts_off_a_status_the_code_reaches_is_refused() -> None:
    workflow = Workflow(
        record_type="made_up_2",
        states=("open", "checked", "done"),
        initial="open",
        transitions=(
            Transition("check", "Check", states("open"), "checked", roles("qa"), withdrawable=True),
            Transition("finish", "Finish", states("open", "checked"), "done", roles("qa")),
        ),
    )
    problems = workflow_steps._control_problems(
        workflow, {"added": {}, "withdrawn": {"check": ["open"]}}
    )
    assert problems == ["no record could reach checked any more"]


def test_a_withdrawn_step_is_not_offered_and_the_rest_is_unchanged(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    """``perform`` on a step the version withdrew from every status says so."""
    in_investigation = classified_deviation(db, people, "Temperature log gap", clock.now())
    _in_force_in_a_minute(
        db,
        people,
        DEVIATION_KEY,
        {"added": {}, "withdrawn": {"cancel": ["reported", "investigation"]}},
    )
    frozen_clock.advance(minutes=2)
    before = snapshot(db)
    with unit_of_work(db) as s:
        from pharmaqms.kernel.workflow import options
        from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW

        record = deviations.get_deviation(s, in_investigation)
        offered = [o.transition.name for o in options(s, DEVIATION_WORKFLOW, record, people.qa)]
        assert "cancel" not in offered and "submit" in offered
        withdrawn = "'Cancel \\(not a deviation\\)' is withdrawn"
        with pytest.raises(TransitionNotAllowed, match=withdrawn):
            perform(s, DEVIATION_WORKFLOW, record, "cancel", actor=people.qa, reason="no")
    assert snapshot(db) == before


def test_the_pages_offer_the_site_step_and_read_the_version_as_a_table(
    db: Database, people: People, api: Any, app: Any, frozen_clock: clock.FrozenClock
) -> None:
    from tests.web.conftest import UiClient

    capa, _ = capa_with(api("qa"), api("supervisor"), db)
    vid = _in_force_in_a_minute(
        db,
        people,
        CAPA_KEY,
        {"added": {"site_replan": REPLAN}, "withdrawn": {"cancel": ["plan_approval"]}},
    )
    frozen_clock.advance(minutes=2)
    qa = UiClient(app)
    assert qa.login("qa").status_code == 303
    page = qa.get(f"/capas/{capa['id']}")
    assert page.status_code == 200
    # a reason is asked, so the step opens a dialog, as the code's steps with a reason do
    assert 'data-open-dialog="dialog-site_replan"' in page.text
    assert "Back to plan approval (actions changed)" in page.text
    done = qa.post(
        f"/records/capa/{capa['id']}/transitions/site_replan",
        {"reason": "Action 2 replaced.", "expected_version": str(capa_version(api, capa["id"]))},
        referer=f"/capas/{capa['id']}",
    )
    landed = qa.follow(done)
    assert "Back to plan approval (actions changed) done; status now plan approval" in landed.text
    # the version reads as a table of the steps added and withdrawn
    version_page = qa.get(f"/compliance/configuration/versions/{vid}")
    assert version_page.status_code == 200
    assert "Back to plan approval (actions changed) (site_replan) · added" in version_page.text
    assert "Cancel (cancel) · withdrawn" in version_page.text


def capa_version(api: Any, capa_id: int) -> int:
    return int(api("qa").get(f"/api/v1/capas/{capa_id}").json()["version"])


def test_process_analytics_says_whom_a_status_waits_for_under_the_steps_in_force(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    from pharmaqms.compliance.process_analytics.processes import PROCESSES

    capa = PROCESSES["capa"]
    back = {**REPLAN, "from": ["plan_approval"], "to": "draft", "guards": [],
            "label": "Back to the owner", "roles": ["production_supervisor"]}  # fmt: skip
    with unit_of_work(db, write=False) as s:
        assert capa.roles_in_force(s)["plan_approval"] == ("qa",)
    _in_force_in_a_minute(db, people, CAPA_KEY, {"added": {"site_back": back}, "withdrawn": {}})
    frozen_clock.advance(minutes=2)
    with unit_of_work(db, write=False) as s:
        assert capa.roles_in_force(s)["plan_approval"] == ("production_supervisor", "qa")
    assert capa.roles_out_of("plan_approval") == ["qa"]  # the code's alone
