"""Sign-offs a site adds to a workflow as controlled configuration: production concurs before
QA approves an SOP. The version comes into force on its date; from then the approval waits for
the sign-off on the record as it now is; whoever signed it off may not also approve; a change
to the record asks for it again; the sign-off and the approval record the version they ran
under. What Part 11 forbids in a version is refused with the reason and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    draft,
    put_in_force,
    snapshot,
    uses,
)
from tests.conftest import Api
from tests.kernel.helpers import new_sop, transition
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import (
    ControlBroken,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
    TransitionNotAllowed,
)
from pharmaqms.kernel.models import ElectronicSignature, Task
from pharmaqms.kernel.sign_off_tasks import open_waiting_sign_off_tasks
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import options
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.workflow import DOCUMENT_VERSION_WORKFLOW

KEY = "workflow.document_version.sign_offs"
STEP = "sign_off.production_concurrence"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def concurrence(*roles: str, **changes: Any) -> dict[str, Any]:
    entry = {
        "label": "Production concurs",
        "before": "approve",
        "roles": list(roles),
        "meaning": "Reviewed",
        "forbid_author": True,
    }
    return {"production_concurrence": {**entry, **changes}}


@pytest.fixture
def moving_clock(db: Any) -> Any:
    with clock.frozen_at(START) as frozen:
        yield frozen


def in_review(db: Any, people: Any, title: str) -> int:
    vid = new_sop(db, people.qa, title)
    transition(db, people.qa, vid, "submit")
    return vid


def status_and_version(db: Any, vid: int) -> tuple[str, int]:
    with unit_of_work(db, write=False) as s:
        version = documents.get_version(s, vid)
        return version.status, version.version


def sign_off_tasks(db: Any, vid: int) -> list[tuple[str, str | None, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (t.kind, t.assignee_role, t.status)
            for t in s.scalars(
                select(Task).where(Task.record_type == "document_version", Task.record_id == vid)
            )
            if t.kind == STEP
        ]


@pytest.mark.clause("part11:11.50", "part11:11.10(g)", "annex11:12")
@pytest.mark.postgres
def test_an_added_sign_off_holds_the_approval_from_its_date_until_signed_on_the_record_as_it_is(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    # given an SOP in review before the version's date: QA 2 could approve it
    early = in_review(db, people, "Line clearance")
    with unit_of_work(db, write=False) as s:
        record = documents.get_version(s, early)
        names = [
            o.transition.name for o in options(s, DOCUMENT_VERSION_WORKFLOW, record, people.qa2)
        ]
    assert STEP not in names and "approve" in names
    # when a version adding production's concurrence before the approval comes into force
    cid = approved_change_from_a_new_edition(db, people)
    effective = START + timedelta(hours=1)
    vid = put_in_force(
        db,
        people,
        KEY,
        concurrence("production_supervisor", "qa"),
        effective_from=effective,
        change_id=cid,
    )
    moving_clock.advance(hours=2)
    # then the approval waits for it, and the refusal changes nothing
    unchanged, before = snapshot(db), status_and_version(db, early)
    with pytest.raises(TransitionNotAllowed, match="waits for the sign-off 'Production concurs'"):
        transition(db, people.qa2, early, "approve", password=PASSWORD)
    assert (snapshot(db), status_and_version(db, early)) == (unchanged, before)

    # an SOP submitted now opens the sign-off's task for the first role the version names
    vid_sop = in_review(db, people, "Weighing of actives")
    assert sign_off_tasks(db, vid_sop) == [(STEP, "production_supervisor", "open")]

    # the author may not sign it off; nor a role it is not given; nor without a password
    for who, error, match in (
        (people.qa, SegregationOfDuties, "the author of SOP-.* may not .Sign off"),
        (people.operator, PermissionDenied, "needs one of the roles"),
    ):
        unchanged = snapshot(db)
        with pytest.raises(error, match=match):
            transition(db, who, vid_sop, STEP, password=PASSWORD)
        assert snapshot(db) == unchanged
    unchanged = snapshot(db)
    with pytest.raises(InvalidInput, match="enter your password"):
        transition(db, people.supervisor, vid_sop, STEP)
    with pytest.raises(NotFound, match=r"no sign-off 'sign_off\.someone_else'"):
        transition(db, people.supervisor, vid_sop, "sign_off.someone_else", password=PASSWORD)
    assert snapshot(db) == unchanged

    # production signs it off: the status stays, the task closes, the version is recorded
    status = status_and_version(db, vid_sop)
    transition(db, people.supervisor, vid_sop, STEP, password=PASSWORD)
    assert status_and_version(db, vid_sop) == status
    assert sign_off_tasks(db, vid_sop) == [(STEP, "production_supervisor", "done")]
    assert (KEY, 2, "sign-off production_concurrence") in uses(db, "document_version", vid_sop)
    with unit_of_work(db, write=False) as s:
        signed = [
            (e.transition, e.meaning, e.signer_username)
            for e in s.scalars(
                select(ElectronicSignature).where(
                    ElectronicSignature.record_id == vid_sop,
                    ElectronicSignature.record_type == "document_version",
                )
            )
        ]
    assert signed == [(STEP, "Reviewed", "supervisor")]
    # a second sign-off on the same version is refused, and changes nothing
    unchanged = snapshot(db)
    with pytest.raises(TransitionNotAllowed, match="signed off by Sam Supervisor on 2026-"):
        transition(db, people.supervisor, vid_sop, STEP, password=PASSWORD)
    assert snapshot(db) == unchanged

    # returned to draft and submitted again, the record changed: the sign-off is asked again
    transition(db, people.qa2, vid_sop, "return_to_draft", reason="Typo in step 4")
    transition(db, people.qa, vid_sop, "submit")
    with pytest.raises(TransitionNotAllowed, match="waits for the sign-off"):
        transition(db, people.qa2, vid_sop, "approve", password=PASSWORD)
    transition(db, people.supervisor, vid_sop, STEP, password=PASSWORD)
    transition(db, people.qa2, vid_sop, "approve", password=PASSWORD)
    assert status_and_version(db, vid_sop)[0] == "approved"
    assert (KEY, 2, "sign-offs of transition:approve") in uses(db, "document_version", vid_sop)

    # whoever signed it off may not also approve: another person's concurrence
    transition(db, people.qa2, early, STEP, password=PASSWORD)
    unchanged, before = snapshot(db), status_and_version(db, early)
    with pytest.raises(SegregationOfDuties, match="qa2 signed off 'Production concurs'"):
        transition(db, people.qa2, early, "approve", password=PASSWORD)
    assert (snapshot(db), status_and_version(db, early)) == (unchanged, before)
    assert effective < clock.now()
    assert vid


@pytest.mark.clause("part11:11.50", "part11:11.100", "part11:11.10(d)")
@pytest.mark.postgres
def test_a_sign_off_that_breaks_part_11_or_names_nothing_known_is_refused_and_changes_nothing(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    common = {"effective_from": START + timedelta(days=1), "change_id": cid, "rationale": "why"}
    refused: list[tuple[type[Exception], dict[str, Any], str]] = [
        (InvalidInput, concurrence("qa", meaning=""), "without a meaning is not a signature"),
        (InvalidInput, concurrence("qa", meaning="Blessed"), "unknown meaning 'Blessed'"),
        (InvalidInput, concurrence("qa", before="publish"), "before names a transition"),
        (InvalidInput, concurrence("qa", before=["approve"]), "before names a transition"),
        (InvalidInput, {"approve": concurrence("qa")["production_concurrence"]}, "has that name"),
        (InvalidInput, concurrence("qa", forbid_author="yes"), "forbid_author is true or false"),
        (InvalidInput, concurrence("quality_lead"), "neither the code's nor a site role"),
        (ControlBroken, concurrence(), "at least one role"),
        (ControlBroken, concurrence("auditor"), "read-only and signs nothing"),
        (ControlBroken, concurrence("system"), "never signs"),
    ]
    for error, content, match in refused:
        unchanged = snapshot(db)
        with pytest.raises(error, match=match):
            draft(db, people.qa, KEY, content, **common)
        assert snapshot(db) == unchanged, match


@pytest.mark.postgres
def test_the_sandbox_counts_the_records_that_would_wait_and_the_api_takes_the_sign_off(
    db: Any, people: Any, app: Any, moving_clock: clock.FrozenClock
) -> None:
    waiting = in_review(db, people, "Cleaning of the coating pan")
    cid = approved_change_from_a_new_edition(db, people)
    vid = put_in_force(
        db,
        people,
        KEY,
        concurrence("production_supervisor"),
        effective_from=START + timedelta(hours=1),
        change_id=cid,
    )
    from pharmaqms.compliance.configuration import service

    with unit_of_work(db, write=False) as s:
        summary = " ".join(service.get_version(s, vid).test_summary or [])
    assert "1 document_version record(s) now in in_review would wait for 'Production concurs'" in (
        summary
    )
    # the rehearsal: the workflow engine run with the draft in force, as each active person
    with unit_of_work(db, write=False) as s:
        label = documents.get_version(s, waiting).audit_label()
    assert "on 1 open record(s) (document versions) as 11 active people: 2 step(s)" in summary
    assert f"{label} 'Approve': qa2, qp → nobody" in summary
    assert f"{label} 'Sign off: Production concurs': a new step, for supervisor" in summary
    moving_clock.advance(hours=2)
    # the SOP waited before the sign-off came into force: no task yet; the sweep that runs
    # every few minutes opens it, once (the daily jobs would too)
    assert sign_off_tasks(db, waiting) == []
    from pharmaqms.kernel.jobs.runner import bind
    from pharmaqms.kernel.settings import get_settings
    from pharmaqms.schedule import SIGN_OFF_TASKS_JOB, declare
    from pharmaqms.schedule import sign_off_tasks as sweep

    bind(db)  # the job runner of this process works on this test's database
    assert declare()[SIGN_OFF_TASKS_JOB] == f"*/{get_settings().jobs_sweep_minutes} * * * *"
    assert sweep() == {"opened": 1}
    assert sweep() == {"opened": 0}
    with unit_of_work(db) as s:
        assert open_waiting_sign_off_tasks(s, actor=people.qa) == []
    assert sign_off_tasks(db, waiting) == [(STEP, "production_supervisor", "open")]
    supervisor = Api(app, "supervisor")
    url = f"/api/v1/records/document_version/{waiting}"
    steps = {o["name"]: o for o in supervisor.get(f"{url}/transitions").json()}
    assert steps[STEP]["allowed"] and steps[STEP]["signature"] == "Reviewed"
    assert not steps["approve"]["allowed"]
    # the version the signer reviewed is asked for, as for any signature
    unchanged = snapshot(db)
    answer = supervisor.post(f"{url}/transitions/{STEP}", json={"password": PASSWORD})
    assert answer.status_code == 422, answer.text
    assert snapshot(db) == unchanged
    version = supervisor.get(url).json()["version"]
    answer = supervisor.post(
        f"{url}/transitions/{STEP}", json={"password": PASSWORD, "expected_version": version}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "in_review"
    assert "no longer waits" in answer.json()["outcome"]
    assert sign_off_tasks(db, waiting) == [(STEP, "production_supervisor", "done")]
    with unit_of_work(db) as s:
        assert open_waiting_sign_off_tasks(s, actor=people.qa) == []
    qa2 = Api(app, "qa2")
    approve = {o["name"]: o for o in qa2.get(f"{url}/transitions").json()}["approve"]
    assert approve["allowed"], approve
