"""The complaint → adverse event handover: when QA triages a complaint as an adverse event,
pharmacovigilance opens a case from it at once and the two are linked through the quality
events front door (both pages show the link). Registered at import (``pharmaqms.schema``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use.cases import service
from pharmaqms.lifecycle.use.cases.intake import CaseReport, EventReport, ProductReport
from pharmaqms.lifecycle.use.cases.models import CaseSource, PVCase
from pharmaqms.quality import events as quality_events
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.complaints.workflow import AdverseEventHandover, on_adverse_event

REPORTER_TYPES = {
    "patient": "patient",
    "healthcare_professional": "hcp",
    "pharmacist": "hcp",
}


def _plain(text: str) -> str:
    """The complaint's words without anything a page could take for markup (the case refuses
    markup; the complaint, already accepted, must not fail its triage over it)."""
    return text.replace("<", "‹").replace(">", "›").replace("javascript:", "javascript :")


def _case_raised_it(session: Session, complaint_id: int) -> PVCase | None:
    """A complaint QA registered from a serious case (``service._alert_qa_on_released_lot``)
    leads back to that case, never to a second one."""
    for link in quality_events.links_of(session, "complaint", complaint_id).raised_from:
        if link.record_type == "pv_case" and link.record_id is not None:
            return session.get(PVCase, link.record_id)
    return None


def open_case_for_complaint(session: Session, handover: AdverseEventHandover, actor: Actor) -> None:
    case = _case_raised_it(session, handover.complaint_id)
    if case is None:
        complaint = session.get(Complaint, handover.complaint_id)
        reporter = REPORTER_TYPES.get(complaint.complainant_type) if complaint else None
        lot = handover.lot if handover.lot.lower() != "unknown" else ""
        case = service.open_case(
            session,
            actor=actor,
            report=CaseReport(
                source=CaseSource.COMPLAINT.value,
                source_reference=handover.complaint_number,
                received_at=handover.received_at,
                reporter_type=reporter,
                narrative=_plain(handover.description)[:20_000],
                products=(ProductReport(handover.product[:200], lot),),
                events=(EventReport(" ".join(_plain(handover.description).split())[:500]),),
            ),
        )
    quality_events.hand_over_adverse_event(
        session, actor=actor, complaint_id=handover.complaint_id, case=case
    )


on_adverse_event(open_case_for_complaint)
