"""Compliance API: the regulations register and one regulation with its requirements and the
controls that meet them. Read-only; the register changes by file import (command line)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from pharmaqms.compliance import service
from pharmaqms.compliance.models import Regulation
from pharmaqms.compliance.schemas import ControlOut, RegulationOut, RequirementOut
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])


def regulation_out(
    session: Session, regulation: Regulation, cover: service.Coverage, *, detail: bool
) -> RegulationOut:
    out = RegulationOut(
        id=regulation.id,
        number=regulation.number,
        status=regulation.status,
        code=regulation.code,
        title=regulation.title,
        issuer=regulation.issuer,
        jurisdiction=regulation.jurisdiction,
        edition=regulation.edition,
        effective_on=regulation.effective_on,
        source_url=regulation.source_url,
        superseded_by_id=regulation.superseded_by_id,
        requirements_count=cover.requirements,
        covered_count=cover.covered,
        coverage_pct=cover.percent,
    )
    if detail:
        rows = service.requirements(session, regulation.id)
        controls = service.controls_by_requirement(session, [r.id for r in rows])
        out.requirements = [
            RequirementOut(
                id=r.id,
                clause=r.clause,
                summary=r.summary,
                applies_to=[a for a in r.applies_to.split(", ") if a],
                controls=[
                    ControlOut(kind=c.kind, reference=c.reference, note=c.note)
                    for c in controls[r.id]
                ],
                covered=bool(controls[r.id]),
            )
            for r in rows
        ]
    return out


@router.get("/regulations", response_model=list[RegulationOut])
def list_regulations(actor: ActorDep, request: Request) -> list[RegulationOut]:
    """The register: every regulation edition (current and superseded) with its coverage."""
    actor.require("records.read", "read the regulations register")
    with transaction(request, write=False) as session:
        covers = service.coverage(session)
        empty = service.Coverage(0, 0)
        return [
            regulation_out(session, r, covers.get(r.id, empty), detail=False)
            for r in service.regulations(session)
        ]


@router.get("/regulations/{regulation_id}", response_model=RegulationOut)
def get_regulation(regulation_id: RecordId, actor: ActorDep, request: Request) -> RegulationOut:
    """One regulation edition with its requirements and the controls mapped to each."""
    actor.require("records.read", "read the regulations register")
    with transaction(request, write=False) as session:
        regulation = service.get_regulation(session, regulation_id)
        cover = service.coverage(session).get(regulation.id, service.Coverage(0, 0))
        return regulation_out(session, regulation, cover, detail=True)
