"""The life of a complaint:

received → investigation → response → closed
(QA triages a received complaint to start the investigation; response → investigation when QA
sends it back; received → cancelled for a duplicate or a message that is no complaint)

Triage decides between quality complaint and adverse event: an adverse event is handed over to
pharmacovigilance, and the complaint does not close before a PV officer acknowledged it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.complaints.models import (
    ADVERSE_EVENT_CATEGORIES,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Criticality,
    HandoverStatus,
)

INVESTIGATORS = ("qa", "qc_analyst", "production_supervisor", "logistics")

grant(
    "complaints.register",
    "qa",
    "qc_analyst",
    "pv_officer",
    "logistics",
    "qualified_person",
    "integration",
)
grant("complaints.investigate", *INVESTIGATORS)
grant("complaints.manage", "qa")
grant("complaints.pv_handover", "pv_officer")

# Serious adverse reactions are reported to the authorities within 15 days of awareness
# (GVP Module VI), so pharmacovigilance gets the handover within a day.
PV_HANDOVER_TIME = timedelta(days=1)


@dataclass(frozen=True)
class AdverseEventHandover:
    """What pharmacovigilance is told about an adverse event found in a complaint."""

    complaint_id: int
    complaint_number: str
    product: str
    lot: str
    received_at: datetime
    description: str


# The pharmacovigilance module connects here to open its case from the handover.
AdverseEventHook = Callable[[Session, AdverseEventHandover, Actor], None]
_adverse_event_hooks: list[AdverseEventHook] = []


def on_adverse_event(hook: AdverseEventHook) -> None:
    if hook not in _adverse_event_hooks:
        _adverse_event_hooks.append(hook)


def remove_adverse_event_hook(hook: AdverseEventHook) -> None:
    if hook in _adverse_event_hooks:
        _adverse_event_hooks.remove(hook)


def triaged(complaint: Any) -> list[str]:
    reasons = []
    if complaint.category not in {c.value for c in ComplaintCategory}:
        reasons.append("the complaint is not triaged as quality complaint or adverse event")
    if complaint.criticality not in {c.value for c in Criticality}:
        reasons.append("the criticality (minor, major, critical) is not set")
    if not (complaint.triage_rationale or "").strip():
        reasons.append("the triage has no rationale")
    return reasons


def investigated(complaint: Any) -> list[str]:
    reasons = []
    if not (complaint.investigation_summary or "").strip():
        reasons.append("the investigation summary is missing")
    if complaint.complaint_confirmed is None:
        reasons.append("it is not stated whether the complaint was confirmed")
    elif complaint.complaint_confirmed and not (complaint.root_cause or "").strip():
        reasons.append("a confirmed complaint needs its root cause")
    return reasons


def responded(complaint: Any) -> list[str]:
    if not (complaint.response_text or "").strip() or complaint.responded_at is None:
        return ["the response to the complainant is not recorded"]
    return []


def handover_acknowledged(complaint: Any) -> list[str]:
    if complaint.pv_handover_status == HandoverStatus.PENDING:
        return ["pharmacovigilance has not acknowledged the adverse event handover yet"]
    return []


def _hand_over_adverse_event(session: Session, complaint: Any, actor: Actor) -> None:
    if complaint.category not in ADVERSE_EVENT_CATEGORIES:
        return
    with audit.changes(session, actor=actor, reason="adverse event handed to pharmacovigilance"):
        complaint.pv_handover_status = HandoverStatus.PENDING.value
        complaint.pv_handover_at = clock.now()
    audit.record_event(
        session,
        actor=actor,
        action="pv_handover",
        record=complaint,
        details={"product": complaint.product, "lot": complaint.lot},
        reason="triaged as an adverse event",
    )
    tasks.open_task(
        session,
        complaint,
        actor=actor,
        kind="pv_handover",
        title=f"Adverse event in {complaint.audit_label()} ({complaint.product}, "
        f"lot {complaint.lot}): open the PV case and acknowledge",
        role="pv_officer",
        due_at=clock.now() + PV_HANDOVER_TIME,
    )
    handover = AdverseEventHandover(
        complaint.id,
        complaint.number,
        complaint.product,
        complaint.lot,
        complaint.received_at,
        complaint.description,
    )
    for hook in list(_adverse_event_hooks):
        hook(session, handover, actor)


def _open_investigation(session: Session, complaint: Any, actor: Actor) -> None:
    if complaint.investigator_id is not None:
        tasks.open_task(
            session,
            complaint,
            actor=actor,
            kind="investigate",
            title=f"Investigate {complaint.audit_label()} ({complaint.product}, lot "
            f"{complaint.lot})",
            user_id=complaint.investigator_id,
            due_at=complaint.due_at,
        )


def _stamp_closure(session: Session, complaint: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="closed"):
        complaint.closed_at = clock.now()


COMPLAINT_WORKFLOW = Workflow(
    record_type="complaint",
    states=tuple(s.value for s in ComplaintStatus),
    initial=ComplaintStatus.RECEIVED,
    retired_states=frozenset({ComplaintStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "triage",
            "Triage and start investigation",
            states("received"),
            "investigation",
            roles("qa"),
            guards=(triaged,),
            effects=(_hand_over_adverse_event, _open_investigation),
        ),
        Transition(
            "complete_investigation",
            "Investigation done: respond",
            states("investigation"),
            "response",
            roles(*INVESTIGATORS),
            guards=(investigated,),
        ),
        Transition(
            "return_to_investigation",
            "Return to investigation",
            states("response"),
            "investigation",
            roles("qa"),
            reason_required=True,
            effects=(_open_investigation,),
        ),
        Transition(
            "close",
            "Close",
            states("response"),
            "closed",
            roles("qa"),
            signature="Closed",
            guards=(triaged, investigated, responded, handover_acknowledged),
            effects=(_stamp_closure,),
        ),
        Transition(
            "cancel",
            "Cancel (duplicate or not a complaint)",
            states("received"),
            "cancelled",
            roles("qa"),
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "response": TaskSpec("respond", "Respond to the complainant of {label}", "qa", 5),
    },
)

COMPLAINT = register(
    RecordType(
        name="complaint",
        label="Complaint",
        plural="Complaints",
        model=Complaint,
        workflow=COMPLAINT_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product", "Product"),
            ("lot", "Lot"),
            ("category", "Triage"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("product", "Product"),
            ("lot", "Lot"),
            ("received_at", "Received"),
            ("complainant_type", "Complainant"),
            ("description", "Description"),
            ("category", "Triage"),
            ("criticality", "Criticality"),
            ("pv_handover_status", "Pharmacovigilance handover"),
            ("investigation_summary", "Investigation"),
            ("response_text", "Response"),
        ),
        module="complaints",
        detail_url=lambda c: f"/complaints/{c.id}",
        searchable=("number", "product", "lot"),
    )
)
