"""The task a record's arrival in a status opens — who receives it and in how many days it is
due — as controlled configuration (``workflow.<record type>.tasks``): "approve the
investigation of DEV-… within 5 days" may go to another role, or be due sooner, without a
developer.

The code's ``on_enter`` task specifications are the first version, and a version gives each of
those statuses its role and its due days; what the task is (its kind and title) stays code.
A status without a task in the code gets none from a version: a task nobody's code closes
would never close.

What a version may not do is refused with the reason: give the task to a read-only role or a
service account role (nobody there acts on it), to a role nobody defines, or make it due in
less than a day or more than a year. A role that takes no step out of the status is not
refused (some tasks are work on the record, as the analyst's retest), but the sandbox run says
so. Tasks already open keep their role and due date: the version applies to tasks opened from
its effective date, and each records it as the rule it ran under.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.role_permissions import is_site_role_name, site_roles_defined
from pharmaqms.kernel.roles import READ_ONLY_ROLES
from pharmaqms.kernel.workflow_roles import NEVER_SIGN, known_roles, roles_key

if TYPE_CHECKING:
    from pharmaqms.kernel.records import GxPRecord
    from pharmaqms.kernel.workflow import TaskSpec, Workflow

FIELDS = ("role", "due_in_days")
LONGEST_DUE_DAYS = 365


def tasks_key(workflow: Workflow) -> str:
    return f"workflow.{workflow.record_type}.tasks"


def builtin(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """The code's task of each status: the built-in first version."""
    return {
        state: {"role": spec.role, "due_in_days": spec.due_in_days}
        for state, spec in workflow.on_enter.items()
    }


def _problems(workflow: Workflow, content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["give an object with one entry per status that opens a task"]
    states = list(workflow.on_enter)
    problems = []
    if unknown := sorted(set(content) - set(states)):
        problems.append(
            f"no task of the code opens on {', '.join(unknown)}; statuses with a task: "
            f"{', '.join(states)}"
        )
    if missing := [s for s in states if s not in content]:
        problems.append(f"every status with a task needs its entry; missing: {', '.join(missing)}")
    roles = known_roles(workflow)
    for state in states:
        entry = content.get(state)
        if state not in content:
            continue
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            problems.append(f"{state}: give exactly the fields {', '.join(FIELDS)}")
            continue
        role, days = entry["role"], entry["due_in_days"]
        if not isinstance(role, str) or not role:
            problems.append(f"{state}: role is one role's name")
        elif role not in roles and not is_site_role_name(role):
            problems.append(
                f"{state}: unknown role {role}; known: {', '.join(sorted(roles))}, or a site "
                "role as roles.permissions names it (lower-case snake_case)"
            )
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= LONGEST_DUE_DAYS
        ):
            problems.append(
                f"{state}: due_in_days is a whole number of days from 1 to {LONGEST_DUE_DAYS}, "
                "or null for no due date"
            )
    return problems


def _control_problems(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    problems = []
    for state, entry in content.items():
        role = entry.get("role") if isinstance(entry, dict) else None
        if role in READ_ONLY_ROLES:
            problems.append(f"{state}: {role} is read-only and can't act on a task")
        elif role in NEVER_SIGN:
            problems.append(f"{state}: {role} is a service account role; a task is for people")
    return problems


def _reference_problems(workflow: Workflow, session: Session, content: Any) -> list[str]:
    """A task given to a role in a site role's form that roles.permissions does not define is
    refused: a typo would leave the task to nobody."""
    if not isinstance(content, dict):
        return []
    defined = known_roles(workflow) | site_roles_defined(session)
    problems = []
    for state, entry in content.items():
        role = entry.get("role") if isinstance(entry, dict) else None
        if isinstance(role, str) and role not in defined:
            problems.append(
                f"{state}: unknown role {role}: neither the code's nor a site role of "
                "roles.permissions (in force, or approved for a later date)"
            )
    return problems


def _steps_of(session: Session, workflow: Workflow, state: str, role: str) -> list[str]:
    from pharmaqms.kernel.workflow import configured_transitions

    _, transitions = configured_transitions(session, workflow)
    return [t.label for t in transitions.values() if state in t.source and role in t.roles]


def _sandbox(
    workflow: Workflow,
    model: type[GxPRecord],
    session: Session,
    current: config_store.InForce,
    proposed: Any,
) -> list[str]:
    if not isinstance(proposed, dict):
        return []
    findings = []
    for state, spec in workflow.on_enter.items():
        now, then = (current.content or {}).get(state), proposed.get(state)
        if not isinstance(then, dict) or now == then:
            continue
        # A version in force from before the code gave this status a task has no entry for it:
        # the code's task applies.
        before = (
            now if isinstance(now, dict) else {"role": spec.role, "due_in_days": spec.due_in_days}
        )
        open_tasks = session.scalar(
            select(func.count())
            .select_from(Task)
            .join(model, model.id == Task.record_id)
            .where(
                Task.record_type == model.__audit_type__,
                Task.kind == spec.kind,
                Task.closed_at.is_(None),
                model.status == state,
            )
        )
        findings.append(
            f"{workflow.state_label(state)}: '{spec.kind}' tasks go to {then['role']}, due in "
            f"{then['due_in_days'] or 'no set number of'} day(s) (now {before['role']}, "
            f"{before['due_in_days']}); the {open_tasks} open one(s) keep theirs"
        )
        steps = _steps_of(session, workflow, state, str(then["role"]))
        # Not refused: some tasks are work on the record (the analyst's retest), not a step.
        findings.append(
            f"{workflow.state_label(state)}: {then['role']} takes "
            + (
                f"the step(s) {', '.join(steps)} from there"
                if steps
                else f"no step out of it under {roles_key(workflow)} in force: make sure the "
                "task is work they can do on the record"
            )
        )
    return findings


def tasks_grid(content: Any) -> config_store.Grid:
    rows = [
        (state, [str(entry.get("role")), str(entry.get("due_in_days") or "—")])
        for state, entry in (content or {}).items()
        if isinstance(entry, dict)
    ]
    return config_store.Grid(("Status entered", "Task goes to", "Due in days"), rows)


def register_tasks(workflow: Workflow, model: type[GxPRecord], label: str) -> None:
    if not workflow.on_enter:
        return  # no task to configure
    config_store.register_kind(
        config_store.ConfigKind(
            key=tasks_key(workflow),
            title=f"{label}: who receives the task of each status, and when it is due",
            module=workflow.record_type,
            description=(
                "For each status whose arrival opens a task (the code's), the role that "
                "receives it and the days until it is due (null: no due date)."
            ),
            builtin=lambda: builtin(workflow),
            validate=lambda content: _problems(workflow, content),
            controls=_control_problems,
            regulatory_basis="EU GMP Chapter 2 §2.1; 21 CFR 211.22(d)",
            reading=config_store.grid_reading(tasks_grid),
            references=lambda session, content: _reference_problems(workflow, session, content),
            sandbox=lambda session, current, proposed: _sandbox(
                workflow, model, session, current, proposed
            ),
        )
    )


def task_on_entering(
    session: Session, workflow: Workflow, state: str
) -> tuple[TaskSpec | None, config_store.InForce | None]:
    """The task entering ``state`` opens under the version in force, and that version (None
    for a workflow whose record type is not registered: the code's task as it is)."""
    spec = workflow.on_enter.get(state)
    key = tasks_key(workflow)
    if spec is None or not config_store.is_registered(key):
        return spec, None
    version = config_store.in_force(session, key)
    entry = (version.content or {}).get(state)
    if not isinstance(entry, dict):
        return spec, version
    return dataclasses.replace(spec, role=entry["role"], due_in_days=entry["due_in_days"]), version
