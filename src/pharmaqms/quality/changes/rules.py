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


def implementers(change: Any) -> set[int]:
    """Who carries the change out: its owner and the owners of its implementation tasks (and
    whoever completed one). They neither approve it, review its effectiveness nor close it."""
    people = {change.owner_id}
    for action in change.actions:
        if action.status == ActionStatus.CANCELLED:
            continue
        people.add(action.owner_id)
        if action.completed_by_id is not None:
            people.add(action.completed_by_id)
    people.discard(None)
    return people


def implementer_role(change: Any, user_id: int) -> str | None:
    """How this person carries out the change, if they do: "owner" or "implementer"."""
    if user_id == change.owner_id:
        return "owner"
    if user_id in implementers(change):
        return "implementer"
    return None


def judged_independently(change: Any, user_id: int) -> list[str]:
    """The independent check: who carries a change out does not judge it."""
    role = implementer_role(change, user_id)
    if role is None:
        return []
    return [f"the {role} of {change.audit_label()} may not judge whether it worked"]


def not_a_task_implementer(change: Any, actor: Any) -> list[str]:
    """For closing: the owner is barred by the transition itself (``forbid_holders_of``)."""
    if actor.user_id == change.owner_id:
        return []
    return judged_independently(change, actor.user_id)


def effectiveness_confirmed(change: Any) -> list[str]:
    if change.effectiveness_confirmed is None:
        return ["the effectiveness review is not recorded"]
    if not change.effectiveness_confirmed:
        return ["the effectiveness review found the change not effective"]
    return []
