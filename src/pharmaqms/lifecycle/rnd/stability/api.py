"""Stability API: studies with their protocol, pulls, results and quarantine; recording results
(a result that does not fit the protocol comes back as quarantined); the Q1E shelf life of each
attribute at each long-term condition. Approval is the kernel's signed transition
(``/api/v1/records/stability_study/{id}/transitions/approve``). Thin: parse, call, shape."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.rnd.http import PREFIX
from pharmaqms.lifecycle.rnd.stability import budget, evaluation, service
from pharmaqms.lifecycle.rnd.stability.models import StabilityPull, StabilityResult
from pharmaqms.lifecycle.rnd.stability.schemas import (
    BudgetIn,
    BudgetOut,
    PullOut,
    QuarantinedOut,
    RecordedOut,
    ResultOut,
    ResultsIn,
    ShelfLifeOut,
    StudyDetailOut,
    StudyIn,
    StudyOut,
)
from pharmaqms.quality.stability_budget import BudgetBand

router = APIRouter(prefix=f"{PREFIX}/stability", tags=["rnd: stability"])


def result_out(result: StabilityResult, pull: StabilityPull) -> ResultOut:
    return ResultOut(
        id=result.id,
        batch=result.batch,
        condition=pull.condition,
        months=pull.months,
        attribute=result.attribute,
        value=result.value,
        unit=result.unit,
        oos=result.oos,
        oot_reason=result.oot_reason,
        source=result.source,
        recorded_at=result.recorded_at,
    )


@router.get("/studies", response_model=list[StudyOut])
def list_studies(actor: ActorDep, request: Request) -> list[StudyOut]:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        return [StudyOut.model_validate(s) for s in service.studies(session)]


@router.post("/studies", response_model=StudyOut, status_code=201)
def create_study(body: StudyIn, actor: ActorDep, request: Request) -> StudyOut:
    with transaction(request) as session:
        fields = body.model_dump()
        study = service.create_study(session, actor=actor, **fields)
        session.flush()
        return StudyOut.model_validate(study)


@router.get("/studies/{study_id}", response_model=StudyDetailOut)
def get_study(study_id: RecordId, actor: ActorDep, request: Request) -> StudyDetailOut:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        out = StudyDetailOut.model_validate(service.get_study(session, study_id))
        out.pulls = [PullOut.model_validate(p) for p in service.pulls_of(session, study_id)]
        out.results = [result_out(r, p) for r, p in service.results_of(session, study_id)]
        out.quarantined = [
            QuarantinedOut.model_validate(q) for q in service.quarantine_of(session, study_id)
        ]
        return out


@router.post("/studies/{study_id}/results", response_model=RecordedOut)
def record_results(
    study_id: RecordId, body: ResultsIn, actor: ActorDep, request: Request
) -> RecordedOut:
    with transaction(request) as session:
        outcome = service.record_results(
            session,
            actor=actor,
            study_id=study_id,
            results=[service.ResultIn(**r.model_dump()) for r in body.results],
        )
        pulls = {p.id: p for p in service.pulls_of(session, study_id)}
        return RecordedOut(
            stored=[result_out(r, pulls[r.pull_id]) for r in outcome.stored],
            quarantined=[QuarantinedOut.model_validate(q) for q in outcome.quarantined],
        )


@router.get("/studies/{study_id}/shelf-life", response_model=list[ShelfLifeOut])
def shelf_life(study_id: RecordId, actor: ActorDep, request: Request) -> list[ShelfLifeOut]:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        study = service.get_study(session, study_id)
        return [
            ShelfLifeOut(
                attribute=e.attribute,
                condition=e.condition,
                estimate=e.result.as_json() if e.result else None,
                refused=e.refused,
            )
            for e in evaluation.evaluations(session, study, charts=False)
        ]


@router.post("/studies/{study_id}/stability-budget", response_model=BudgetOut)
def put_budget_in_force(
    study_id: RecordId, body: BudgetIn, actor: ActorDep, request: Request
) -> BudgetOut:
    """Put the product's stability budget in force from this study's data, under a change
    control in implementation that names the product; refused with every reason otherwise."""
    bands = [BudgetBand(**b.model_dump()) for b in body.bands]
    with transaction(request) as session:
        facts = budget.put_budget_in_force(
            session,
            actor=actor,
            study_id=study_id,
            bands=bands,
            change_number=body.change_number,
        )
        return BudgetOut(
            product_code=facts.product_code,
            study=facts.study_number,
            change=facts.change_number,
            bands=body.bands,
        )
