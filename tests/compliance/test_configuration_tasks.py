"""Who receives the task a status opens, and when it is due, as controlled configuration
(``workflow.<type>.tasks``): a new version sends SOP review tasks to a role with a shorter due
date from its effective date, tasks already open keep theirs, and each new task records the
version it ran under. Versions that would leave a task to nobody, to a read-only or machine
role, or with a meaningless due date are refused and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    drafted_and_tested,
    put_in_force,
    snapshot,
    uses,
)
from tests.conftest import People
from tests.kernel.helpers import sop_in_state

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import ControlBroken, InvalidInput
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work

KEY = "workflow.document_version.tasks"
BUILT_IN = {
    "in_review": {"role": "qa", "due_in_days": 10},
    "approved": {"role": "qa", "due_in_days": 30},
}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def moving_clock(db: Database) -> Iterator[clock.FrozenClock]:
    with clock.frozen_at(START) as frozen:
        yield frozen


def _review_task(db: Database, version_id: int) -> tuple[str | None, datetime | None, datetime]:
    with unit_of_work(db, write=False) as s:
        task = s.scalars(
            select(Task).where(
                Task.record_type == "document_version",
                Task.record_id == version_id,
                Task.kind == "approve",
            )
        ).one()
        return task.assignee_role, task.due_at, task.created_at


def test_the_built_in_version_is_the_code_s_tasks(db: Database) -> None:
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, KEY).content == BUILT_IN


@pytest.mark.clause("annex11:10")
@pytest.mark.postgres
def test_review_tasks_due_sooner_from_the_version_s_date_and_open_ones_keep_theirs(
    db: Database, people: People, moving_clock: clock.FrozenClock
) -> None:
    # given an SOP in review with its task due in the code's 10 days
    old = sop_in_state(db, people.qc, people.qa, "in_review", "Weighing of raw materials")
    assert _review_task(db, old)[1] == START + timedelta(days=10)
    # when QA puts 3 days in force under a change control, from tomorrow
    proposed = {**BUILT_IN, "in_review": {"role": "qa", "due_in_days": 3}}
    vid, summary = drafted_and_tested(
        db,
        people,
        KEY,
        proposed,
        effective_from=START + timedelta(days=1),
        rationale="Reviews of SOPs are due within 3 days (TEST 1, 2024).",
    )
    # the sandbox run says what changes, what stays, and who acts from there
    assert (
        "in review: 'approve' tasks go to qa, due in 3 day(s) (now qa, 10); the 1 open one(s) "
        "keep theirs"
    ) in summary
    assert any(line.startswith("in review: qa takes the step(s) ") for line in summary)
    with unit_of_work(db) as s:
        from tests.support import PASSWORD

        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)

    # then an SOP submitted after the date gets a task due in 3 days, recording the rule
    moving_clock.advance(days=2)
    new = sop_in_state(db, people.qc, people.qa, "in_review", "Cleaning of the granulator")
    role, due, created = _review_task(db, new)
    assert (role, due) == ("qa", created + timedelta(days=3))
    assert (KEY, 2, "task on entering in_review") in uses(db, "document_version", new)
    # and the task opened before keeps its 10 days
    assert _review_task(db, old)[1] == START + timedelta(days=10)
    assert (KEY, 1, "task on entering in_review") in uses(db, "document_version", old)


def test_a_role_that_takes_no_step_is_named_by_the_sandbox_run_not_refused(
    db: Database, people: People, moving_clock: clock.FrozenClock
) -> None:
    proposed = {**BUILT_IN, "approved": {"role": "production_operator", "due_in_days": 30}}
    _, summary = drafted_and_tested(
        db,
        people,
        KEY,
        proposed,
        effective_from=START + timedelta(days=1),
        rationale="Operators prepare the training before an SOP comes into force.",
    )
    assert (
        "approved: production_operator takes no step out of it under "
        "workflow.document_version.roles in force: make sure the task is work they can do on "
        "the record"
    ) in summary


@pytest.mark.postgres
def test_versions_that_would_leave_a_task_to_nobody_are_refused_and_nothing_changes(
    db: Database, people: People, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)

    def variant(state: str, **entry: Any) -> dict[str, Any]:
        return {**BUILT_IN, state: {**BUILT_IN[state], **entry}}

    refusals: list[tuple[type[Exception], str, Any]] = [
        (ControlBroken, "auditor is read-only and can't act on a task",
         variant("in_review", role="auditor")),
        (ControlBroken, "integration is a service account role",
         variant("in_review", role="integration")),
        (InvalidInput, "due_in_days is a whole number of days from 1 to 365",
         variant("in_review", due_in_days=0)),
        (InvalidInput, "due_in_days is a whole number", variant("in_review", due_in_days=400)),
        (InvalidInput, "due_in_days is a whole number", variant("in_review", due_in_days="3")),
        (InvalidInput, "due_in_days is a whole number", variant("in_review", due_in_days=True)),
        (InvalidInput, "no task of the code opens on draft",
         {**BUILT_IN, "draft": {"role": "qa", "due_in_days": 3}}),
        (InvalidInput, "missing: approved", {"in_review": BUILT_IN["in_review"]}),
        (InvalidInput, "in_review: give exactly the fields role, due_in_days",
         variant("in_review", escalate=True)),
        (InvalidInput, "unknown role nobody_here: neither the code's nor a site role",
         variant("in_review", role="nobody_here")),
        (InvalidInput, "in_review: unknown role QA Team", variant("in_review", role="QA Team")),
    ]  # fmt: skip
    before = snapshot(db)
    for error, message, content in refusals:
        with pytest.raises(error, match=message):
            put_in_force(
                db, people, KEY, content, effective_from=START + timedelta(days=1), change_id=cid
            )
        assert snapshot(db) == before, message
