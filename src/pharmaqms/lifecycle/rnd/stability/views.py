"""Stability pages: the studies (and a form for a new protocol), and a study's page with its
protocol, pulls, the shelf-life chart of each attribute at each long-term condition, the
results with their OOS/OOT flags, the quarantine, and the forms to record results. Thin: every
change goes through the stability services; approval is the kernel's signed transition."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, register_page
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.rnd.stability import evaluation, service
from pharmaqms.lifecycle.rnd.stability.lims import sample_id
from pharmaqms.lifecycle.rnd.stability.protocol import CONDITIONS, ROLES, condition_label
from pharmaqms.lifecycle.rnd.stability.workflow import STUDY_WORKFLOW

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/rnd/stability"

add(NavItem("R&D", "Stability studies", BASE, "stability.read", 20))
# A pull's task links to its study's pulls.
register_page("stability_pull", lambda pull_id: f"{BASE}/pulls/{pull_id}")


def _lines(text: str) -> list[tuple[int, list[str]]]:
    return [
        (number, [part.strip() for part in line.split(";")])
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip()
    ]


def parse_conditions(text: str) -> list[dict[str, Any]]:
    """``25C60RH; long_term; 0, 3, 6, 9, 12, 18, 24`` per line."""
    found = []
    for number, parts in _lines(text):
        if len(parts) != 3:
            raise InvalidInput(
                f"conditions, line {number}: write 'CONDITION; role; months, months, …'",
                field="conditions",
            )
        points = [p.strip() for p in parts[2].split(",") if p.strip()]
        found.append({"code": parts[0], "role": parts[1], "time_points": points})
    return found


def parse_attributes(text: str) -> list[dict[str, Any]]:
    """``ASSAY; Assay; %; 95.0; 105.0`` per line (an empty limit: none on that side)."""
    found = []
    for number, parts in _lines(text):
        if len(parts) != 5:
            raise InvalidInput(
                f"attributes, line {number}: write 'CODE; name; unit; lower; upper'",
                field="attributes",
            )
        code, name, unit, lower, upper = parts
        found.append({"code": code, "name": name, "unit": unit, "lower": lower, "upper": upper})
    return found


def parse_results(text: str) -> list[service.ResultIn]:
    """``S2601; 25C60RH; 6; ASSAY; 99.1`` per line."""
    found = []
    for number, parts in _lines(text):
        if len(parts) != 5:
            raise InvalidInput(
                f"results, line {number}: write 'batch; condition; months; attribute; value'",
                field="results",
            )
        batch, condition, months, attribute, value = parts
        try:
            numbers = float(months), float(value)
        except ValueError:
            raise InvalidInput(
                f"results, line {number}: months and value are numbers", field="results"
            ) from None
        found.append(
            service.ResultIn(batch, condition.upper(), numbers[0], attribute.upper(), numbers[1])
        )
    return found


def _back(url: str, message: str, kind: str = "success") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    set_flash(response, kind, message)
    return response


@router.get(BASE, response_class=HTMLResponse)
def studies(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        return render(
            request,
            "rnd/stability_studies.html",
            {"studies": service.studies(session), "conditions": CONDITIONS, "roles": ROLES},
        )


@router.post(BASE)
def create_study(
    request: Request,
    actor: ActorDep,
    product_code: Annotated[str, Form(max_length=40)],
    title: Annotated[str, Form(max_length=200)],
    start_on: Annotated[date, Form()],
    batches: Annotated[str, Form(max_length=2000)],
    conditions: Annotated[str, Form(max_length=4000)],
    attributes: Annotated[str, Form(max_length=8000)],
    purpose: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        study = service.create_study(
            session,
            actor=actor,
            product_code=product_code,
            title=title,
            start_on=start_on,
            batches=[b for b in batches.replace(";", ",").split(",")],
            conditions=parse_conditions(conditions),
            attributes=parse_attributes(attributes),
            purpose=purpose,
        )
        session.flush()
        study_id, number = study.id, study.number
    return _back(f"{BASE}/{study_id}", f"{number} written: QA approves it to start the pulls.")


@router.get(f"{BASE}/{{study_id}}", response_class=HTMLResponse)
def study_page(study_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        study = service.get_study(session, study_id)
        return render(
            request,
            "rnd/stability_study.html",
            {
                "study": study,
                "pulls": service.pulls_of(session, study.id),
                "results": service.results_of(session, study.id),
                "quarantine": service.quarantine_of(session, study.id),
                "evaluations": evaluation.evaluations(session, study),
                "options": options(session, STUDY_WORKFLOW, study, actor),
                "signatures": signatures_of(session, study),
                "transition_base": f"/records/stability_study/{study.id}/transitions",
                "condition_label": condition_label,
                "sample_id": sample_id,
            },
        )


@router.get(f"{BASE}/pulls/{{pull_id}}")
def pull_page(pull_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    actor.require("stability.read", "read stability studies")
    with transaction(request, write=False) as session:
        study_id = service.get_pull(session, pull_id).study_id
    return RedirectResponse(f"{BASE}/{study_id}#stability-pulls", status_code=303)


@router.post(f"{BASE}/{{study_id}}/results")
def record_results(
    study_id: RecordId,
    request: Request,
    actor: ActorDep,
    results: Annotated[str, Form(max_length=200_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        outcome = service.record_results(
            session, actor=actor, study_id=study_id, results=parse_results(results)
        )
        stored, held = len(outcome.stored), [q.reason for q in outcome.quarantined]
        flagged = sum(1 for r in outcome.stored if r.oos or r.oot_reason)
    message = f"{stored} result{'s' if stored != 1 else ''} recorded"
    if flagged:
        message += f", {flagged} out of specification or trend (QA has a task)"
    if held:
        message += f"; {len(held)} quarantined: {held[0]}" + (" …" if len(held) > 1 else "")
    return _back(f"{BASE}/{study_id}", message + ".", "info" if held or flagged else "success")


@router.post(f"{BASE}/{{study_id}}/pulls")
def record_pull(
    study_id: RecordId,
    request: Request,
    actor: ActorDep,
    condition: Annotated[str, Form(max_length=20)],
    months: Annotated[float, Form(ge=0, le=120)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.record_pull(
            session, actor=actor, study_id=study_id, condition=condition, months=months
        )
    return _back(f"{BASE}/{study_id}", f"Pull at {condition}, {months:g} months recorded.")
