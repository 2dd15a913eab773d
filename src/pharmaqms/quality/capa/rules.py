"""The rules of a CAPA as pure functions: the guards of its workflow and the register's flags."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pharmaqms.quality.capa.models import OPEN_STATUSES, ActionStatus, CheckStatus

DUE_SOON = timedelta(days=7)


def live_actions(capa: Any) -> list[Any]:
    return [a for a in capa.actions if a.status != ActionStatus.CANCELLED]


def plan_complete(capa: Any) -> list[str]:
    reasons = []
    if not live_actions(capa):
        reasons.append("the CAPA has no corrective or preventive action")
    if capa.effectiveness_required is None:
        reasons.append(
            "decide whether an effectiveness check is required (or justify why it is not)"
        )
    elif capa.effectiveness_required and capa.pending_check is None:
        reasons.append("the effectiveness check has no criteria and due date yet")
    elif not capa.effectiveness_required and not (capa.effectiveness_justification or "").strip():
        reasons.append("'no effectiveness check' needs a justification")
    return reasons


def actions_done(capa: Any) -> list[str]:
    live = live_actions(capa)
    if not live:
        return ["the CAPA has no action"]
    return [
        f"the {a.kind} action #{a.id} ({a.description[:60]}) is not done"
        for a in live
        if a.status != ActionStatus.DONE
    ]


def check_required(capa: Any) -> list[str]:
    if not capa.effectiveness_required:
        return ["no effectiveness check is required for this CAPA: close it directly"]
    if capa.pending_check is None:
        return ["no effectiveness check is planned"]
    return []


def effectiveness_shown(capa: Any) -> list[str]:
    """Closure needs a passed effectiveness check, or a justification that none is needed."""
    if capa.effectiveness_required is None:
        return ["it is not decided whether an effectiveness check is required"]
    if not capa.effectiveness_required:
        if (capa.effectiveness_justification or "").strip():
            return []
        return ["'no effectiveness check' needs a justification"]
    last = capa.last_result
    if last is None:
        return ["the effectiveness check has not passed yet: no result is recorded"]
    if last.status != CheckStatus.PASSED or capa.pending_check is not None:
        return ["the effectiveness check has not passed yet: the last check failed"]
    return []


def due_for_closure(capa: Any) -> datetime:
    """When the CAPA is due to close. Its own due date covers the actions; an effectiveness
    check judged months later (evidence of no recurrence takes 3-6 months to gather) moves
    the closure to the check's due date rather than making the CAPA overdue meanwhile."""
    pending = capa.pending_check
    if pending is not None and pending.due_at > capa.due_at:
        return pending.due_at  # type: ignore[no-any-return]
    return capa.due_at  # type: ignore[no-any-return]


def is_overdue(capa: Any, now: datetime) -> bool:
    return capa.status in OPEN_STATUSES and due_for_closure(capa) < now


def is_due_soon(capa: Any, now: datetime) -> bool:
    return capa.status in OPEN_STATUSES and now <= due_for_closure(capa) < now + DUE_SOON
