"""The workflow engine: pure checks of a declared workflow (no database), then the tasks it
opens and closes on a real record type, and the inbox with its due and overdue flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from tests.conftest import People
from tests.kernel.helpers import changes_of, entries, new_sop, row, snapshot, transition
from tests.support import PASSWORD

from pharmaqms.kernel import clock, tasks, workflow
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import (
    NotFound,
    PermissionDenied,
    ReasonRequired,
    SegregationOfDuties,
    TransitionNotAllowed,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import (
    Transition,
    Workflow,
    blockers,
    options,
    perform,
    roles,
    states,
)
from pharmaqms.quality.documents.models import DocumentVersion

# --- a workflow declared for the tests, checked without a database -----------------------------


@dataclass
class Capa:
    """Stands in for a record: what the engine reads of one."""

    status: str
    author_id: int
    effectiveness_check: str = ""

    def audit_label(self) -> str:
        return "CAPA-2026-0001"


def has_effectiveness_check(capa: Any) -> list[str]:
    return [] if capa.effectiveness_check else ["CAPA has no effectiveness check"]


CAPA = Workflow(
    record_type="capa_under_test",
    states=("open", "closing", "closed"),
    initial="open",
    transitions=(
        Transition(
            "propose_closure",
            "Propose closure",
            states("open"),
            "closing",
            roles("qa", "production_supervisor"),
            guards=(has_effectiveness_check,),
        ),
        Transition(
            "close",
            "Close",
            states("closing"),
            "closed",
            roles("qa"),
            forbid_author=True,
            reason_required=True,
        ),
    ),
)


def actor(user_id: int, *role_names: str) -> Actor:
    return Actor(user_id, f"user{user_id}", f"User {user_id}", frozenset(role_names), frozenset())


QA = actor(1, "qa")
QA_AUTHOR = actor(2, "qa")
OPERATOR = actor(3, "production_operator")


@pytest.fixture(autouse=True)
def no_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    # Gates registered by other modules (training) look at the database; these tests don't.
    monkeypatch.setattr(workflow, "GATES", [])


def reasons(record: Capa, name: str, who: Actor) -> list[tuple[type[Exception], str]]:
    return blockers(None, record, CAPA.transition(name), who)  # type: ignore[arg-type]


def test_an_unknown_transition_is_not_found_and_the_known_ones_are_named() -> None:
    with pytest.raises(NotFound) as refused:
        CAPA.transition("reopen")

    assert refused.value.detail == (
        "capa_under_test has no transition 'reopen'; known: propose_closure, close"
    )


@pytest.mark.clause("part11:11.10(f)")
def test_a_transition_from_the_wrong_state_is_not_allowed_and_nothing_else_is_checked() -> None:
    assert reasons(Capa("open", author_id=2), "close", OPERATOR) == [
        (TransitionNotAllowed, "'Close' is not possible from status 'open'")
    ]


@pytest.mark.clause("part11:11.10(g)")
def test_a_transition_needs_one_of_its_roles() -> None:
    assert reasons(Capa("closing", author_id=2), "close", OPERATOR) == [
        (PermissionDenied, "'Close' needs one of the roles qa")
    ]
    assert reasons(Capa("closing", author_id=2), "close", QA) == []


def test_a_guard_gives_its_reasons_and_every_reason_is_collected() -> None:
    capa = Capa("open", author_id=2)

    assert reasons(capa, "propose_closure", OPERATOR) == [
        (PermissionDenied, "'Propose closure' needs one of the roles production_supervisor, qa"),
        (TransitionNotAllowed, "CAPA has no effectiveness check"),
    ]
    capa.effectiveness_check = "no recurrence in 3 months of batch records"
    assert reasons(capa, "propose_closure", QA) == []


def test_the_author_may_be_barred_from_a_transition() -> None:
    assert reasons(Capa("closing", author_id=2), "close", QA_AUTHOR) == [
        (SegregationOfDuties, "the author of CAPA-2026-0001 may not 'Close' it")
    ]


def test_options_list_what_can_be_done_from_the_current_state_and_why_not() -> None:
    [option] = options(None, CAPA, Capa("open", author_id=2), QA)  # type: ignore[arg-type]

    assert option.transition.name == "propose_closure"
    assert not option.allowed
    assert option.reasons == ["CAPA has no effectiveness check"]


@pytest.mark.parametrize(
    ("who", "record", "name", "error", "detail"),
    [
        (QA, Capa("open", 2), "close", TransitionNotAllowed, "not possible from status 'open'"),
        (OPERATOR, Capa("closing", 2), "close", PermissionDenied, "needs one of the roles qa"),
        (QA_AUTHOR, Capa("closing", 2), "close", SegregationOfDuties, "the author of"),
        (QA, Capa("open", 2), "propose_closure", TransitionNotAllowed, "no effectiveness check"),
        (QA, Capa("closing", 2), "close", ReasonRequired, "'Close' needs a reason"),
    ],
)
@pytest.mark.clause("part11:11.10(f)")
def test_perform_refuses_before_it_changes_anything(
    who: Actor, record: Capa, name: str, error: type[Exception], detail: str
) -> None:
    status = record.status

    # the session is never reached: a refusal is decided before anything is written
    with pytest.raises(error) as refused:
        perform(None, CAPA, record, name, actor=who, reason="  ")  # type: ignore[arg-type]

    assert type(refused.value) is error
    assert detail in str(refused.value)
    assert record.status == status


def test_a_workflow_with_duplicate_names_or_unknown_states_is_refused_when_declared() -> None:
    submit = Transition("submit", "Submit", states("draft"), "review", roles("qa"))
    with pytest.raises(ValueError, match="duplicate transition names"):
        Workflow("x", ("draft", "review"), "draft", (submit, submit))
    with pytest.raises(ValueError, match="unknown states"):
        Workflow("x", ("draft",), "draft", (submit,))


# --- on a real record type -----------------------------------------------------------------------


def test_a_transition_that_needs_a_reason_is_refused_without_one(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    before, stored = snapshot(db), row(db, DocumentVersion, vid)

    with pytest.raises(ReasonRequired) as refused:
        transition(db, people.qa, vid, "return_to_draft", reason=" ")

    assert refused.value.field == "reason"
    assert snapshot(db) == before
    assert row(db, DocumentVersion, vid) == stored


@pytest.mark.clause("part11:11.10(e)", "annex11:9")
def test_every_transition_is_audited_with_its_reason(db: Database, people: People) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    start = snapshot(db).head[0]

    transition(db, people.qa, vid, "return_to_draft", reason="scope section missing")

    [entry] = [
        e for e in entries(db, record_id=vid, after=start) if e.record_type == "document_version"
    ]
    assert entry.action == "transition:return_to_draft"
    assert entry.actor_username == "qa"
    assert entry.reason == "scope section missing"
    assert changes_of(entry) == {"status": ["in_review", "draft"]}


def open_tasks(db: Database, vid: int) -> list[tuple[str, str, str | None]]:
    with unit_of_work(db, write=False) as s:
        return [
            (t.kind, t.status, t.assignee_role)
            for t in s.query(Task)
            .filter(Task.record_type == "document_version", Task.record_id == vid)
            .order_by(Task.id)
        ]


@pytest.mark.postgres
def test_entering_a_state_opens_a_task_and_leaving_it_closes_the_task(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given a draft: nobody has anything to do yet
    vid = new_sop(db, people.qc)
    assert open_tasks(db, vid) == []

    # when it is submitted, QA gets a review task due in ten days
    transition(db, people.qc, vid, "submit")
    assert open_tasks(db, vid) == [("approve", "open", "qa")]
    with unit_of_work(db, write=False) as s:
        [task] = s.query(Task).filter(Task.record_id == vid).all()
        assert task.due_at == frozen_clock.current + timedelta(days=10)
        assert task.title.startswith("Review and approve SOP-")

    # when it is approved, that task is done and the next one opens
    frozen_clock.advance(days=2)
    transition(db, people.qa, vid, "approve", password=PASSWORD)
    assert open_tasks(db, vid) == [("approve", "done", "qa"), ("make_effective", "open", "qa")]
    with unit_of_work(db, write=False) as s:
        done = s.query(Task).filter(Task.record_id == vid, Task.kind == "approve").one()
        assert done.closed_at == frozen_clock.current
        assert done.closed_by_id == people.qa.user_id
        assert done.outcome == "Approve by Quentin Quality"


def test_the_inbox_flags_what_is_due_soon_and_what_is_overdue(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    # given an SOP submitted for review: a task for every QA person, due in ten days
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")

    def inbox_of(who: Actor) -> list[tuple[int, bool, bool]]:
        with unit_of_work(db, write=False) as s:
            return [(i.task.record_id, i.due_soon, i.overdue) for i in tasks.inbox(s, who)]

    # QA sees it, not due soon yet; the author (QC) does not see it at all
    assert inbox_of(people.qa) == [(vid, False, False)]
    assert inbox_of(people.qa2) == [(vid, False, False)]
    assert inbox_of(people.qc) == []

    # four days later it is due within a week
    frozen_clock.advance(days=4)
    assert inbox_of(people.qa) == [(vid, True, False)]

    # after ten days and a second it is overdue
    frozen_clock.advance(days=6, seconds=1)
    assert inbox_of(people.qa) == [(vid, False, True)]


def test_my_tasks_through_the_api_carry_the_overdue_flag(
    api: Any, db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    frozen_clock.advance(days=11)

    [task] = api("qa").get("/api/v1/tasks").json()

    assert (task["record_id"], task["kind"], task["overdue"]) == (vid, "approve", True)
