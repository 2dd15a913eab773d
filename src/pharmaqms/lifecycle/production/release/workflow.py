"""The release decision: pending → released ("Released" signature) | rejected ("Rejected"
signature, with a reason). Only a qualified person decides (EU GMP Annex 11 §15, Annex 16), and
a release is only possible while every rule of the checklist passes (checked again at signing,
in the same transaction as the decision)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.release.models import BatchRelease, ReleaseStatus

grant("release.decide", "qualified_person")

QUALIFIED_PERSON = roles("qualified_person")


def every_rule_passed(release: Any) -> list[str]:
    if release.all_passed:
        return []
    failed = [r["title"] for r in release.evaluation if not r.get("passed")]
    return [f"rule failed: {title}" for title in failed] or ["the checklist did not pass"]


def _released(session: Session, release: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.release.service import on_decided

    on_decided(session, release, actor=actor)


BATCH_RELEASE_WORKFLOW = Workflow(
    record_type="batch_release",
    states=tuple(s.value for s in ReleaseStatus),
    initial=ReleaseStatus.PENDING.value,
    transitions=(
        Transition(
            "release",
            "Release the batch",
            states("pending"),
            "released",
            QUALIFIED_PERSON,
            signature="Released",
            guards=(every_rule_passed,),
            effects=(_released,),
        ),
        Transition(
            "reject",
            "Reject the batch",
            states("pending"),
            "rejected",
            QUALIFIED_PERSON,
            signature="Rejected",
            reason_required=True,
            effects=(_released,),
        ),
    ),
)


def _release_url(release: Any) -> str:
    return f"/production/release/{release.lot_id}"


BATCH_RELEASE = register(
    RecordType(
        name="batch_release",
        label="Batch release",
        plural="Batch releases",
        model=BatchRelease,
        workflow=BATCH_RELEASE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("decision", "Decision"),
            ("cycle_time_hours", "Cycle time (h)"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("decision", "Decision"),
            ("evaluated_at", "Evaluated"),
            ("decided_at", "Decided"),
            ("manufacturing_ended_at", "End of manufacture"),
            ("cycle_time_hours", "Release cycle time (hours)"),
        ),
        module="production",
        detail_url=_release_url,
        searchable=("number",),
    )
)
