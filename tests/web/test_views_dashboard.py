"""The home page: my tasks with due dates (overdue in red, due this week in amber), the menu
for my roles, and my name and roles in the header."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.conftest import People
from tests.support import PEOPLE
from tests.web.support import make_sop

from pharmaqms.kernel.clock import FrozenClock
from pharmaqms.kernel.db import Database


def task_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="([^"]*)" data-testid="task">', page)


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_the_home_page_renders_for_every_role_with_the_menu_it_may_see(
    username: str, ui: Any
) -> None:
    full_name, roles = PEOPLE[username]

    page = ui(username).get("/").text

    assert f'<span class="user-name" data-testid="current-user">{full_name}</span>' in page
    assert f'<span class="user-roles">{", ".join(sorted(roles))}</span>' in page
    assert '<a href="/documents">Documents</a>' in page
    assert ('<a href="/audit">Audit trail</a>' in page) == (
        username in ("admin", "qa", "qa2", "auditor")
    )
    assert ('<a href="/admin/users">Users and security</a>' in page) == (
        username in ("admin", "qa", "qa2", "auditor")
    )
    assert ("Unacknowledged security alerts" in page) == (username == "admin")


def test_a_task_links_to_its_record_and_carries_its_due_date(
    ui: Any, db: Database, people: People, frozen_clock: FrozenClock
) -> None:
    doc_id, vid, number = make_sop(db, people.qc, state="in_review")

    page = ui("qa").get("/").text

    assert task_rows(page) == [""]
    assert f'<a href="/documents/{doc_id}?version={vid}">Review and approve {number}</a>' in page
    assert "2026-03-12" in page  # due ten days after submission


def test_a_task_due_this_week_is_amber_and_an_overdue_one_red(
    ui: Any, db: Database, people: People, frozen_clock: FrozenClock
) -> None:
    make_sop(db, people.qc, state="in_review")

    frozen_clock.advance(days=5)
    soon = ui("qa").get("/").text
    frozen_clock.advance(days=6)
    late = ui("qa").get("/").text

    assert task_rows(soon) == ["due-soon"]
    assert "Due this week" in soon
    assert task_rows(late) == ["overdue"]
    assert '<span class="due-overdue">Overdue</span>' in late


def test_tasks_of_other_roles_are_not_in_my_list(ui: Any, db: Database, people: People) -> None:
    make_sop(db, people.qc, state="in_review")

    page = ui("operator").get("/").text

    assert task_rows(page) == []
    assert "Nothing waits for you." in page


def test_the_inbox_filters_by_due_and_groups_by_record(
    ui: Any, db: Database, people: People, frozen_clock: FrozenClock
) -> None:
    make_sop(db, people.qc, state="in_review", title="Cleaning of the tablet press")
    make_sop(db, people.qc, state="in_review", title="Line clearance")
    frozen_clock.advance(days=11)  # both reviews overdue
    _, _, gowning = make_sop(db, people.qc, state="in_review", title="Gowning")
    qa = ui("qa")

    overdue = qa.get("/?due=overdue").text
    later = qa.get("/?due=later").text
    grouped = qa.get("/?group=record").text
    nonsense = qa.get("/?due=yesterday&for=admin&sort=sideways&offset=-5").text

    assert task_rows(overdue) == ["overdue", "overdue"]
    assert gowning not in overdue and "2 overdue" in overdue
    assert task_rows(later) == [""] and gowning in later
    assert grouped.count('data-testid="task-group"') == 3
    # values that are not one of the choices are no filter (nor a role the person lacks)
    assert len(task_rows(nonsense)) == 3


def test_a_task_is_handed_on_from_the_inbox_with_a_reason(
    ui: Any, db: Database, people: People
) -> None:
    make_sop(db, people.qc, state="in_review")
    quentin, rosa = ui("qa"), ui("qa2")
    link = re.search(r'href="(/tasks/(\d+)/delegate)"', quentin.get("/").text)
    assert link is not None
    form = quentin.get(link.group(1)).text
    rosa_id = re.search(r'<option value="(\d+)">Rosa Reviewer \(qa2\)</option>', form)
    assert rosa_id is not None and "Chloe" not in form  # only holders of the role qa

    refused = quentin.post(link.group(1), {"delegate_id": rosa_id.group(1), "reason": "x"})
    assert refused.status_code in (303, 422)
    assert task_rows(rosa.get("/").text) == [""]  # still the whole role's

    done = quentin.follow(
        quentin.post(link.group(1), {"delegate_id": rosa_id.group(1), "reason": "on leave"})
    )
    assert "handed to Rosa Reviewer" in done.text
    assert task_rows(done.text) == []
    mine = rosa.get("/").text
    assert "(delegated, role qa)" in mine
    # someone outside the role can't even see the task's page
    assert ui("operator").get(link.group(1)).status_code == 404

    back = rosa.follow(rosa.post(f"/tasks/{link.group(2)}/return", {"reason": "back at work"}))
    assert "handed back to everyone holding qa" in back.text
    assert task_rows(quentin.get("/").text) == [""]
