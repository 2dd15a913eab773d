"""A version in force that the code no longer accepts: after an upgrade brings a built-in
role with the name of a site role QA defined, the version that defined it still applies as
approved, but the configuration page and ``pharmaqms compliance config-check`` say it no
longer passes this code's checks and why, and the daily recheck gives QA a task on it, once,
closed when a corrected version is in force. Checking changes nothing. The code's own first
versions pass its checks, every one of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    put_in_force,
    snapshot,
)
from tests.compliance.test_configuration_site_roles import (
    DESCRIBED,
    REVIEWER,
    ROLES,
    START,
    with_site_roles,
)
from tests.kernel.cli import run_cli
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration import checks
from pharmaqms.compliance.configuration.recheck import TASK_KIND, recheck_configuration
from pharmaqms.kernel import auth, clock, role_permissions, roles
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work


def site_role_in_force(db: Database, people: Any, moving_clock: clock.FrozenClock) -> int:
    """QA's version defining the contract reviewer as a site role, in force an hour after
    START; the clock moved past it. Returns the change control it was made under."""
    change = approved_change_from_a_new_edition(db, people)
    put_in_force(
        db, people, ROLES, with_site_roles(**{REVIEWER: DESCRIBED}),
        effective_from=START + timedelta(hours=1), change_id=change,
    )  # fmt: skip
    moving_clock.advance(hours=2)
    return change


def an_upgrade_makes_the_site_role_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        roles.DEFAULT_ROLES, REVIEWER, ("Contract reviewer (built in)", {"records.read"})
    )


def stale(db: Database) -> list[checks.StaleVersion]:
    with unit_of_work(db, write=False) as s:
        return checks.in_force_problems(s)


def test_an_upgrade_that_makes_a_site_role_built_in_is_reported_and_nothing_changes(
    db: Database, people: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen_at(START) as moving_clock:
        site_role_in_force(db, people, moving_clock)
        # every version in force passes: the page has no warning, the command says so
        assert stale(db) == []
        qa = UiClient(app)
        assert qa.login("qa").status_code == 303
        assert 'data-testid="config-stale"' not in qa.get("/compliance/configuration").text
        passing = run_cli(db, "compliance", "config-check")
        assert passing.exit_code == 0, passing.output
        assert "configuration keys: every version in force passes" in passing.output

        # when an upgrade of the code brings a built-in role of the same name
        an_upgrade_makes_the_site_role_built_in(monkeypatch)
        before = snapshot(db)

        # then the version is named with the reason, on the page and by the command
        found = stale(db)
        assert [(v.key, v.version_no) for v in found] == [(ROLES, 2)]
        reason = (
            f"{REVIEWER} is a built-in role: give its list of permissions (the code describes "
            "it); a site role needs a name of its own"
        )
        assert reason in found[0].problems
        page = qa.get("/compliance/configuration").text
        assert 'data-testid="config-stale"' in page
        assert f"{ROLES} v2</a>" in page and reason in page.replace("&#39;", "'")
        failing = run_cli(db, "compliance", "config-check")
        assert failing.exit_code == 1
        assert f"{ROLES} v2: no longer passes this code's checks" in failing.output
        assert f"  - {reason}" in failing.output
        # and checking changed nothing: the version still applies as approved
        assert snapshot(db) == before


def recheck(db: Database) -> tuple[int, int]:
    with unit_of_work(db) as s:
        result = recheck_configuration(s, actor=auth.system_actor(s, Channel.SYSTEM))
        return len(result.opened), len(result.closed)


def recheck_tasks(db: Database) -> list[tuple[str, str | None, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (t.title, t.assignee_role, t.status)
            for t in s.scalars(select(Task).where(Task.kind == TASK_KIND).order_by(Task.id))
        ]


def test_the_daily_recheck_gives_qa_one_task_closed_by_a_corrected_version(
    db: Database, people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with clock.frozen_at(START) as moving_clock:
        change = site_role_in_force(db, people, moving_clock)
        assert recheck(db) == (0, 0) and recheck_tasks(db) == []

        an_upgrade_makes_the_site_role_built_in(monkeypatch)
        # the first run opens QA's task on the version, the second finds it open
        assert recheck(db) == (1, 0)
        assert recheck(db) == (0, 0)
        [(title, role, status)] = recheck_tasks(db)
        assert (role, status) == ("qa", "open")
        assert title.startswith(f"{ROLES} v2 no longer passes the system's checks: {REVIEWER}")

        # QA puts a corrected version in force: the built-in role keeps the code's list
        corrected = {**role_permissions.code_grants()}
        assert REVIEWER in corrected
        put_in_force(
            db, people, ROLES, corrected,
            effective_from=clock.now() + timedelta(hours=1), change_id=change,
        )  # fmt: skip
        moving_clock.advance(hours=2)
        assert recheck(db) == (0, 1)
        [(_, _, status)] = recheck_tasks(db)
        assert status == "done"


def test_every_built_in_first_version_passes_the_code_s_own_checks() -> None:
    for config_kind in store.kinds():
        content = config_kind.builtin()
        assert checks.schema_problems(config_kind.key, content) == [], config_kind.key
        assert checks.control_problems(config_kind.key, content) == [], config_kind.key
