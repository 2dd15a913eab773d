"""QC testing API: specifications, results, OOS investigations, lot QC status, certificates of
analysis. Thin: parse, call the service, shape the answer. Workflow steps (submit, approve,
escalate, invalidate_lab_error, approve_conclusion, review, …) go through the generic record
transitions, ``/api/v1/records/<type>/<id>/transitions/<name>``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.lifecycle.production.qc import (
    certificates,
    investigations,
    printout,
    results,
    specifications,
)
from pharmaqms.lifecycle.production.qc.models import (
    CertificateOfAnalysis,
    OosInvestigation,
    Specification,
)
from pharmaqms.lifecycle.production.qc.schemas import (
    CertificateCreate,
    CertificateOut,
    InvestigationOut,
    LimsEvaluationOut,
    LotQcStatusOut,
    Phase1In,
    Phase2In,
    RecordedOut,
    ResultCreate,
    ResultOut,
    RetestIn,
    RevisionCreate,
    SpecificationCreate,
    SpecificationEdit,
    SpecificationOut,
    TestIn,
    TestLineOut,
    TrendAssessment,
)
from pharmaqms.lifecycle.production.qc.status import qc_status_of_lot

router = APIRouter(prefix=f"{PREFIX}/qc", tags=["production: QC"])


def _tests(tests: list[TestIn]) -> list[specifications.TestInput]:
    return [specifications.TestInput(**t.model_dump()) for t in tests]


def specification_out(session: Session, spec: Specification) -> SpecificationOut:
    out = SpecificationOut.model_validate(spec)
    out.signatures = signatures_out(session, spec)
    return out


def investigation_out(session: Session, inv: OosInvestigation) -> InvestigationOut:
    out = InvestigationOut.model_validate(inv)
    out.original = ResultOut.model_validate(results.get_result(session, inv.result_id))
    out.retests = [ResultOut.model_validate(r) for r in investigations.retests_of(session, inv)]
    out.signatures = signatures_out(session, inv)
    return out


def certificate_out(session: Session, coa: CertificateOfAnalysis) -> CertificateOut:
    out = CertificateOut.model_validate(coa)
    out.signatures = signatures_out(session, coa)
    return out


def recorded_out(recorded: results.Recorded) -> RecordedOut:
    inv = recorded.investigation
    return RecordedOut(
        result=ResultOut.model_validate(recorded.result),
        investigation_id=inv.id if inv else None,
        investigation_number=inv.number if inv else None,
        trend_findings=recorded.trend_findings,
    )


# --- specifications -------------------------------------------------------------------------


@router.get("/specifications", response_model=list[SpecificationOut])
def list_specifications(
    actor: ActorDep,
    request: Request,
    item_code: str | None = Query(default=None, max_length=40),
    status: str | None = Query(default=None, max_length=20),
) -> list[SpecificationOut]:
    actor.require("records.read", "read QC specifications")
    with transaction(request) as session:
        return [
            specification_out(session, s)
            for s in specifications.list_specifications(session, item_code=item_code, status=status)
        ]


@router.post("/specifications", response_model=SpecificationOut, status_code=201)
def create_specification(
    body: SpecificationCreate, actor: ActorDep, request: Request
) -> SpecificationOut:
    with transaction(request) as session:
        spec = specifications.create_specification(
            session,
            actor=actor,
            subject_kind=body.subject_kind,
            item_code=body.item_code,
            market=body.market,
            title=body.title,
            tests=_tests(body.tests),
        )
        session.flush()
        return specification_out(session, spec)


@router.get("/specifications/{spec_id}", response_model=SpecificationOut)
def get_specification(spec_id: RecordId, actor: ActorDep, request: Request) -> SpecificationOut:
    actor.require("records.read", "read QC specifications")
    with transaction(request) as session:
        return specification_out(session, specifications.get_specification(session, spec_id))


@router.patch("/specifications/{spec_id}", response_model=SpecificationOut)
def edit_specification(
    spec_id: RecordId, body: SpecificationEdit, actor: ActorDep, request: Request
) -> SpecificationOut:
    with transaction(request) as session:
        spec = specifications.replace_tests(
            session,
            actor=actor,
            spec_id=spec_id,
            expected_version=body.expected_version,
            tests=_tests(body.tests),
            title=body.title,
            change_summary=body.change_summary,
        )
        session.flush()
        return specification_out(session, spec)


@router.post(
    "/specifications/{spec_id}/revisions", response_model=SpecificationOut, status_code=201
)
def revise_specification(
    spec_id: RecordId, body: RevisionCreate, actor: ActorDep, request: Request
) -> SpecificationOut:
    with transaction(request) as session:
        spec = specifications.revise(
            session, actor=actor, spec_id=spec_id, change_summary=body.change_summary
        )
        session.flush()
        return specification_out(session, spec)


# --- results --------------------------------------------------------------------------------


@router.post("/results", response_model=RecordedOut, status_code=201)
def record_result(body: ResultCreate, actor: ActorDep, request: Request) -> RecordedOut:
    """Enter a result. It is judged at once; out of specification, it opens an OOS
    investigation and holds the lot (``investigation_number`` in the answer)."""
    with transaction(request) as session:
        recorded = results.record_result(
            session,
            actor=actor,
            lot_id=body.lot_id,
            sample_id=body.sample_id,
            test_code=body.test_code,
            tested_at=body.tested_at,
            value=body.value,
            text_value=body.text_value,
            unit=body.unit,
            replicate=body.replicate,
            analyst=body.analyst,
        )
        session.flush()
        return recorded_out(recorded)


@router.get("/results/{result_id}", response_model=ResultOut)
def get_result(result_id: RecordId, actor: ActorDep, request: Request) -> ResultOut:
    actor.require("records.read", "read QC results")
    with transaction(request) as session:
        return ResultOut.model_validate(results.get_result(session, result_id))


@router.post("/results/{result_id}/trend-assessment", response_model=ResultOut)
def assess_trend(
    result_id: RecordId, body: TrendAssessment, actor: ActorDep, request: Request
) -> ResultOut:
    with transaction(request) as session:
        result = results.assess_trend(
            session, actor=actor, result_id=result_id, assessment=body.assessment
        )
        session.flush()
        return ResultOut.model_validate(result)


@router.post("/lims-results/evaluate", response_model=LimsEvaluationOut)
def evaluate_lims(actor: ActorDep, request: Request) -> LimsEvaluationOut:
    """Take over and judge the LIMS results the platform received since the last run."""
    with transaction(request) as session:
        summary = results.evaluate_lims_results(session, actor=actor)
        return LimsEvaluationOut(
            taken_over=summary.taken_over,
            failed=summary.failed,
            not_evaluated=summary.not_evaluated,
            out_of_trend=summary.out_of_trend,
        )


@router.get("/lots/{lot_id}/results", response_model=list[ResultOut])
def lot_results(lot_id: RecordId, actor: ActorDep, request: Request) -> list[ResultOut]:
    actor.require("records.read", "read QC results")
    with transaction(request) as session:
        results.get_lot(session, lot_id)
        return [ResultOut.model_validate(r) for r in results.results_of_lot(session, lot_id)]


@router.get("/lots/{lot_id}/status", response_model=LotQcStatusOut)
def lot_status(lot_id: RecordId, actor: ActorDep, request: Request) -> LotQcStatusOut:
    """The lot's QC standing: the verdict (passed, pending, failed, under_investigation,
    no_specification), each test with its results, and everything still open."""
    actor.require("records.read", "read QC status")
    with transaction(request) as session:
        status = qc_status_of_lot(session, lot_id)
        return LotQcStatusOut(
            lot_id=status.lot_id,
            lot_label=status.lot_label,
            item_code=status.item_code,
            lot_status=status.lot_status,
            verdict=status.verdict.value,
            passed=status.passed,
            tests=[
                TestLineOut(
                    test_code=t.test_code,
                    test_name=t.test_name,
                    criteria=list(t.criteria),
                    results=[r.shown_value for r in t.results],
                    result_ids=[r.id for r in t.results],
                    outcome=t.outcome,
                )
                for t in status.tests
            ],
            specifications=list(status.specifications),
            open_investigations=list(status.open_investigations),
            open_nonconformances=list(status.open_nonconformances),
            open_trends=list(status.open_trends),
            approved_certificates=list(status.approved_certificates),
            reasons=list(status.reasons),
        )


# --- OOS investigations ---------------------------------------------------------------------


@router.get("/investigations", response_model=list[InvestigationOut])
def list_investigations(
    actor: ActorDep, request: Request, status: str | None = Query(default=None, max_length=20)
) -> list[InvestigationOut]:
    actor.require("records.read", "read OOS investigations")
    with transaction(request) as session:
        return [
            investigation_out(session, i)
            for i in investigations.list_investigations(session, status=status)
        ]


@router.get("/investigations/{investigation_id}", response_model=InvestigationOut)
def get_investigation(
    investigation_id: RecordId, actor: ActorDep, request: Request
) -> InvestigationOut:
    actor.require("records.read", "read OOS investigations")
    with transaction(request) as session:
        return investigation_out(
            session, investigations.get_investigation(session, investigation_id)
        )


@router.post("/investigations/{investigation_id}/phase-1", response_model=InvestigationOut)
def record_phase1(
    investigation_id: RecordId, body: Phase1In, actor: ActorDep, request: Request
) -> InvestigationOut:
    with transaction(request) as session:
        inv = investigations.record_phase1(
            session,
            actor=actor,
            investigation_id=investigation_id,
            findings=body.findings,
            checklist=body.checklist,
            assignable_cause=body.assignable_cause,
            lab_error_evidence=body.lab_error_evidence,
            expected_version=body.expected_version,
        )
        session.flush()
        return investigation_out(session, inv)


@router.patch("/investigations/{investigation_id}/phase-2", response_model=InvestigationOut)
def record_phase2(
    investigation_id: RecordId, body: Phase2In, actor: ActorDep, request: Request
) -> InvestigationOut:
    with transaction(request) as session:
        inv = investigations.record_phase2(
            session,
            actor=actor,
            investigation_id=investigation_id,
            expected_version=body.expected_version,
            manufacturing_review=body.manufacturing_review,
            retest_protocol=body.retest_protocol,
            root_cause=body.root_cause,
            conclusion=body.conclusion,
            conclusion_rationale=body.conclusion_rationale,
            impact_on_other_lots=body.impact_on_other_lots,
            lab_error_evidence=body.lab_error_evidence,
        )
        session.flush()
        return investigation_out(session, inv)


@router.post(
    "/investigations/{investigation_id}/retests", response_model=RecordedOut, status_code=201
)
def record_retest(
    investigation_id: RecordId, body: RetestIn, actor: ActorDep, request: Request
) -> RecordedOut:
    with transaction(request) as session:
        recorded = investigations.record_retest(
            session,
            actor=actor,
            investigation_id=investigation_id,
            tested_at=body.tested_at,
            value=body.value,
            text_value=body.text_value,
            unit=body.unit,
            sample_id=body.sample_id,
            analyst=body.analyst,
        )
        session.flush()
        return recorded_out(recorded)


# --- certificates of analysis ---------------------------------------------------------------


@router.post("/certificates", response_model=CertificateOut, status_code=201)
def prepare_certificate(
    body: CertificateCreate, actor: ActorDep, request: Request
) -> CertificateOut:
    with transaction(request) as session:
        coa = certificates.prepare_certificate(
            session, actor=actor, lot_id=body.lot_id, specification_id=body.specification_id
        )
        session.flush()
        return certificate_out(session, coa)


@router.get("/certificates/{certificate_id}", response_model=CertificateOut)
def get_certificate(certificate_id: RecordId, actor: ActorDep, request: Request) -> CertificateOut:
    actor.require("records.read", "read certificates of analysis")
    with transaction(request) as session:
        return certificate_out(session, certificates.get_certificate(session, certificate_id))


@router.get(
    "/certificates/{certificate_id}/pdf",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def certificate_pdf(certificate_id: RecordId, actor: ActorDep, request: Request) -> Response:
    actor.require("records.read", "print certificates of analysis")
    with transaction(request) as session:
        coa = certificates.get_certificate(session, certificate_id)
        pdf = printout.render_certificate(session, coa, printed_by=actor)
        filename = coa.number
    return download(
        pdf, filename=f"{filename}.pdf", media_type="application/pdf", disposition="inline"
    )
