"""A task's title names the record and its title; a record with the longest title it allows
still gets a task whose title fits the task's column — on PostgreSQL, which enforces the
length (SQLite does not, so a backup of it would not restore there)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.conftest import People

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations import service as deviations


@pytest.mark.postgres
def test_a_task_about_a_record_with_the_longest_title_fits_its_own_title(
    db: Database, people: People
) -> None:
    # given a deviation with the longest title a deviation may have
    title = "Ä" * 299 + "\U0001f9ea"
    with unit_of_work(db) as s:
        deviations.report_deviation(
            s,
            actor=people.operator,
            title=title,
            description="The press stopped.",
            area="Production",
            occurred_at=clock.now() - timedelta(hours=2),
            discovered_at=clock.now() - timedelta(hours=1),
        )

    # then its classification task is titled within the task's 300 characters, cut visibly
    with unit_of_work(db, write=False) as s:
        [task] = s.scalars(select(Task)).all()
        assert len(task.title) == 300
        assert task.title == (f"Classify DEV-{clock.now().year}-0001: " + title)[:299] + "…"
