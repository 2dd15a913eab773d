"""Stage-gate API: development plans, gates with their evidence and approvals, a project's
progress, and the time to launch. Thin: parse, call a service, shape the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.rnd.gates import launch, rules, service
from pharmaqms.lifecycle.rnd.gates.models import DevelopmentPhase, StageGate
from pharmaqms.lifecycle.rnd.gates.progress import progress
from pharmaqms.lifecycle.rnd.gates.schemas import (
    ApprovalOut,
    ApproveIn,
    DeliverableOut,
    EvidenceIn,
    EvidenceOut,
    GateEditIn,
    GateIn,
    GateOut,
    LaunchKpiOut,
    LaunchTimeOut,
    PhaseOut,
    PlanIn,
    ProgressOut,
    ReturnIn,
    WithdrawIn,
)
from pharmaqms.lifecycle.rnd.http import PREFIX

router = APIRouter(prefix=PREFIX, tags=["rnd: stage gates"])

READ = ("records.read", "read R&D stage gates")


def gate_out(session: Session, gate: StageGate) -> GateOut:
    session.flush()
    session.refresh(gate)
    covered = {e.deliverable for e in gate.current_evidence()}
    approved = {a.function for a in gate.current_approvals()}
    out = GateOut.model_validate(gate)
    out.evidence = [EvidenceOut.model_validate(e) for e in gate.evidence]
    out.approvals = [ApprovalOut.model_validate(a) for a in gate.approvals]
    out.deliverables = [
        DeliverableOut(
            code=d.code, label=d.label, kind=d.kind, basis=d.basis, covered=d.code in covered
        )
        for d in rules.DELIVERABLES[DevelopmentPhase(gate.phase)]
    ]
    out.functions = [f.value for f in rules.APPROVERS[DevelopmentPhase(gate.phase)]]
    out.waiting_for = [f.value for f in rules.waiting_functions(gate.phase, approved)]
    return out


def progress_out(session: Session, project_id: int) -> ProgressOut:
    session.flush()
    found = progress(session, project_id)
    project = service.get_project(session, project_id)
    product = launch.product_of(session, found.plan)
    return ProgressOut(
        project_id=project.id,
        project_code=project.code,
        product_code=product.code,
        current_phase=found.plan.current_phase,
        phases_passed=found.passed,
        percent=found.percent,
        phases=[
            PhaseOut(
                phase=r.phase,
                planned_start=r.planned_start,
                planned_end=r.planned_end,
                actual_start=r.actual_start,
                actual_end=r.actual_end,
                gate=r.gate.number if r.gate else None,
                gate_status=r.gate.status if r.gate else None,
                days_late=r.days_late,
            )
            for r in found.rows
        ],
        gates=[gate_out(session, g) for g in service.gates_of(session, project_id)],
    )


def launch_out(time: launch.LaunchTime) -> LaunchTimeOut:
    return LaunchTimeOut(
        project_id=time.project_id,
        project_code=time.project_code,
        product_code=time.product_code,
        first_gate=time.first_gate,
        first_gate_approved_at=time.first_gate_approved_at,
        registration_approved_at=time.registration_approved_at,
        first_batch=time.first_batch,
        first_batch_released_at=time.first_batch_released_at,
        launched=time.launched,
        days=time.days,
        months=time.months,
        running_months=time.running_months,
    )


@router.get("/plans", response_model=list[ProgressOut])
def list_plans(actor: ActorDep, request: Request) -> list[ProgressOut]:
    actor.require(*READ)
    with transaction(request, write=False) as session:
        return [progress_out(session, p.project_id) for p in service.plans(session)]


@router.post("/projects/{project_id}/plan", response_model=ProgressOut, status_code=201)
def plan_development(
    project_id: RecordId, body: PlanIn, actor: ActorDep, request: Request
) -> ProgressOut:
    with transaction(request) as session:
        service.plan_development(
            session,
            actor=actor,
            project_id=project_id,
            product_code=body.product_code,
            phases={k: (v.start, v.end) for k, v in body.phases.items()},
        )
        return progress_out(session, project_id)


@router.get("/projects/{project_id}/gates", response_model=ProgressOut)
def project_gates(project_id: RecordId, actor: ActorDep, request: Request) -> ProgressOut:
    actor.require(*READ)
    with transaction(request, write=False) as session:
        return progress_out(session, project_id)


@router.post("/projects/{project_id}/gates", response_model=GateOut, status_code=201)
def open_gate(project_id: RecordId, body: GateIn, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        gate = service.open_gate(
            session, actor=actor, project_id=project_id, phase=body.phase, summary=body.summary
        )
        return gate_out(session, gate)


@router.get("/gates/{gate_id}", response_model=GateOut)
def get_gate(gate_id: RecordId, actor: ActorDep, request: Request) -> GateOut:
    actor.require(*READ)
    with transaction(request, write=False) as session:
        return gate_out(session, service.get_gate(session, gate_id))


@router.patch("/gates/{gate_id}", response_model=GateOut)
def edit_gate(gate_id: RecordId, body: GateEditIn, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        gate = service.edit_gate(session, actor=actor, gate_id=gate_id, summary=body.summary)
        return gate_out(session, gate)


@router.post("/gates/{gate_id}/evidence", response_model=GateOut, status_code=201)
def add_evidence(gate_id: RecordId, body: EvidenceIn, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        service.add_evidence(session, actor=actor, gate_id=gate_id, **body.model_dump())
        return gate_out(session, service.get_gate(session, gate_id))


@router.post("/evidence/{evidence_id}/withdraw", response_model=GateOut)
def withdraw_evidence(
    evidence_id: RecordId, body: WithdrawIn, actor: ActorDep, request: Request
) -> GateOut:
    with transaction(request) as session:
        evidence = service.withdraw_evidence(
            session, actor=actor, evidence_id=evidence_id, reason=body.reason
        )
        return gate_out(session, service.get_gate(session, evidence.gate_id))


@router.post("/gates/{gate_id}/submit", response_model=GateOut)
def submit_gate(gate_id: RecordId, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        return gate_out(session, service.submit_gate(session, actor=actor, gate_id=gate_id))


@router.post("/gates/{gate_id}/approve", response_model=GateOut)
def approve_gate(gate_id: RecordId, body: ApproveIn, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        service.approve_gate(session, actor=actor, gate_id=gate_id, **body.model_dump())
        return gate_out(session, service.get_gate(session, gate_id))


@router.post("/gates/{gate_id}/return", response_model=GateOut)
def return_gate(gate_id: RecordId, body: ReturnIn, actor: ActorDep, request: Request) -> GateOut:
    with transaction(request) as session:
        gate = service.return_gate(session, actor=actor, gate_id=gate_id, **body.model_dump())
        return gate_out(session, gate)


@router.get("/kpi/time-to-launch", response_model=LaunchKpiOut)
def time_to_launch(actor: ActorDep, request: Request) -> LaunchKpiOut:
    actor.require("records.read", "read the R&D KPIs")
    with transaction(request, write=False) as session:
        return LaunchKpiOut(
            definition=launch.DEFINITION,
            projects=[launch_out(t) for t in launch.launch_times(session)],
        )
