"""The daily recheck of the configuration in force (``checks.in_force_problems``): a version
that this code's checks no longer pass gets a task for QA on the version, once, so that the
first person to hear of it after an upgrade is the one who must draft the correction — not
whoever happens to open the configuration page. The task closes itself once the key's version
in force passes again (a corrected version came into force, or the code changed back).

A version still applies as approved while its task is open: the system does not change a rule
behind QA's back, it says the rule no longer fits the system."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration.checks import in_force_problems
from pharmaqms.kernel import tasks
from pharmaqms.kernel.configuration.models import ConfigVersion
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task

TASK_KIND = "config.recheck"
QA_ROLE = "qa"


@dataclass(frozen=True)
class RecheckResult:
    opened: list[Task]
    closed: list[Task]


def recheck_configuration(session: Session, *, actor: Actor) -> RecheckResult:
    stale = {(v.key, v.version_no): v for v in in_force_problems(session)}
    waiting = list(
        session.scalars(
            select(Task).where(
                Task.record_type == ConfigVersion.__audit_type__,
                Task.kind == TASK_KIND,
                Task.status == "open",
            )
        )
    )
    asked = {task.record_id for task in waiting}
    closed: list[Task] = []
    for task in waiting:
        version = session.get(ConfigVersion, task.record_id)
        if version is not None and (version.key, version.version_no) not in stale:
            closed += tasks.close_tasks(
                session,
                version,
                actor=actor,
                kind=TASK_KIND,
                outcome=f"{version.key}: the version in force passes this code's checks again",
            )
    opened = []
    for (key, version_no), found in sorted(stale.items()):
        version = session.scalar(
            select(ConfigVersion).where(
                ConfigVersion.key == key, ConfigVersion.version_no == version_no
            )
        )
        # The code's own first version, never stored, is not a record a task can name; it
        # cannot fail the code's checks unless the code contradicts itself (a test says so).
        if version is None or version.id in asked:
            continue
        opened.append(
            tasks.open_task(
                session,
                version,
                actor=actor,
                kind=TASK_KIND,
                title=(
                    f"{key} v{version_no} no longer passes the system's checks: "
                    f"{found.problems[0]} — draft a corrected version under change control"
                ),
                role=QA_ROLE,
            )
        )
    return RecheckResult(opened, closed)
