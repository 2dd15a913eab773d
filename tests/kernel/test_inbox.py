"""The inbox at scale and in a team: filters, order and pages computed in the database, and a
role's task handed on to one colleague (and back) with a reason in the audit trail. Refusals
change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.conftest import People
from tests.kernel.helpers import entries, new_sop, snapshot, transition
from tests.support import PASSWORD

from pharmaqms.kernel import auth, clock, tasks
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import DocumentVersion


def _open(db: Database, people: People, version_id: int, **kw: object) -> int:
    with unit_of_work(db) as s:
        version = s.get(DocumentVersion, version_id)
        assert version is not None
        task = tasks.open_task(s, version, actor=people.admin, kind="check", **kw)  # type: ignore[arg-type]
        s.flush()
        return task.id


def _user_id(db: Database, username: str) -> int:
    with unit_of_work(db, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        return user.id


@dataclass(frozen=True)
class Seen:
    """One inbox page as plain values (read inside its unit of work)."""

    total: int
    overdue: int
    due_soon: int
    by_type: dict[str, int]
    titles: list[str]
    ids: list[int]
    delegated: list[bool]


def _page(db: Database, who: Actor, **kw: object) -> Seen:
    with unit_of_work(db, write=False) as s:
        page = tasks.inbox_page(s, who, tasks.InboxView(**kw))  # type: ignore[arg-type]
        return Seen(
            page.total,
            page.overdue,
            page.due_soon,
            page.by_type,
            [i.task.title for i in page.items],
            [i.task.id for i in page.items],
            [i.delegated for i in page.items],
        )


def _titles(page: Seen) -> list[str]:
    return page.titles


def test_the_inbox_filters_orders_and_pages_in_the_database(
    db: Database, people: People, frozen_clock: clock.FrozenClock
) -> None:
    vid = new_sop(db, people.qc)
    # twelve QA tasks: 3 overdue, 4 due this week, 3 later, 2 without a due date
    dues = [-3, -2, -1, 1, 2, 3, 4, 10, 20, 30, None, None]
    for n, days in enumerate(dues):
        _open(
            db,
            people,
            vid,
            title=f"T{n:02d}",
            role="qa",
            due_at=None if days is None else frozen_clock.current + timedelta(days=days),
        )
    qc_id = _user_id(db, "qc")
    _open(db, people, vid, title="for Chloe", user_id=qc_id, due_in=timedelta(days=1))

    whole = _page(db, people.qa)
    assert whole.total == 12 and (whole.overdue, whole.due_soon) == (3, 4)
    assert _titles(whole) == [f"T{n:02d}" for n in range(12)]  # by due date, none last
    assert whole.by_type == {"document_version": 12}

    assert _titles(_page(db, people.qa, due="overdue")) == ["T00", "T01", "T02"]
    assert _titles(_page(db, people.qa, due="soon")) == ["T03", "T04", "T05", "T06"]
    assert _titles(_page(db, people.qa, due="later")) == ["T07", "T08", "T09"]
    assert _titles(_page(db, people.qa, due="none")) == ["T10", "T11"]

    second = _page(db, people.qa, offset=5, limit=5)
    assert (second.total, _titles(second)) == (12, ["T05", "T06", "T07", "T08", "T09"])
    assert _titles(_page(db, people.qa, sort="opened", limit=2)) == ["T11", "T10"]
    assert _page(db, people.qa, record_type="capa").total == 0
    # Chloe's own task is hers only; "me" means tasks by name
    assert _titles(_page(db, people.qc, assignee="me")) == ["for Chloe"]
    assert _page(db, people.qa, assignee="me").total == 0
    assert _page(db, people.qa, assignee="qa").total == 12


def test_a_role_task_handed_on_is_seen_by_the_delegate_only_and_can_be_handed_back(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")  # a review task for role qa
    with unit_of_work(db, write=False) as s:
        task_id = s.scalars(select(Task.id).where(Task.record_id == vid)).one()
    qa2_id = _user_id(db, "qa2")

    with unit_of_work(db) as s:
        tasks.delegate_task(
            s, task_id, actor=people.qa, delegate_id=qa2_id, reason="on leave until Friday"
        )

    assert _page(db, people.qa2).ids == [task_id]
    assert _page(db, people.qa2).delegated == [True]
    assert _page(db, people.qa).total == 0
    [entry] = entries(db, record_type="task", record_id=task_id)[-1:]
    assert entry.reason == "task delegated to qa2: on leave until Friday"
    assert entry.actor_username == "qa"

    with unit_of_work(db) as s:
        tasks.return_task_to_role(s, task_id, actor=people.qa2, reason="back from the audit")
    assert _page(db, people.qa).total == 1 and _page(db, people.qa2).total == 1
    assert entries(db, record_type="task", record_id=task_id)[-1].reason == (
        "task handed back to role qa: back from the audit"
    )
    # and the record's own workflow still closes it when the SOP moves on
    transition(db, people.qa2, vid, "approve", password=PASSWORD)
    assert _page(db, people.qa).total == _page(db, people.qa2).total == 1  # make-effective task


@pytest.mark.parametrize(
    ("who", "delegate", "reason", "error", "says"),
    [
        ("qa", "qc", "holiday cover", InvalidInput, "does not hold the role 'qa'"),
        ("qa", "qa2", "no", InvalidInput, "give the reason"),
        ("qc", "qa2", "holiday cover", PermissionDenied, "only whoever has the task"),
        ("qa", "ghost", "holiday cover", InvalidInput, "is not an active person"),
    ],
)
def test_refused_hand_overs_change_nothing(
    db: Database, people: People, who: str, delegate: str, reason: str, error: type, says: str
) -> None:
    vid = new_sop(db, people.qc)
    transition(db, people.qc, vid, "submit")
    with unit_of_work(db, write=False) as s:
        task_id = s.scalars(select(Task.id).where(Task.record_id == vid)).one()
    delegate_id = 999_999 if delegate == "ghost" else _user_id(db, delegate)
    before = snapshot(db)
    with pytest.raises(error, match=says), unit_of_work(db) as s:
        tasks.delegate_task(
            s, task_id, actor=people.actor(who), delegate_id=delegate_id, reason=reason
        )
    assert snapshot(db) == before
    with unit_of_work(db, write=False) as s:
        task = s.get(Task, task_id)
        assert task is not None and task.assignee_user_id is None


def test_a_task_for_a_named_person_follows_its_record_and_is_not_handed_on(
    db: Database, people: People
) -> None:
    vid = new_sop(db, people.qc)
    task_id = _open(db, people, vid, title="Your own action", user_id=_user_id(db, "qa"))
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="opened for a named person"), unit_of_work(db) as s:
        tasks.delegate_task(
            s, task_id, actor=people.qa, delegate_id=_user_id(db, "qa2"), reason="holiday"
        )
    with pytest.raises(InvalidInput, match="not delegated"), unit_of_work(db) as s:
        tasks.return_task_to_role(s, task_id, actor=people.qa, reason="holiday")
    with pytest.raises(NotFound), unit_of_work(db) as s:
        tasks.delegate_task(s, 987_654, actor=people.qa, delegate_id=1, reason="holiday")
    assert snapshot(db) == before
