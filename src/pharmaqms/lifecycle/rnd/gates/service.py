"""The stage-gate verbs, one function each; the only code that writes gates.

``plan_development`` (link a notebook project to the platform product it develops, with the
planned dates of each phase) · ``open_gate`` (the gate of the phase open now: never one ahead)
· ``add_evidence`` / ``withdraw_evidence`` / ``edit_gate`` (while the gate is open) ·
``submit_gate`` · ``approve_gate`` (one named function's signed approval; the last one approves
the gate and opens the next phase) · ``return_gate`` (signed "Rejected", back to open).

Every refusal is raised before anything is written: nothing changes, no audit entry, no
signature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
    StaleRecord,
    TransitionNotAllowed,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.signatures import sign
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.rnd.eln.models import (
    EntryStatus,
    Experiment,
    ExperimentEntry,
    ProjectStatus,
    RndProject,
)
from pharmaqms.lifecycle.rnd.gates import rules
from pharmaqms.lifecycle.rnd.gates.models import (
    PHASES,
    DevelopmentPhase,
    DevelopmentPlan,
    EvidenceKind,
    GateApproval,
    GateEvidence,
    GateStatus,
    PhasePlan,
    StageGate,
)
from pharmaqms.lifecycle.rnd.gates.workflow import (
    GATE_WORKFLOW,
    approval_task_kind,
    evidence_complete,
)
from pharmaqms.lifecycle.rnd.stability.models import StabilityStudy, StudyStatus
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality.documents.models import ControlledDocument
from pharmaqms.quality.risk.models import RiskAssessment

_REFERENCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./_ -]{0,79}$")


# --- lookups ----------------------------------------------------------------------------------


def get_project(session: Session, project_id: int) -> RndProject:
    project = session.get(RndProject, project_id)
    if project is None:
        raise NotFound(f"no R&D project #{project_id}")
    return project


def plan_of(session: Session, project_id: int) -> DevelopmentPlan | None:
    return session.scalars(
        select(DevelopmentPlan).where(DevelopmentPlan.project_id == project_id)
    ).first()


def get_plan(session: Session, project_id: int) -> DevelopmentPlan:
    plan = plan_of(session, project_id)
    if plan is None:
        code = get_project(session, project_id).code
        raise NotFound(f"R&D project {code} has no development plan yet")
    return plan


def plans(session: Session) -> list[DevelopmentPlan]:
    return list(session.scalars(select(DevelopmentPlan).order_by(DevelopmentPlan.id)))


def get_gate(session: Session, gate_id: int) -> StageGate:
    gate = session.get(StageGate, gate_id)
    if gate is None:
        raise NotFound(f"no stage gate #{gate_id}")
    return gate


def gates_of(session: Session, project_id: int) -> list[StageGate]:
    found = session.scalars(select(StageGate).where(StageGate.project_id == project_id))
    return sorted(found, key=lambda g: PHASES.index(DevelopmentPhase(g.phase)))


def get_evidence(session: Session, evidence_id: int) -> GateEvidence:
    evidence = session.get(GateEvidence, evidence_id)
    if evidence is None:
        raise NotFound(f"no gate evidence #{evidence_id}")
    return evidence


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} is over {limit:,} characters", field=field)
    return text


def _phase(value: str) -> DevelopmentPhase:
    try:
        return DevelopmentPhase(value)
    except ValueError:
        raise InvalidInput(
            f"no development phase {value!r}; one of: {', '.join(PHASES)}", field="phase"
        ) from None


# --- the plan ---------------------------------------------------------------------------------


def plan_development(
    session: Session,
    *,
    actor: Actor,
    project_id: int,
    product_code: str,
    phases: Mapping[str, tuple[date, date]],
) -> DevelopmentPlan:
    """Link the notebook's project to the product it develops and plan every phase. The
    pre-formulation phase opens now."""
    actor.require("rnd.gates", "plan R&D projects")
    project = get_project(session, project_id)
    if project.status != ProjectStatus.ACTIVE.value:
        raise Conflict(f"{project.code} is {project.status}: it takes no development plan")
    if plan_of(session, project.id) is not None:
        raise Conflict(f"{project.code} has a development plan already")
    code = (product_code or "").strip().upper()
    product = session.scalars(select(Product).where(Product.code == code)).first()
    if product is None:
        raise InvalidInput(f"no product {code!r} in the master data", field="product_code")
    unknown = sorted(set(phases) - set(PHASES))
    missing = [p for p in PHASES if p not in phases]
    if unknown or missing:
        raise InvalidInput(
            "plan every phase, and only those: "
            + "; ".join(
                ([f"unknown {', '.join(unknown)}"] if unknown else [])
                + ([f"missing {', '.join(missing)}"] if missing else [])
            ),
            field="phases",
        )
    previous: date | None = None
    for phase in PHASES:
        start, end = phases[phase]
        if end < start:
            raise InvalidInput(
                f"{rules.phase_label(phase)} ends ({end}) before it starts ({start})",
                field="phases",
            )
        if previous is not None and start < previous:
            raise InvalidInput(
                f"{rules.phase_label(phase)} is planned to start ({start}) before the phase "
                f"ahead of it ({previous}): phases pass in order",
                field="phases",
            )
        previous = start
    plan = DevelopmentPlan(
        project_id=project.id,
        product_id=product.id,
        current_phase=PHASES[0].value,
        started_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"{project.code} develops {product.code}"):
        session.add(plan)
        session.flush()
        for phase in PHASES:
            start, end = phases[phase]
            session.add(
                PhasePlan(plan_id=plan.id, phase=phase.value, planned_start=start, planned_end=end)
            )
    session.expire(plan, ["phases"])
    return plan


# --- gates ------------------------------------------------------------------------------------


def open_gate(
    session: Session, *, actor: Actor, project_id: int, phase: str, summary: str = ""
) -> StageGate:
    """The gate of the phase the project is in. A later phase's gate is refused: no phase is
    skipped."""
    actor.require("rnd.gates", "open stage gates")
    chosen = _phase(phase)
    plan = get_plan(session, project_id)
    project = get_project(session, project_id)
    existing = session.scalars(
        select(StageGate).where(StageGate.project_id == project.id, StageGate.phase == chosen)
    ).first()
    if existing is not None:
        raise Conflict(
            f"{project.code} has its {rules.phase_label(chosen)} gate: {existing.number}"
        )
    if plan.current_phase is None:
        raise Conflict(f"{project.code} has passed every gate")
    if chosen != plan.current_phase:
        raise TransitionNotAllowed(
            f"{project.code} is in {rules.phase_label(plan.current_phase)}: the "
            f"{rules.phase_label(chosen)} gate opens only after the gates before it are "
            "approved (no phase is skipped)",
            field="phase",
        )
    gate = StageGate(
        status=GateStatus.OPEN.value,
        project_id=project.id,
        phase=chosen.value,
        summary=_text(summary, "summary", 20_000),
    )
    with audit.changes(session, actor=actor, reason=f"{rules.phase_label(chosen)} gate opened"):
        session.add(gate)
    return gate


def _open(gate: StageGate, doing: str) -> None:
    if gate.status != GateStatus.OPEN.value:
        raise Conflict(
            f"{gate.number} is {gate.status}: {doing} only while the gate is open"
            + (" — an approved gate never changes" if gate.status == GateStatus.APPROVED else "")
        )


def edit_gate(session: Session, *, actor: Actor, gate_id: int, summary: str) -> StageGate:
    actor.require("rnd.gates", "edit stage gates")
    gate = get_gate(session, gate_id)
    _open(gate, "its summary changes")
    with audit.changes(session, actor=actor, reason="summary edited"):
        gate.summary = _text(summary, "summary", 20_000)
    return gate


def _resolve(
    session: Session, gate: StageGate, kind: EvidenceKind, reference: str
) -> tuple[str, int | None]:
    """The referenced record, checked: (its number, the experiment's id for an experiment)."""
    if kind == EvidenceKind.EXPERIMENT:
        experiment = session.scalars(
            select(Experiment).where(Experiment.number == reference)
        ).first()
        if experiment is None or experiment.project_id != gate.project_id:
            raise InvalidInput(
                f"no experiment {reference} in this project's notebook", field="reference"
            )
        signed = session.scalars(
            select(ExperimentEntry.id).where(
                ExperimentEntry.experiment_id == experiment.id,
                ExperimentEntry.status.in_([EntryStatus.SIGNED, EntryStatus.WITNESSED]),
            )
        ).first()
        if signed is None:
            raise InvalidInput(
                f"{experiment.number} has no signed entry: an unsigned notebook is not evidence",
                field="reference",
            )
        return experiment.number, experiment.id
    if kind == EvidenceKind.STABILITY_STUDY:
        return _stability_study(session, gate, reference), None
    if kind == EvidenceKind.RISK_ASSESSMENT:
        model: type[RiskAssessment] | type[ControlledDocument] = RiskAssessment
    else:
        model = ControlledDocument
    if session.scalars(select(model.id).where(model.number == reference)).first() is None:
        raise InvalidInput(f"no {kind.replace('_', ' ')} {reference}", field="reference")
    return reference, None


def _stability_study(session: Session, gate: StageGate, reference: str) -> str:
    """A stability study of the product the project develops, approved (a protocol still in
    draft has no data to show at a gate)."""
    study = session.scalars(
        select(StabilityStudy).where(StabilityStudy.number == reference)
    ).first()
    if study is None:
        raise InvalidInput(f"no stability study {reference}", field="reference")
    plan = session.scalars(
        select(DevelopmentPlan).where(DevelopmentPlan.project_id == gate.project_id)
    ).one()
    product = session.get(Product, plan.product_id)
    if product is None or study.product_code != product.code:
        raise InvalidInput(
            f"{reference} is a study of {study.product_code}, not of the project's product",
            field="reference",
        )
    if study.status == StudyStatus.DRAFT.value:
        raise InvalidInput(
            f"{reference} is a draft protocol: it has no data to show", field="reference"
        )
    return study.number


def add_evidence(
    session: Session,
    *,
    actor: Actor,
    gate_id: int,
    deliverable: str,
    reference: str,
    note: str = "",
) -> GateEvidence:
    """Evidence for one deliverable of the gate's phase, of the kind the deliverable asks for."""
    actor.require("rnd.gates", "collect gate evidence")
    gate = get_gate(session, gate_id)
    _open(gate, "evidence is added")
    wanted = rules.deliverable(gate.phase, deliverable)
    if wanted is None:
        known = ", ".join(d.code for d in rules.DELIVERABLES[DevelopmentPhase(gate.phase)])
        raise InvalidInput(
            f"{rules.phase_label(gate.phase)} has no deliverable {deliverable!r}; one of: {known}",
            field="deliverable",
        )
    reference = (reference or "").strip()
    if not _REFERENCE.match(reference):
        raise InvalidInput(
            "the reference is the number of what is referenced (1-80 letters, digits, "
            "'.', '/', '_', '-', spaces)",
            field="reference",
        )
    number, experiment_id = _resolve(session, gate, wanted.kind, reference)
    duplicate = [
        e for e in gate.current_evidence() if (e.deliverable, e.reference) == (wanted.code, number)
    ]
    if duplicate:
        raise Conflict(f"{number} is already evidence for '{wanted.label}' on {gate.number}")
    evidence = GateEvidence(
        gate_id=gate.id,
        deliverable=wanted.code,
        kind=wanted.kind.value,
        reference=number,
        experiment_id=experiment_id,
        note=_text(note, "note", 4000),
        added_at=clock.now(),
        added_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"evidence for {wanted.label}"):
        session.add(evidence)
    session.expire(gate, ["evidence"])
    return evidence


def withdraw_evidence(
    session: Session, *, actor: Actor, evidence_id: int, reason: str
) -> GateEvidence:
    actor.require("rnd.gates", "collect gate evidence")
    evidence = get_evidence(session, evidence_id)
    gate = get_gate(session, evidence.gate_id)
    _open(gate, "evidence is withdrawn")
    if evidence.withdrawn_at is not None:
        raise Conflict(f"{evidence.reference} was withdrawn already")
    why = _text(reason, "reason", 2000, required=True)
    with audit.changes(session, actor=actor, reason=f"evidence withdrawn: {why}"):
        evidence.withdrawn_at = clock.now()
        evidence.withdrawn_reason = why
    session.expire(gate, ["evidence"])
    return evidence


def submit_gate(session: Session, *, actor: Actor, gate_id: int) -> StageGate:
    """To the functions: refused while a deliverable has no evidence."""
    gate = get_gate(session, gate_id)
    perform(session, GATE_WORKFLOW, gate, "submit", actor=actor)
    return gate


def _approver_refusal(
    session: Session, gate: StageGate, actor: Actor, function: rules.Function
) -> None:
    project = get_project(session, gate.project_id)
    role = rules.FUNCTION_ROLE[function]
    label = rules.FUNCTION_LABELS[function]
    if role not in actor.roles:
        raise PermissionDenied(
            f"signing for {label} needs the role {role}; {actor.username} holds "
            f"{', '.join(sorted(actor.roles)) or 'none'}"
        )
    if function == rules.Function.PROJECT_LEAD and actor.user_id != project.lead_id:
        raise PermissionDenied(f"only the lead of {project.code} signs as its project lead")
    if actor.user_id == gate.submitted_by_id:
        raise SegregationOfDuties(
            f"{actor.full_name} submitted {gate.number}: who submits a gate does not approve it"
        )
    current = gate.current_approvals()
    if function in {a.function for a in current}:
        raise Conflict(f"{label} has already approved {gate.number}")
    # In any round: a person who stood for one function never stands for another on this gate.
    other = sorted(
        {a.function for a in gate.approvals if a.approver_id == actor.user_id} - {function.value}
    )
    if other:
        raise SegregationOfDuties(
            f"{actor.full_name} already signed {gate.number} for "
            f"{', '.join(rules.FUNCTION_LABELS[f] for f in other)}: each function is a "
            "different person"
        )


def _reviewed(gate: StageGate, expected_version: int | None) -> None:
    if expected_version is not None and gate.version != expected_version:
        raise StaleRecord(
            f"{gate.number} is at version {gate.version}, not {expected_version}: it changed "
            "after you read it; reload and review it again",
            extra={"current_version": gate.version},
        )


def approve_gate(
    session: Session,
    *,
    actor: Actor,
    gate_id: int,
    function: str,
    password: str | None,
    comment: str = "",
    expected_version: int | None = None,
) -> GateApproval:
    """One named function's signed approval. The last one approves the gate, which closes the
    phase and opens the next. ``expected_version``: the version the signer reviewed."""
    actor.require("rnd.gates.approve", "approve stage gates")
    gate = get_gate(session, gate_id)
    _reviewed(gate, expected_version)
    if gate.status != GateStatus.SUBMITTED.value:
        missing = evidence_complete(gate) if gate.status == GateStatus.OPEN.value else []
        raise TransitionNotAllowed(
            f"{gate.number} is {gate.status}: only a submitted gate is approved"
            + (f" ({'; '.join(missing)})" if missing else ""),
            reasons=missing,
        )
    missing = evidence_complete(gate)
    if missing:  # evidence is frozen at submission; checked again all the same
        raise TransitionNotAllowed("; ".join(missing), reasons=missing)
    named = rules.APPROVERS[DevelopmentPhase(gate.phase)]
    try:
        chosen = rules.Function(function)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in named:
        raise InvalidInput(
            f"{rules.phase_label(gate.phase)} gates are approved by "
            f"{', '.join(f.value for f in named)}, not {function!r}",
            field="function",
        )
    _approver_refusal(session, gate, actor, chosen)
    if not password:
        raise InvalidInput(
            f"approving for {rules.FUNCTION_LABELS[chosen]} is signed (Approved): enter your "
            "password",
            field="password",
        )
    note = _text(comment, "comment", 2000)
    label = rules.FUNCTION_LABELS[chosen]
    signature = sign(
        session,
        gate,
        actor=actor,
        password=password,
        meaning="Approved",
        transition=f"approve:{chosen.value}",
        comment=f"for {label}" + (f": {note}" if note else ""),
    )
    approval = GateApproval(
        gate_id=gate.id,
        round=gate.round,
        function=chosen.value,
        approver_id=actor.user_id,
        signature_id=signature.id,
        content_hash=signature.content_hash,
        decided_at=signature.signed_at,
        comment=note,
    )
    with audit.changes(session, actor=actor, reason=f"approved for {label}"):
        session.add(approval)
    tasks.close_tasks(
        session,
        gate,
        actor=actor,
        outcome=f"approved for {label} by {actor.full_name}",
        kind=approval_task_kind(chosen.value),
    )
    session.expire(gate, ["approvals"])
    if not rules.waiting_functions(gate.phase, {a.function for a in gate.current_approvals()}):
        perform(session, GATE_WORKFLOW, gate, "approve", actor=actor)
    return approval


def return_gate(
    session: Session,
    *,
    actor: Actor,
    gate_id: int,
    password: str | None,
    reason: str,
    expected_version: int | None = None,
) -> StageGate:
    """A function finds the review short: signed "Rejected", back to open; the next submission
    is a new round."""
    actor.require("rnd.gates.approve", "return stage gates")
    gate = get_gate(session, gate_id)
    perform(
        session,
        GATE_WORKFLOW,
        gate,
        "return",
        actor=actor,
        password=password,
        reason=reason,
        expected_version=expected_version,
    )
    return gate
