"""Complaint services: intake, triage, pharmacovigilance handover, investigation, response.
The only code that writes complaints; the register and trends are read at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality import common, links
from pharmaqms.quality.complaints.models import (
    OPEN_STATUSES,
    ComplainantType,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Criticality,
    HandoverStatus,
)
from pharmaqms.quality.complaints.workflow import COMPLAINT_WORKFLOW, INVESTIGATORS
from pharmaqms.quality.config import COMPLAINT_DUE_DAYS
from pharmaqms.quality.deviations.impact import BATCH_ID
from pharmaqms.quality.trends import Month, month_of, months_back


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    return common.get_or_404(session, Complaint, complaint_id, "complaint")


def register_complaint(
    session: Session,
    *,
    actor: Actor,
    product: str,
    lot: str,
    complainant_name: str,
    complainant_type: str,
    received_at: datetime,
    description: str,
    complainant_contact: str = "",
) -> Complaint:
    actor.require("complaints.register", "register complaints")
    lot = (lot or "").strip()
    if not BATCH_ID.match(lot):
        raise InvalidInput(
            "the lot number is required (letters, digits, . _ / -; at most 60 characters; "
            "write 'unknown' if the complainant could not give it)",
            field="lot",
        )
    common.not_in_future(received_at, "received_at", "the time the complaint was received")
    due_rule = config_store.in_force(session, COMPLAINT_DUE_DAYS)
    complaint = Complaint(
        status=ComplaintStatus.RECEIVED.value,
        product=common.required_text(product, "product", "the product", max_length=200),
        lot=lot,
        complainant_name=common.required_text(
            complainant_name, "complainant_name", "the complainant's name", max_length=200
        ),
        complainant_type=common.choice(
            complainant_type,
            "complainant_type",
            [t.value for t in ComplainantType],
            "the kind of complainant",
        ),
        complainant_contact=common.optional_text(
            complainant_contact, "complainant_contact", max_length=1000
        ),
        received_at=received_at,
        description=common.required_text(
            description, "description", "what the complainant reports", max_length=20_000
        ),
        due_at=received_at + timedelta(days=due_rule.content),
        triage_rationale="",
        pv_reference="",
        investigation_summary="",
        root_cause="",
        response_text="",
    )
    with audit.changes(session, actor=actor, reason="complaint received"):
        session.add(complaint)
    config_store.record_use(session, complaint, due_rule, "due date", actor=actor)
    tasks.open_task(
        session,
        complaint,
        actor=actor,
        kind="triage",
        title=f"Triage {complaint.audit_label()}: {complaint.product}, lot {complaint.lot}",
        role="qa",
        due_in=timedelta(days=1),
    )
    return complaint


def triage_complaint(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    category: str,
    criticality: str,
    rationale: str,
    investigator_id: int,
    expected_version: int | None = None,
) -> Complaint:
    """QA decides what the complaint is: a quality complaint, an adverse event (handed over to
    pharmacovigilance), or both; how critical; and who investigates."""
    actor.require("complaints.manage", "triage complaints")
    complaint = get_complaint(session, complaint_id)
    common.check_version(complaint, expected_version)
    common.require_status(complaint, (ComplaintStatus.RECEIVED,), "triage")
    investigator = common.active_user(
        session, investigator_id, "investigator_id", "the investigator"
    )
    if not set(investigator.roles) & set(INVESTIGATORS):
        raise InvalidInput(
            f"{investigator.full_name} holds none of the investigator roles "
            f"({', '.join(INVESTIGATORS)})",
            field="investigator_id",
        )
    with audit.changes(session, actor=actor, reason="triage"):
        complaint.category = common.choice(
            category, "category", [c.value for c in ComplaintCategory], "the triage category"
        )
        complaint.criticality = common.choice(
            criticality, "criticality", [c.value for c in Criticality], "the criticality"
        )
        complaint.triage_rationale = common.required_text(
            rationale, "rationale", "the rationale of the triage"
        )
        complaint.investigator_id = investigator.id
    perform(session, COMPLAINT_WORKFLOW, complaint, "triage", actor=actor)
    return complaint


def _link_case(session: Session, actor: Actor, complaint: Complaint, reference: str) -> None:
    """With the pharmacovigilance module installed, the reference is a real case: it must
    exist, and the complaint is linked to it (both pages show the link)."""
    registered = RECORD_TYPES.get("pv_case")
    if registered is None:
        return
    case = session.scalars(
        select(registered.model).where(registered.model.number == reference)
    ).first()
    if case is None:
        raise InvalidInput(
            f"no pharmacovigilance case {reference}: name the case opened for this complaint",
            field="pv_reference",
        )
    source = links.resolve_source(session, links.Source("complaint", complaint.id, ""))
    if case.id in links.targets_of(session, "complaint", complaint.id, "pv_case"):
        return
    links.record_link(
        session,
        actor=actor,
        source=source,
        target=case,
        reason=f"adverse event handed to pharmacovigilance as {case.audit_label()}",
    )


def acknowledge_handover(
    session: Session, *, actor: Actor, complaint_id: int, pv_reference: str
) -> Complaint:
    """A PV officer confirms the adverse event is taken into a pharmacovigilance case."""
    actor.require("complaints.pv_handover", "acknowledge adverse event handovers")
    complaint = get_complaint(session, complaint_id)
    if complaint.pv_handover_status != HandoverStatus.PENDING:
        raise Conflict(f"{complaint.number} has no adverse event handover waiting")
    reference = common.required_text(
        pv_reference, "pv_reference", "the pharmacovigilance case reference", max_length=100
    )
    _link_case(session, actor, complaint, reference)
    with audit.changes(session, actor=actor, reason=f"PV case {reference}", action="acknowledge"):
        complaint.pv_handover_status = HandoverStatus.ACKNOWLEDGED.value
        complaint.pv_reference = reference
        complaint.pv_acknowledged_by_id = actor.user_id
        complaint.pv_acknowledged_at = clock.now()
    tasks.close_tasks(
        session, complaint, actor=actor, outcome=f"PV case {reference}", kind="pv_handover"
    )
    return complaint


def note_pv_case(session: Session, *, actor: Actor, complaint: Complaint, case_label: str) -> None:
    """The pharmacovigilance case opened for the adverse event (its number, as the reference);
    called through ``quality.events.hand_over_adverse_event``, which links the two."""
    with audit.changes(session, actor=actor, reason=f"PV case {case_label} opened"):
        complaint.pv_reference = case_label[:100]


def record_investigation(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    summary: str,
    confirmed: bool,
    root_cause: str = "",
) -> Complaint:
    actor.require("complaints.investigate", "investigate complaints")
    complaint = get_complaint(session, complaint_id)
    common.require_status(complaint, (ComplaintStatus.INVESTIGATION,), "the investigation")
    if complaint.investigator_id != actor.user_id and not actor.can("complaints.manage"):
        raise PermissionDenied(
            f"only the investigator of {complaint.number} or QA may write its investigation"
        )
    text = common.required_text(
        summary,
        "summary",
        "the investigation summary (retained samples, batch record, …)",
        max_length=20_000,
    )
    cause = common.optional_text(root_cause, "root_cause", max_length=20_000)
    if confirmed and not cause:
        raise InvalidInput("a confirmed complaint needs its root cause", field="root_cause")
    with audit.changes(session, actor=actor, reason="investigation recorded"):
        complaint.investigation_summary = text
        complaint.complaint_confirmed = confirmed
        complaint.root_cause = cause
    return complaint


def record_response(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    response_text: str,
    responded_at: datetime,
) -> Complaint:
    actor.require("complaints.manage", "respond to complainants")
    complaint = get_complaint(session, complaint_id)
    common.require_status(complaint, (ComplaintStatus.RESPONSE,), "the response")
    common.not_in_future(responded_at, "responded_at", "the time of the response")
    if responded_at < complaint.received_at:
        raise InvalidInput("the response can't precede the complaint", field="responded_at")
    with audit.changes(session, actor=actor, reason="response to the complainant"):
        complaint.response_text = common.required_text(
            response_text, "response_text", "the response sent", max_length=20_000
        )
        complaint.responded_at = responded_at
    return complaint


def transition(
    session: Session,
    *,
    actor: Actor,
    complaint_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    complaint = get_complaint(session, complaint_id)
    return perform(
        session,
        COMPLAINT_WORKFLOW,
        complaint,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintFilter:
    status: str | None = None
    category: str | None = None
    product: str | None = None
    lot: str | None = None
    overdue: bool = False
    open_only: bool = False


def _apply(query: Select[Complaint], f: ComplaintFilter) -> Select[Complaint]:
    if f.status:
        query = query.where(Complaint.status == f.status)
    if f.category:
        query = query.where(Complaint.category == f.category)
    if f.product:
        query = query.where(Complaint.product == f.product)
    if f.lot:
        query = query.where(Complaint.lot == f.lot)
    if f.open_only or f.overdue:
        query = query.where(Complaint.status.in_([s.value for s in OPEN_STATUSES]))
    if f.overdue:
        query = query.where(Complaint.due_at < clock.now())
    return query


def find_complaints(
    session: Session, f: ComplaintFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[Complaint], int]:
    base = _apply(select(Complaint), f)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.scalars(
        base.order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


@dataclass(frozen=True)
class TrendRow:
    product: str
    lot: str | None
    total: int
    adverse_events: int
    confirmed: int
    per_month: list[int]


@dataclass(frozen=True)
class ComplaintTrend:
    months: list[Month]
    rows: list[TrendRow]


def trend(
    session: Session, *, by_lot: bool = False, months: int = 12, now: datetime | None = None
) -> ComplaintTrend:
    """Complaints per product (or per product and lot) over the last months: a lot with
    several complaints is the signal that a batch is defective."""
    window = months_back(now or clock.now(), months)
    rows = session.execute(
        select(
            Complaint.product,
            Complaint.lot,
            Complaint.received_at,
            Complaint.category,
            Complaint.complaint_confirmed,
        ).where(
            Complaint.received_at >= window[0].start,
            Complaint.status != ComplaintStatus.CANCELLED,
        )
    ).all()
    totals: Counter[tuple[str, str | None]] = Counter()
    adverse: Counter[tuple[str, str | None]] = Counter()
    confirmed: Counter[tuple[str, str | None]] = Counter()
    monthly: Counter[tuple[str, str | None, Month]] = Counter()
    for product, lot, received_at, category, is_confirmed in rows:
        key = (product, lot if by_lot else None)
        totals[key] += 1
        if category in (
            ComplaintCategory.ADVERSE_EVENT,
            ComplaintCategory.QUALITY_AND_ADVERSE_EVENT,
        ):
            adverse[key] += 1
        if is_confirmed:
            confirmed[key] += 1
        monthly[(*key, month_of(received_at))] += 1
    ordered = sorted(totals, key=lambda k: (-totals[k], k[0], k[1] or ""))
    return ComplaintTrend(
        months=window,
        rows=[
            TrendRow(
                product=product,
                lot=lot,
                total=totals[(product, lot)],
                adverse_events=adverse[(product, lot)],
                confirmed=confirmed[(product, lot)],
                per_month=[monthly[(product, lot, m)] for m in window],
            )
            for product, lot in ordered
        ],
    )


def complaints_of_product(
    session: Session,
    *,
    names: list[str],
    lot_numbers: list[str],
    start: datetime,
    end: datetime,
) -> list[Complaint]:
    """Complaints received in [start, end) about the product (its code or name, any case) or
    one of its lots: the complaints an annual product review counts."""
    return list(
        session.scalars(
            select(Complaint)
            .where(
                func.lower(Complaint.product).in_([n.lower() for n in names])
                | Complaint.lot.in_(lot_numbers),
                Complaint.received_at >= start,
                Complaint.received_at < end,
            )
            .order_by(Complaint.received_at, Complaint.id)
        )
    )
