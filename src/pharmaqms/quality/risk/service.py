"""Risk assessment services: the FMEA table and its approval. Scores are checked against the
assessment's matrix, and the risk priority number and level are computed here, never typed in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality import common
from pharmaqms.quality.risk.configuration import matrix_for, matrix_in_force
from pharmaqms.quality.risk.matrix import RiskMatrix
from pharmaqms.quality.risk.models import RiskAssessment, RiskItem, RiskStatus
from pharmaqms.quality.risk.register import PRODUCT_SUBJECT
from pharmaqms.quality.risk.workflow import RISK_WORKFLOW


def get_assessment(session: Session, assessment_id: int) -> RiskAssessment:
    return common.get_or_404(session, RiskAssessment, assessment_id, "risk assessment")


def _subject_label(session: Session, subject_type: str, subject_id: int) -> str:
    """What is assessed: a record of a registered type, or a product of the master data (a
    product FMEA; the product's risk register lists it)."""
    if subject_type == PRODUCT_SUBJECT:
        product = session.get(Product, subject_id)
        if product is None:
            raise NotFound(f"no product with id {subject_id}")
        return f"product {product.code} — {product.name}"[:200]
    registered = RECORD_TYPES.get(subject_type)
    if registered is None:
        raise InvalidInput(
            f"a risk assessment attaches to a product or a record; {subject_type!r} is neither "
            f"(known: {', '.join(sorted([PRODUCT_SUBJECT, *RECORD_TYPES]))})",
            field="subject_type",
        )
    subject = session.get(registered.model, subject_id)
    if subject is None:
        raise NotFound(f"no {registered.label.lower()} with id {subject_id}")
    return subject.audit_label()


def create_assessment(
    session: Session,
    *,
    actor: Actor,
    title: str,
    scope: str,
    subject_type: str,
    subject_id: int,
    matrix_name: str | None = None,
) -> RiskAssessment:
    actor.require("risk.assess", "assess risks")
    label = _subject_label(session, subject_type, subject_id)
    # Scored on the matrix in force: QA changes it through change control, not per record.
    in_force, chosen = matrix_in_force(session)
    if matrix_name and matrix_name != chosen.name:
        raise InvalidInput(
            f"risk assessments are scored on the matrix in force ({chosen.name}, "
            f"{in_force.label}), not {matrix_name!r}: QA changes the matrix through change "
            "control",
            field="matrix",
        )
    assessment = RiskAssessment(
        status=RiskStatus.DRAFT.value,
        title=common.required_text(title, "title", "a title", max_length=300),
        scope=common.required_text(
            scope, "scope", "the scope of the assessment", max_length=20_000
        ),
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=label,
        matrix_name=chosen.name,
        acceptance_rationale="",
    )
    with audit.changes(session, actor=actor, reason="risk assessment started"):
        session.add(assessment)
    config_store.record_use(
        session, assessment, in_force, "the matrix it is scored on", actor=actor
    )
    return assessment


def assessment_matrix(session: Session, assessment: RiskAssessment) -> RiskMatrix:
    """The matrix the assessment is scored on: the version in force when it was started."""
    return matrix_for(session, assessment, assessment.matrix_name)


@dataclass(frozen=True)
class Scores:
    severity: int
    occurrence: int
    detectability: int


def _scored(grid: RiskMatrix, scores: Scores, prefix: str) -> tuple[int, int, int, int, str]:
    s = grid.check_score(scores.severity, f"{prefix}severity", "the severity")
    o = grid.check_score(scores.occurrence, f"{prefix}occurrence", "the occurrence")
    d = grid.check_score(scores.detectability, f"{prefix}detectability", "the detectability")
    return s, o, d, grid.rpn(s, o, d), grid.level(s, o, d)


def _editable(session: Session, actor: Actor, assessment_id: int) -> RiskAssessment:
    actor.require("risk.assess", "edit risk assessments")
    assessment = get_assessment(session, assessment_id)
    common.require_status(assessment, (RiskStatus.DRAFT,), "editing the FMEA table")
    return assessment


def _apply_item(
    item: RiskItem,
    grid: RiskMatrix,
    *,
    failure_mode: str,
    effect: str,
    cause: str,
    scores: Scores,
    controls: str,
    residual: Scores | None,
) -> None:
    item.failure_mode = common.required_text(failure_mode, "failure_mode", "the failure mode")
    item.effect = common.required_text(effect, "effect", "the effect of the failure")
    item.cause = common.required_text(cause, "cause", "the cause of the failure")
    (item.severity, item.occurrence, item.detectability, item.rpn, item.risk_level) = _scored(
        grid, scores, ""
    )
    item.controls = common.optional_text(controls, "controls", max_length=20_000)
    if residual is None:
        item.residual_severity = item.residual_occurrence = item.residual_detectability = None
        item.residual_rpn = None
        item.residual_level = None
    else:
        if not item.controls:
            raise InvalidInput("a residual risk needs the controls that lower it", field="controls")
        (
            item.residual_severity,
            item.residual_occurrence,
            item.residual_detectability,
            item.residual_rpn,
            item.residual_level,
        ) = _scored(grid, residual, "residual_")
        if item.residual_rpn > item.rpn:
            raise InvalidInput(
                f"the residual risk (RPN {item.residual_rpn}) can't exceed the initial risk "
                f"(RPN {item.rpn}): controls don't add risk",
                field="residual_severity",
            )


def add_item(
    session: Session,
    *,
    actor: Actor,
    assessment_id: int,
    failure_mode: str,
    effect: str,
    cause: str,
    scores: Scores,
    controls: str = "",
    residual: Scores | None = None,
) -> RiskItem:
    assessment = _editable(session, actor, assessment_id)
    item = RiskItem(retired=False, created_at=clock.now(), created_by_id=actor.user_id)
    _apply_item(
        item,
        assessment_matrix(session, assessment),
        failure_mode=failure_mode,
        effect=effect,
        cause=cause,
        scores=scores,
        controls=controls,
        residual=residual,
    )
    with audit.changes(session, actor=actor, reason="failure mode added"):
        assessment.items.append(item)
    return item


def _item(assessment: RiskAssessment, item_id: int) -> RiskItem:
    for item in assessment.items:
        if item.id == item_id and not item.retired:
            return item
    raise NotFound(f"{assessment.number} has no risk item {item_id}")


def update_item(
    session: Session,
    *,
    actor: Actor,
    assessment_id: int,
    item_id: int,
    failure_mode: str,
    effect: str,
    cause: str,
    scores: Scores,
    controls: str = "",
    residual: Scores | None = None,
    reason: str | None = None,
) -> RiskItem:
    assessment = _editable(session, actor, assessment_id)
    item = _item(assessment, item_id)
    with audit.changes(session, actor=actor, reason=reason or "failure mode revised"):
        _apply_item(
            item,
            assessment_matrix(session, assessment),
            failure_mode=failure_mode,
            effect=effect,
            cause=cause,
            scores=scores,
            controls=controls,
            residual=residual,
        )
    return item


def retire_item(
    session: Session, *, actor: Actor, assessment_id: int, item_id: int, reason: str
) -> RiskItem:
    """Take a line out of the table; it stays in the record, marked retired."""
    assessment = _editable(session, actor, assessment_id)
    item = _item(assessment, item_id)
    why = common.required_text(reason, "reason", "the reason for removing the line")
    with audit.changes(session, actor=actor, reason=why, action="retire"):
        item.retired = True
    return item


def accept_residual_risk(
    session: Session, *, actor: Actor, assessment_id: int, rationale: str
) -> RiskAssessment:
    assessment = _editable(session, actor, assessment_id)
    with audit.changes(session, actor=actor, reason="residual risk acceptance"):
        assessment.acceptance_rationale = common.required_text(
            rationale, "rationale", "why the residual risk is acceptable"
        )
    return assessment


def assessments_of(session: Session, subject_type: str, subject_id: int) -> list[RiskAssessment]:
    return list(
        session.scalars(
            select(RiskAssessment)
            .where(
                RiskAssessment.subject_type == subject_type,
                RiskAssessment.subject_id == subject_id,
            )
            .order_by(RiskAssessment.id)
        )
    )


def list_assessments(session: Session, *, status: str | None = None) -> list[RiskAssessment]:
    query = select(RiskAssessment).order_by(RiskAssessment.id.desc())
    if status:
        query = query.where(RiskAssessment.status == status)
    return list(session.scalars(query))


def transition(
    session: Session,
    *,
    actor: Actor,
    assessment_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    assessment = get_assessment(session, assessment_id)
    return perform(
        session,
        RISK_WORKFLOW,
        assessment,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )
