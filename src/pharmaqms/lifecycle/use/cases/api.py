"""Pharmacovigilance case API (``/api/v1/pv/…``): thin. The register with its due and overdue
flags, staff intake and follow-ups, the processing steps, the reference safety information and
the table of reporting-clock rules."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.schemas import Page
from pharmaqms.kernel.settings import get_settings
from pharmaqms.lifecycle.use.cases import doses, facts, merging, rules, service
from pharmaqms.lifecycle.use.cases import export as case_export
from pharmaqms.lifecycle.use.cases.models import PVCase, PVCaseVersion, ReferenceSafetyInformation
from pharmaqms.lifecycle.use.cases.schemas import (
    AssessmentIn,
    CaseIn,
    CaseOut,
    CaseSummary,
    ClockOut,
    DuplicateOut,
    EventOut,
    FollowUpIn,
    InvalidateIn,
    MergeIn,
    ProductOut,
    ReferenceIn,
    ReferenceOut,
    RuleOut,
    ScorePartOut,
    SignIn,
    VersionedIn,
    VersionOut,
)
from pharmaqms.quality.schemas import links_out, signatures_out

router = APIRouter(prefix="/api/v1/pv", tags=["pharmacovigilance"])


def case_out(session: Session, case: PVCase) -> CaseOut:
    session.flush()
    found = facts.of_case(session, case)
    today = clock.now().date()
    versions = session.scalars(
        select(PVCaseVersion)
        .where(PVCaseVersion.case_id == case.id)
        .order_by(PVCaseVersion.case_version)
    )
    return CaseOut(
        id=case.id,
        number=case.number,
        status=case.status,
        version=case.version,
        case_version=case.case_version,
        source=case.source,
        source_reference=case.source_reference,
        report_type=case.report_type,
        first_received_at=case.first_received_at,
        latest_received_at=case.latest_received_at,
        day_zero=case.day_zero,
        patient_initials=case.patient_initials,
        patient_age_years=service.age_text(case.patient_age_years) or None,
        patient_sex=case.patient_sex,
        patient_weight_kg=str(case.patient_weight_kg) if case.patient_weight_kg else None,
        reporter_type=case.reporter_type,
        reporter_country=case.reporter_country,
        narrative=case.narrative,
        findings=list(case.findings),
        serious=found.serious,
        seriousness=list(found.criteria),
        expectedness=case.expectedness,
        expectedness_basis=case.expectedness_basis,
        causality=case.causality,
        causality_reasoning=case.causality_reasoning,
        products=[
            ProductOut(
                product=p.product,
                role=p.role,
                lot_number=p.lot_number,
                lot_id=p.lot_id,
                authorisation_number=p.authorisation_number,
                dose_value=doses.decimal_text(p.dose_value),
                dose_unit=p.dose_unit,
                route=p.route,
            )
            for p in facts.products_of(session, case)
        ],
        events=[
            EventOut(
                verbatim=e.verbatim,
                meddra_code=e.meddra_code,
                onset=e.onset,
                seriousness=list(e.seriousness),
            )
            for e in facts.events_of(session, case)
        ],
        validity=[RuleOut(**r.as_dict()) for r in rules.validity(found)],
        clocks=[ClockOut(**c.as_dict(today)) for c in service.clocks_of(session, case)],
        versions=[
            VersionOut(
                case_version=v.case_version,
                source=v.source,
                source_reference=v.source_reference,
                received_at=v.received_at,
                changes=v.changes,
                recorded_at=v.recorded_at,
            )
            for v in versions
        ],
        signatures=signatures_out(session, case),
        links=links_out(session, case),
    )


@router.get("/cases", response_model=Page[CaseSummary])
def list_cases(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> Page[CaseSummary]:
    actor.require("records.read", "read cases")
    with transaction(request) as session:
        rows, total = service.register_rows(session, status=status, limit=limit, offset=offset)
        items = [
            CaseSummary(
                id=r.case.id,
                number=r.case.number,
                status=r.case.status,
                source=r.case.source,
                source_reference=r.case.source_reference,
                first_received_at=r.case.first_received_at,
                day_zero=r.case.day_zero,
                serious=r.serious,
                next_due=r.next_due.due_on if r.next_due else None,
                next_due_region=r.next_due.region if r.next_due else None,
                overdue=r.overdue,
            )
            for r in rows
        ]
    return Page[CaseSummary](items=items, total=total, limit=limit, offset=offset)


@router.post("/cases", response_model=CaseOut, status_code=201)
def take_in(body: CaseIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.record_case(session, actor=actor, report=body.report())
        return case_out(session, case)


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: RecordId, actor: ActorDep, request: Request) -> CaseOut:
    actor.require("records.read", "read cases")
    with transaction(request) as session:
        return case_out(session, service.get_case(session, case_id))


@router.post("/cases/{case_id}/follow-ups", response_model=CaseOut)
def follow_up(case_id: RecordId, body: FollowUpIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.record_follow_up(
            session, actor=actor, case_id=case_id, report=body.report(), reason=body.reason
        )
        return case_out(session, case)


@router.post("/cases/{case_id}/validate", response_model=CaseOut)
def validate(case_id: RecordId, body: VersionedIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.validate_case(
            session, actor=actor, case_id=case_id, expected_version=body.expected_version
        )
        return case_out(session, case)


@router.post("/cases/{case_id}/invalidate", response_model=CaseOut)
def invalidate(case_id: RecordId, body: InvalidateIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.invalidate_case(session, actor=actor, case_id=case_id, reason=body.reason)
        return case_out(session, case)


@router.post("/cases/{case_id}/assessment", response_model=CaseOut)
def assess(case_id: RecordId, body: AssessmentIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.record_assessment(
            session,
            actor=actor,
            case_id=case_id,
            causality=body.causality,
            reasoning=body.reasoning,
            expected_version=body.expected_version,
        )
        return case_out(session, case)


@router.post("/cases/{case_id}/medical-review", response_model=CaseOut)
def review(case_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.medical_review(
            session, actor=actor, case_id=case_id, password=body.password, comment=body.comment
        )
        return case_out(session, case)


@router.post("/cases/{case_id}/sign-off", response_model=CaseOut)
def sign_off(case_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = service.qa_sign_off(
            session, actor=actor, case_id=case_id, password=body.password, comment=body.comment
        )
        return case_out(session, case)


@router.get(
    "/cases/{case_id}/e2b.xml",
    response_class=Response,
    responses=file_responses("application/xml"),
)
def case_e2b(case_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """The case (its latest version) as an ICH E2B(R3) ICSR batch; the export is audited. A
    case that is not valid yet is refused (422) with the reasons."""
    with transaction(request) as session:
        case = service.get_case(session, case_id)
        result = case_export.export_case(
            session, actor=actor, reference=case.number, xsd_dir=get_settings().e2b_xsd_dir
        )
    return download(
        result.xml,
        filename=f"{result.number}-v{result.case_version}-e2b.xml",
        media_type="application/xml",
    )


@router.get("/cases/{case_id}/duplicates", response_model=list[DuplicateOut])
def duplicates_of(case_id: RecordId, actor: ActorDep, request: Request) -> list[DuplicateOut]:
    """Other cases that may be the same patient's reaction, each with its explained score."""
    actor.require("records.read", "read cases")
    with transaction(request) as session:
        found = merging.find_duplicates(session, service.get_case(session, case_id))
        return [
            DuplicateOut(
                case_id=s.other.case_id,
                number=s.other.number,
                score=s.total,
                verdict=s.verdict,
                explanation=s.explanation(),
                parts=[
                    ScorePartOut(
                        field=p.field, agrees=p.agrees, weight=round(p.weight, 2), detail=p.detail
                    )
                    for p in s.parts
                ],
            )
            for s in found
        ]


@router.post("/cases/{case_id}/merge", response_model=CaseOut)
def merge(case_id: RecordId, body: MergeIn, actor: ActorDep, request: Request) -> CaseOut:
    with transaction(request) as session:
        case = merging.merge_into(
            session, actor=actor, case_id=case_id, into_id=body.into_id, reason=body.reason
        )
        return case_out(session, case)


@router.get("/reference-safety-information", response_model=list[ReferenceOut])
def list_references(actor: ActorDep, request: Request) -> list[ReferenceOut]:
    actor.require("records.read", "read the reference safety information")
    with transaction(request) as session:
        rows = session.scalars(
            select(ReferenceSafetyInformation).order_by(ReferenceSafetyInformation.product)
        )
        return [
            ReferenceOut(
                product=r.product,
                document_reference=r.document_reference,
                expected_terms=list(r.expected_terms),
                updated_at=r.updated_at,
            )
            for r in rows
        ]


@router.put("/reference-safety-information", response_model=ReferenceOut)
def set_reference(body: ReferenceIn, actor: ActorDep, request: Request) -> ReferenceOut:
    with transaction(request) as session:
        r = service.set_reference_safety_information(
            session,
            actor=actor,
            product=body.product,
            document_reference=body.document_reference,
            expected_terms=body.expected_terms,
        )
        session.flush()
        return ReferenceOut(
            product=r.product,
            document_reference=r.document_reference,
            expected_terms=list(r.expected_terms),
            updated_at=r.updated_at,
        )


@router.get("/clock-rules")
def clock_rules(actor: ActorDep) -> list[dict[str, object]]:
    """The reporting-clock table: each rule, its region, its days and its regulatory basis."""
    actor.require("records.read", "read the reporting rules")
    return [
        {"region": r.region, "code": r.code, "days": r.days, "title": r.title, "basis": r.basis}
        for r in rules.CLOCK_RULES
    ]
