"""The life of a stability study, and who may do what.

draft (the protocol is written; it may still be withdrawn) → approved (QA's e-signature,
"Approved", never by the protocol's author: the pulls are scheduled and each becomes a task for
the lab) → completed (the study ended, with a reason; no further results).

Scientists write protocols; QC analysts (and the scientists) pull and test; QA approves.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, tasks
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.rnd.stability.models import (
    PullStatus,
    StabilityPull,
    StabilityStudy,
    StudyStatus,
)
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label, due_on

AUTHORS = ("rd_scientist", "qa")
TESTERS = ("qc_analyst", "rd_scientist")
PULL_TASK = "stability_pull"
PULL_ROLE = "qc_analyst"

grant("stability.read", "rd_scientist", "qa", "qc_analyst")
grant("stability.write", *AUTHORS)
grant("stability.results", *TESTERS)


def schedule_pulls(session: Session, study: Any, actor: Actor) -> None:
    """On approval: one pull per condition and time point, each a task for the lab, due on
    the date the protocol gives it."""
    existing = set(
        session.execute(
            select(StabilityPull.condition, StabilityPull.months).where(
                StabilityPull.study_id == study.id
            )
        ).all()
    )
    created: list[StabilityPull] = []
    with audit.changes(session, actor=actor, reason=f"pulls of {study.number} scheduled"):
        for condition in study.conditions:
            for months in condition["time_points"]:
                if (condition["code"], months) in existing:
                    continue
                pull = StabilityPull(
                    study_id=study.id,
                    condition=condition["code"],
                    months=months,
                    due_on=due_on(study.start_on, months),
                    status=PullStatus.SCHEDULED.value,
                )
                session.add(pull)
                created.append(pull)
        session.flush()
    for pull in created:
        tasks.open_task(
            session,
            pull,
            actor=actor,
            kind=PULL_TASK,
            title=f"Pull {study.number} at {condition_label(pull.condition)}, "
            f"{pull.months:g} months ({len(study.batches)} batches)",
            role=PULL_ROLE,
            due_at=datetime.combine(pull.due_on, time(0), tzinfo=UTC),
        )


def end_pulls(session: Session, study: Any, actor: Actor) -> None:
    """On completion: pulls never taken are no longer the lab's to do."""
    pending = session.scalars(
        select(StabilityPull).where(
            StabilityPull.study_id == study.id,
            StabilityPull.status == PullStatus.SCHEDULED.value,
        )
    )
    for pull in pending:
        tasks.close_tasks(
            session, pull, actor=actor, outcome=f"{study.number} completed", kind=PULL_TASK
        )


STUDY_WORKFLOW = Workflow(
    record_type="stability_study",
    states=tuple(s.value for s in StudyStatus),
    initial=StudyStatus.DRAFT.value,
    retired_states=frozenset({StudyStatus.COMPLETED.value}),
    transitions=(
        Transition(
            "approve",
            "Approve the protocol",
            states("draft"),
            "approved",
            roles("qa"),
            signature="Approved",
            forbid_author=True,
            effects=(schedule_pulls,),
        ),
        Transition(
            "complete",
            "Complete the study",
            states("approved"),
            "completed",
            roles(*AUTHORS),
            reason_required=True,
            effects=(end_pulls,),
        ),
    ),
)

register(
    RecordType(
        name="stability_study",
        label="Stability study",
        plural="Stability studies",
        model=StabilityStudy,
        workflow=STUDY_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("title", "Title"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("title", "Title"),
            ("start_on", "Start"),
            ("status", "Status"),
        ),
        module="rnd",
        detail_url=lambda r: f"/rnd/stability/{r.id}",
    )
)
