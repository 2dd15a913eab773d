"""The rules of change control as pure functions: the guards of its workflow."""

from __future__ import annotations

from typing import Any

from pharmaqms.quality.changes.models import (
    ActionStatus,
    ChangeFunction,
    Decision,
    ImpactArea,
    RegulatoryCategory,
)


def request_complete(change: Any) -> list[str]:
    reasons = []
    for field, what in (
        ("title", "a title"),
        ("description", "a description of the change"),
        ("justification", "the justification of the change"),
    ):
        if not (getattr(change, field) or "").strip():
            reasons.append(f"the change request has no {what}")
    return reasons


def impact_assessed(change: Any) -> list[str]:
    reasons = []
    assessed = {i.area for i in change.impacts if (i.assessment or "").strip()}
    missing = [a.value for a in ImpactArea if a.value not in assessed]
    if missing:
        reasons.append(f"the impact on {', '.join(missing)} is not assessed")
    if change.regulatory_category not in {c.value for c in RegulatoryCategory}:
        reasons.append("the regulatory reporting category is not recorded")
    elif not (change.regulatory_rationale or "").strip():
        reasons.append("the regulatory reporting category has no rationale")
    if ChangeFunction.QUALITY_ASSURANCE.value not in (change.functions or []):
        reasons.append("quality assurance must be among the approving functions")
    return reasons


def approval_status(change: Any) -> tuple[list[str], list[str]]:
    """The functions that have approved the change as it reads now, and those still to."""
    current = change.content_hash()
    approved = sorted(
        a.function
        for a in change.current_approvals()
        if a.decision == Decision.APPROVED and a.content_hash == current
    )
    waiting = [f for f in change.functions if f not in approved]
    return approved, waiting


def all_functions_approved(change: Any) -> list[str]:
    _approved, waiting = approval_status(change)
    if waiting:
        return [f"waiting for the approval of {', '.join(w.replace('_', ' ') for w in waiting)}"]
    return []


def implementation_done(change: Any) -> list[str]:
    live = [a for a in change.actions if a.status != ActionStatus.CANCELLED]
    if not live:
        return ["the change has no implementation task"]
    return [
        f"the task #{a.id} ({a.description[:60]}) is not done"
        for a in live
        if a.status != ActionStatus.DONE
    ]


def effectiveness_confirmed(change: Any) -> list[str]:
    if change.effectiveness_confirmed is None:
        return ["the effectiveness review is not recorded"]
    if not change.effectiveness_confirmed:
        return ["the effectiveness review found the change not effective"]
    return []
