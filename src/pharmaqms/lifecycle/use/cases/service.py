"""Case services: the only code that writes cases. Intake from any channel (``record_case``),
follow-ups as new versions (``record_follow_up``), validation, assessment, medical review and
QA sign-off, and the reference safety information. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.use.cases import facts, meddra, rules
from pharmaqms.lifecycle.use.cases.intake import CaseReport, Screened, screen
from pharmaqms.lifecycle.use.cases.models import (
    OPEN_STATUSES,
    CaseStatus,
    Causality,
    Expectedness,
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
    PVCaseVersion,
    ReferenceSafetyInformation,
)
from pharmaqms.lifecycle.use.cases.workflow import PV_CASE_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.traceability.adverse_event_lots import match_lot
from pharmaqms.quality import events as quality_events

CASE_FIELDS = (
    "report_type",
    "patient_initials",
    "patient_age_years",
    "patient_sex",
    "patient_weight_kg",
    "reporter_type",
    "reporter_country",
    "narrative",
)


def get_case(session: Session, case_id: int) -> PVCase:
    case = session.get(PVCase, case_id)
    if case is None:
        raise NotFound(f"no PV case with id {case_id}")
    return case


def case_by_number(session: Session, number: str) -> PVCase:
    case = session.scalars(select(PVCase).where(PVCase.number == number)).first()
    if case is None:
        raise NotFound(f"no PV case {number}")
    return case


def case_for_reference(session: Session, source: str, reference: str) -> PVCase | None:
    if not reference:
        return None
    return session.scalars(
        select(PVCase).where(PVCase.source == source, PVCase.source_reference == reference)
    ).first()


def _snapshot(screened: Screened) -> dict[str, Any]:
    r = screened.report
    age = screened.age_years
    return {
        "report_type": r.report_type,
        "patient_initials": r.patient_initials,
        "patient_age_years": str(age) if age is not None else None,
        "patient_sex": r.patient_sex,
        "patient_weight_kg": str(screened.weight_kg) if screened.weight_kg is not None else None,
        "reporter_type": r.reporter_type,
        "reporter_country": r.reporter_country,
        "narrative": r.narrative,
        "products": [
            {
                "product": p.product,
                "lot_number": p.lot_number,
                "role": p.role,
                "authorisation_number": p.authorisation_number,
                "dose_value": p.dose_value,
                "dose_unit": p.dose_unit,
                "route": p.route,
            }
            for p in r.products
        ],
        "events": [
            {
                "verbatim": e.verbatim,
                "meddra_code": e.meddra_code,
                "onset": e.onset.isoformat() if e.onset else None,
                "seriousness": list(e.seriousness),
            }
            for e in r.events
        ],
        "findings": screened.findings,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)
    }


def _apply(session: Session, case: PVCase, screened: Screened) -> None:
    """The case's rows take the report's values: products and events of earlier versions are
    kept, no longer current."""
    r = screened.report
    case.report_type = r.report_type
    case.patient_initials = r.patient_initials
    case.patient_age_years = screened.age_years
    case.patient_sex = r.patient_sex
    case.patient_weight_kg = screened.weight_kg
    case.reporter_type = r.reporter_type
    case.reporter_country = r.reporter_country
    case.reporter_name = r.reporter_name
    case.reporter_contact = r.reporter_contact
    case.narrative = r.narrative
    case.findings = list(screened.findings)
    session.flush()
    for old in facts.products_of(session, case):
        old.current = False
    for old_event in facts.events_of(session, case):
        old_event.current = False
    for position, p in enumerate(r.products, start=1):
        lot = (
            match_lot(session, p.lot_number, p.product, p.authorisation_number or None)
            if p.lot_number
            else None
        )
        session.add(
            PVCaseProduct(
                case_id=case.id,
                position=position,
                role=p.role,
                product=p.product,
                lot_number=p.lot_number,
                lot_id=lot.id if lot else None,
                authorisation_number=p.authorisation_number,
                dose_value=Decimal(p.dose_value) if p.dose_value is not None else None,
                dose_unit=p.dose_unit,
                route=p.route,
                current=True,
            )
        )
    release = meddra.current_release(session)
    for position, e in enumerate(r.events, start=1):
        coded = meddra.code_term(session, e.meddra_code, e.verbatim)
        if release is not None and e.meddra_code and coded is None:
            # Kept as reported (another version's code, a typing error) but not grouped by
            # SOC: a person has to look at it.
            case.findings = [
                *case.findings,
                {
                    "field": f"events[{position}].meddra_code",
                    "value": e.meddra_code,
                    "message": f"not an LLT of MedDRA {release.version}: kept, not coded",
                },
            ]
        session.add(
            PVCaseEvent(
                case_id=case.id,
                position=position,
                verbatim=e.verbatim,
                meddra_code=coded.llt_code if coded else e.meddra_code,
                meddra_pt_code=coded.pt_code if coded else "",
                meddra_version=coded.version if coded else "",
                onset=e.onset,
                seriousness=list(e.seriousness),
                current=True,
            )
        )


def _version(
    session: Session,
    actor: Actor,
    case: PVCase,
    report: CaseReport,
    snapshot: dict[str, Any],
    changes: dict[str, Any],
) -> PVCaseVersion:
    version = PVCaseVersion(
        case_id=case.id,
        case_version=case.case_version,
        source=report.source,
        source_reference=(report.version_reference or report.source_reference)[:100],
        received_at=report.received_at,
        changes=changes,
        snapshot=snapshot,
        recorded_at=clock.now(),
        recorded_by_id=actor.user_id,
    )
    session.add(version)
    return version


def open_case(session: Session, *, actor: Actor, report: CaseReport) -> PVCase:
    """A new case from a report (the permission is checked by the calling verb)."""
    screened = screen(report, now=clock.now())
    r = screened.report
    first = r.received_at
    if r.first_received_at is not None and r.first_received_at < first:
        first = r.first_received_at
    case = PVCase(
        status=CaseStatus.RECEIVED.value,
        source=r.source,
        source_reference=r.source_reference,
        report_type=r.report_type,
        case_version=1,
        first_received_at=first,
        latest_received_at=r.received_at,
        findings=[],
        expectedness_basis="",
        causality_reasoning="",
        invalid_reason="",
    )
    with audit.changes(session, actor=actor, reason=f"case received ({r.source})"):
        session.add(case)
        session.flush()
        _apply(session, case, screened)
        snapshot = _snapshot(screened)
        _version(session, actor, case, r, snapshot, {"initial": True})
    tasks.open_task(
        session,
        case,
        actor=actor,
        kind="triage",
        title=f"Triage {case.audit_label()}: check the four minimum criteria",
        role="pv_officer",
        due_in=timedelta(days=1),
    )
    return case


def record_case(session: Session, *, actor: Actor, report: CaseReport) -> PVCase:
    actor.require("pv.intake", "take in adverse event reports")
    return open_case(session, actor=actor, report=report)


def record_public_report(session: Session, *, report: CaseReport) -> PVCase:
    """A report from the public form: no login, so the system account takes it in (named in
    the trail as such); PV triages it like any other received case."""
    actor = auth.system_actor(session, Channel.UI)
    return open_case(session, actor=actor, report=report)


def record_follow_up(
    session: Session, *, actor: Actor, case_id: int, report: CaseReport, reason: str = ""
) -> PVCase:
    """Follow-up information: the report is the case as now known (E2B follow-ups are whole
    reports). A new version stores what changed; a reviewed case goes back to assessment."""
    actor.require("pv.intake", "record follow-up information")
    case = get_case(session, case_id)
    return _follow_up(session, actor=actor, case=case, report=report, reason=reason)


def _follow_up(
    session: Session, *, actor: Actor, case: PVCase, report: CaseReport, reason: str = ""
) -> PVCase:
    if case.status == CaseStatus.INVALID:
        raise Conflict(f"{case.number} was found not valid: take the report in as a new case")
    if case.status == CaseStatus.DUPLICATE:
        raise Conflict(f"{case.number} was merged as a duplicate: follow up the case it joined")
    screened = screen(report, now=clock.now())
    previous = session.scalars(
        select(PVCaseVersion)
        .where(PVCaseVersion.case_id == case.id)
        .order_by(PVCaseVersion.case_version.desc())
    ).first()
    snapshot = _snapshot(screened)
    changes = _diff(previous.snapshot if previous else {}, snapshot)
    why = (reason or "").strip() or f"follow-up received ({report.source})"
    with audit.changes(session, actor=actor, reason=why, action="follow_up"):
        case.case_version += 1
        case.latest_received_at = max(case.latest_received_at, screened.report.received_at)
        _apply(session, case, screened)
        _version(session, actor, case, screened.report, snapshot, changes)
    if case.status in (CaseStatus.REVIEWED, CaseStatus.CLOSED):
        perform(session, PV_CASE_WORKFLOW, case, "reassess", actor=actor, reason=why)
    elif case.status == CaseStatus.VALID:
        refresh_clock_tasks(session, case, actor)  # the new information may change them
    return case


# --- processing ------------------------------------------------------------------------------


def first_valid_receipt(session: Session, case: PVCase) -> datetime:
    """Day 0: the receipt of the first version that met the four minimum criteria."""
    versions = session.scalars(
        select(PVCaseVersion)
        .where(PVCaseVersion.case_id == case.id)
        .order_by(PVCaseVersion.case_version)
    )
    for version in versions:
        if rules.is_valid(facts.of_snapshot(version.snapshot)):
            return version.received_at
    return case.latest_received_at


def clocks_of(session: Session, case: PVCase) -> list[rules.Clock]:
    if case.day_zero is None or case.status == CaseStatus.INVALID:
        return []
    return rules.clocks(facts.of_case(session, case), case.day_zero)


def _end_of(day: Any) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


def refresh_clock_tasks(session: Session, case: PVCase, actor: Actor) -> None:
    """One inbox task per reporting clock; a follow-up that changes the clocks replaces them."""
    tasks.close_tasks(session, case, actor=actor, outcome="clocks recomputed", kind="report")
    for c in clocks_of(session, case):
        tasks.open_task(
            session,
            case,
            actor=actor,
            kind="report",
            title=f"{case.number}: {c.title} ({c.region}) due {c.due_on.isoformat()}",
            role="pv_officer",
            due_at=_end_of(c.due_on),
        )


def validate_case(
    session: Session, *, actor: Actor, case_id: int, expected_version: int | None = None
) -> PVCase:
    actor.require("pv.process", "validate cases")
    case = get_case(session, case_id)
    perform(
        session, PV_CASE_WORKFLOW, case, "validate", actor=actor, expected_version=expected_version
    )
    return case


def became_valid(session: Session, case: PVCase, actor: Actor) -> None:
    """The moment a case is valid: day 0, the clocks in the inbox, the complaint told, and QA
    alerted when it is serious and cites a released lot."""
    with audit.changes(session, actor=actor, reason="valid case: day 0 set"):
        case.day_zero = first_valid_receipt(session, case).date()
    refresh_clock_tasks(session, case, actor)
    for complaint_id in _complaints_of(session, case):
        if actor.can("complaints.pv_handover"):
            quality_events.acknowledge_adverse_event(
                session, actor=actor, complaint_id=complaint_id, case=case
            )
    _alert_qa_on_released_lot(session, case, actor)


def _complaints_of(session: Session, case: PVCase) -> list[int]:
    found = quality_events.links_of(session, "pv_case", case.id)
    return [
        link.record_id
        for link in found.raised_from
        if link.record_type == "complaint" and link.record_id is not None
    ]


def _alert_qa_on_released_lot(session: Session, case: PVCase, actor: Actor) -> None:
    found = facts.of_case(session, case)
    if not found.serious:
        return
    if _complaints_of(session, case):
        return  # QA holds the complaint the case came from, on the same lot already
    cited = session.execute(
        select(PVCaseProduct, Lot)
        .join(Lot, Lot.id == PVCaseProduct.lot_id)
        .where(
            PVCaseProduct.case_id == case.id,
            PVCaseProduct.current.is_(True),
            PVCaseProduct.role.in_(("suspect", "interacting")),
            Lot.status == LotStatus.RELEASED.value,
        )
        .order_by(PVCaseProduct.position)
    ).all()
    criteria = ", ".join(rules.CRITERION_LABELS[c] for c in found.criteria)
    for product, lot in cited:
        quality_events.register_complaint(
            session,
            actor=actor,
            source_type="pv_case",
            source_id=case.id,
            source_label=case.number,
            product=product.product,
            lot=lot.lot_number,
            complainant_name=f"Pharmacovigilance ({case.number})",
            complainant_type="other",
            received_at=case.first_received_at,
            description=(
                f"Serious adverse event case {case.number} cites released lot "
                f"{lot.lot_number}: {criteria}. Events: "
                + "; ".join(e.verbatim for e in found.events)
                + ". Investigate the lot's quality (batch record, deviations, complaints)."
            )[:20_000],
            reason=f"serious case {case.number} cites released lot {lot.lot_number}",
        )


def invalidate_case(session: Session, *, actor: Actor, case_id: int, reason: str) -> PVCase:
    actor.require("pv.process", "decide that a case is not valid")
    case = get_case(session, case_id)
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("say why the case is not valid", field="reason")
    with audit.changes(session, actor=actor, reason=text):
        case.invalid_reason = text[:4000]
    perform(session, PV_CASE_WORKFLOW, case, "invalidate", actor=actor, reason=text)
    return case


def record_assessment(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    causality: str,
    reasoning: str,
    expected_version: int | None = None,
) -> PVCase:
    """The reviewer's causality (WHO-UMC) with reasoning; expectedness is judged by rule
    against the reference safety information and stored with its basis."""
    actor.require("pv.review", "assess cases")
    case = get_case(session, case_id)
    if expected_version is not None and case.version != expected_version:
        raise Conflict(f"{case.number} changed meanwhile (version {case.version}): reload it")
    if case.status != CaseStatus.VALID:
        raise Conflict(f"{case.number} is {case.status.replace('_', ' ')}: assess a valid case")
    options = [c.value for c in Causality]
    if causality not in options:
        raise InvalidInput(
            f"the causality is a WHO-UMC category: {', '.join(options)}", field="causality"
        )
    text = (reasoning or "").strip()
    if not text:
        raise InvalidInput("the reasoning behind the causality is required", field="reasoning")
    if len(text) > 20_000:
        raise InvalidInput("the reasoning is longer than 20000 characters", field="reasoning")
    judged = rules.expectedness(facts.of_case(session, case))
    basis = "; ".join(f"{p} / {e}: {why}" for p, e, _ok, why in judged.per_event)
    with audit.changes(session, actor=actor, reason="assessment recorded", action="assess"):
        case.causality = causality
        case.causality_reasoning = text
        case.expectedness = (
            Expectedness.EXPECTED.value if judged.expected else Expectedness.UNEXPECTED.value
        )
        case.expectedness_basis = basis[:20_000]
    refresh_clock_tasks(session, case, actor)
    return case


def medical_review(
    session: Session, *, actor: Actor, case_id: int, password: str, comment: str = ""
) -> PVCase:
    case = get_case(session, case_id)
    perform(
        session,
        PV_CASE_WORKFLOW,
        case,
        "medical_review",
        actor=actor,
        password=password,
        comment=comment,
    )
    return case


def qa_sign_off(
    session: Session, *, actor: Actor, case_id: int, password: str, comment: str = ""
) -> PVCase:
    case = get_case(session, case_id)
    perform(
        session,
        PV_CASE_WORKFLOW,
        case,
        "sign_off",
        actor=actor,
        password=password,
        comment=comment,
    )
    tasks.close_tasks(session, case, actor=actor, outcome="case signed off", kind="report")
    return case


def set_reference_safety_information(
    session: Session,
    *,
    actor: Actor,
    product: str,
    document_reference: str,
    expected_terms: list[str],
) -> ReferenceSafetyInformation:
    actor.require("pv.reference", "maintain reference safety information")
    name = (product or "").strip()
    doc = (document_reference or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name the product (at most 200 characters)", field="product")
    if not doc or len(doc) > 100:
        raise InvalidInput(
            "name the controlled document (e.g. SOP or SmPC number, at most 100 characters)",
            field="document_reference",
        )
    terms = [t.strip() for t in expected_terms if t.strip()]
    if not terms or any(len(t) > 500 for t in terms) or len(terms) > 2000:
        raise InvalidInput(
            "list the expected terms (1 to 2000, each at most 500 characters)",
            field="expected_terms",
        )
    existing = session.scalars(
        select(ReferenceSafetyInformation).where(ReferenceSafetyInformation.product == name)
    ).first()
    with audit.changes(session, actor=actor, reason=f"reference safety information: {doc}"):
        if existing is None:
            existing = ReferenceSafetyInformation(product=name)
            session.add(existing)
        existing.document_reference = doc
        existing.expected_terms = terms
        existing.updated_at = clock.now()
        existing.updated_by_id = actor.user_id
    return existing


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    case: PVCase
    serious: bool
    next_due: rules.Clock | None
    overdue: bool


def register_rows(
    session: Session, *, status: str | None = None, limit: int = 200, offset: int = 0
) -> tuple[list[RegisterRow], int]:
    query = select(PVCase)
    count = select(func.count()).select_from(PVCase)
    if status:
        query = query.where(PVCase.status == status)
        count = count.where(PVCase.status == status)
    total = session.scalar(count) or 0
    today = clock.now().date()
    rows = []
    for case in session.scalars(query.order_by(PVCase.id.desc()).limit(limit).offset(offset)):
        found = clocks_of(session, case)
        open_case_ = case.status in OPEN_STATUSES
        pending = sorted(found, key=lambda c: c.due_on) if open_case_ else []
        next_due = pending[0] if pending else None
        rows.append(
            RegisterRow(
                case,
                facts.of_case(session, case).serious,
                next_due,
                bool(next_due and next_due.overdue(today)),
            )
        )
    return rows, total


def age_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"
