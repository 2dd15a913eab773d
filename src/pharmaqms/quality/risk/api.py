"""Risk assessment API: thin. Submit, approve and withdraw go through the generic
``POST /api/v1/records/risk_assessment/{id}/transitions/{name}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.quality.risk import configuration, service
from pharmaqms.quality.risk.matrix import MATRICES, RiskMatrix
from pharmaqms.quality.risk.models import RiskAssessment
from pharmaqms.quality.risk.schemas import (
    Acceptance,
    AssessmentCreate,
    AssessmentOut,
    ItemIn,
    ItemOut,
    ItemRetirement,
    MatrixInForceOut,
    MatrixOut,
    ScoresIn,
)
from pharmaqms.quality.schemas import signatures_out

router = APIRouter(prefix="/api/v1", tags=["risk"])


def assessment_out(session: Session, assessment: RiskAssessment) -> AssessmentOut:
    session.flush()
    out = AssessmentOut.model_validate(assessment)
    out.signatures = signatures_out(session, assessment)
    return out


def _scores(scores: ScoresIn) -> service.Scores:
    return service.Scores(scores.severity, scores.occurrence, scores.detectability)


def _matrix_fields(m: RiskMatrix) -> dict[str, Any]:
    """What a matrix shows wherever the API shows one (``MatrixOut``): the built-in list and
    the matrix in force say it the same way."""
    return {
        "name": m.name,
        "scale": m.scale,
        "grid": [list(row) for row in m.grid],
        "escalate_from_detectability": m.escalate_from_detectability,
        "description": m.description,
    }


@router.get("/risk-matrices", response_model=list[MatrixOut])
def matrices(actor: ActorDep) -> list[MatrixOut]:
    """The code's built-in matrices (a first version names one); the grid in force is
    ``GET /api/v1/risk-matrix``."""
    actor.require("records.read", "read risk matrices")
    return [MatrixOut(**_matrix_fields(m)) for m in MATRICES.values()]


@router.get("/risk-matrix", response_model=MatrixInForceOut)
def matrix_in_force(actor: ActorDep, request: Request) -> MatrixInForceOut:
    """The risk matrix in force now (``quality.risk_matrix``): the one a new assessment and a
    deviation's classification are scored on."""
    actor.require("records.read", "read risk matrices")
    with transaction(request) as session:
        used, m = configuration.matrix_in_force(session)
        return MatrixInForceOut(
            **_matrix_fields(m),
            severity_levels=list(m.severity_levels),
            occurrence_levels=list(m.occurrence_levels),
            detection_levels=list(m.detection_levels),
            configuration=used.key,
            version_no=used.version_no,
            effective_from=used.effective_from,
            content_sha256=used.content_sha256,
        )


@router.get("/risk-assessments", response_model=list[AssessmentOut])
def list_assessments(
    actor: ActorDep,
    request: Request,
    subject_type: str | None = Query(default=None, max_length=60),
    subject_id: RecordId | None = None,
    status: str | None = None,
) -> list[AssessmentOut]:
    actor.require("records.read", "read risk assessments")
    with transaction(request) as session:
        if subject_type is not None and subject_id is not None:
            found = service.assessments_of(session, subject_type, subject_id)
        else:
            found = service.list_assessments(session, status=status)
        return [assessment_out(session, a) for a in found]


@router.post("/risk-assessments", response_model=AssessmentOut, status_code=201)
def create(body: AssessmentCreate, actor: ActorDep, request: Request) -> AssessmentOut:
    with transaction(request) as session:
        assessment = service.create_assessment(
            session,
            actor=actor,
            title=body.title,
            scope=body.scope,
            subject_type=body.subject_type,
            subject_id=body.subject_id,
            matrix_name=body.matrix,
        )
        return assessment_out(session, assessment)


@router.get("/risk-assessments/{assessment_id}", response_model=AssessmentOut)
def get_assessment(assessment_id: RecordId, actor: ActorDep, request: Request) -> AssessmentOut:
    actor.require("records.read", "read risk assessments")
    with transaction(request) as session:
        return assessment_out(session, service.get_assessment(session, assessment_id))


@router.post("/risk-assessments/{assessment_id}/items", response_model=ItemOut, status_code=201)
def add_item(assessment_id: RecordId, body: ItemIn, actor: ActorDep, request: Request) -> ItemOut:
    with transaction(request) as session:
        item = service.add_item(
            session,
            actor=actor,
            assessment_id=assessment_id,
            failure_mode=body.failure_mode,
            effect=body.effect,
            cause=body.cause,
            scores=_scores(body.scores),
            controls=body.controls,
            residual=_scores(body.residual) if body.residual else None,
        )
        session.flush()
        return ItemOut.model_validate(item)


@router.put("/risk-assessments/{assessment_id}/items/{item_id}", response_model=ItemOut)
def update_item(
    assessment_id: RecordId, item_id: RecordId, body: ItemIn, actor: ActorDep, request: Request
) -> ItemOut:
    with transaction(request) as session:
        item = service.update_item(
            session,
            actor=actor,
            assessment_id=assessment_id,
            item_id=item_id,
            failure_mode=body.failure_mode,
            effect=body.effect,
            cause=body.cause,
            scores=_scores(body.scores),
            controls=body.controls,
            residual=_scores(body.residual) if body.residual else None,
            reason=body.reason,
        )
        return ItemOut.model_validate(item)


@router.post("/risk-assessments/{assessment_id}/items/{item_id}/retirement", response_model=ItemOut)
def retire_item(
    assessment_id: RecordId,
    item_id: RecordId,
    body: ItemRetirement,
    actor: ActorDep,
    request: Request,
) -> ItemOut:
    with transaction(request) as session:
        item = service.retire_item(
            session, actor=actor, assessment_id=assessment_id, item_id=item_id, reason=body.reason
        )
        return ItemOut.model_validate(item)


@router.post("/risk-assessments/{assessment_id}/acceptance", response_model=AssessmentOut)
def accept(
    assessment_id: RecordId, body: Acceptance, actor: ActorDep, request: Request
) -> AssessmentOut:
    with transaction(request) as session:
        assessment = service.accept_residual_risk(
            session, actor=actor, assessment_id=assessment_id, rationale=body.rationale
        )
        return assessment_out(session, assessment)
