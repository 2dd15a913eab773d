"""Recipe and transfer pages: the recipes (and the form that writes one), a recipe with its
formula, process, critical quality attributes, QA's approval and its transfers into production
(raise one; implement it once its change is approved). Thin: every change goes through the
transfer services. The forms take one item a line, ``;`` between the fields, as the stability
protocol form does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.rnd.eln import service as notebook
from pharmaqms.lifecycle.rnd.gates import service as gates
from pharmaqms.lifecycle.rnd.gates.panels import ProjectPanel, register_project_panel
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.lifecycle.rnd.transfer.recipe import shown_range
from pharmaqms.lifecycle.rnd.transfer.workflow import RECIPE_WORKFLOW

BASE = "/rnd/recipes"
router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("R&D", "Recipes and transfer", BASE, "rnd.read", 25))


def _project_transfers(session: Session, project_id: int, actor: Actor) -> ProjectPanel | None:
    """The project's transfers on its gate page; the recipes are notebook content, shown to
    those who read the notebook."""
    if not actor.can("rnd.read"):
        return None
    found = service.transfers(session, project_id=project_id)
    if not found:
        return None
    return ProjectPanel(
        "rnd/transfer/_project_panel.html",
        {"transfers": [service.transfer_view(session, t) for t in found]},
    )


register_project_panel("technology_transfer", _project_transfers)


def _back(url: str, message: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    set_flash(response, "success", message)
    return response


def _lines(text: str, field: str, width: tuple[int, int]) -> list[tuple[int, list[str]]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if not width[0] <= len(parts) <= width[1]:
            raise InvalidInput(
                f"{field}, line {number}: {width[0]} to {width[1]} fields separated by ';'",
                field=field,
            )
        found.append((number, parts + [""] * (width[1] - len(parts))))
    return found


def parse_formula(text: str) -> list[dict[str, Any]]:
    """``M-IBU-API; 20; kg; 0.5`` per line: material, quantity per batch, unit, tolerance %."""
    return [
        {
            "material_code": p[0],
            "quantity": p[1],
            "unit": p[2],
            "tolerance_percent": p[3] or 0,
        }
        for _, p in _lines(text, "formula", (3, 4))
    ]


def parse_steps(text: str, parameters: str, controls: str) -> list[dict[str, Any]]:
    """Steps ``Unit procedure; Operation; Title; minutes; equipment, …; instructions``;
    parameters and controls ``step number; name; unit; low; high``."""
    steps: list[dict[str, Any]] = []
    for number, p in _lines(text, "steps", (6, 6)):
        minutes = p[3]
        if not minutes.isdecimal():
            raise InvalidInput(
                f"steps, line {number}: the minutes as a whole number", field="steps"
            )
        steps.append(
            {
                "unit_procedure": p[0],
                "operation": p[1],
                "title": p[2],
                "target_minutes": int(minutes),
                "equipment": [e.strip() for e in p[4].split(",") if e.strip()],
                "instructions": p[5],
                "parameters": [],
                "in_process_controls": [],
            }
        )
    for field, text_of, key in (
        ("parameters", parameters, "parameters"),
        ("controls", controls, "in_process_controls"),
    ):
        for number, p in _lines(text_of, field, (4, 5)):
            if not p[0].isdecimal() or not 1 <= int(p[0]) <= len(steps):
                raise InvalidInput(
                    f"{field}, line {number}: the step number (1 to {len(steps)}) first",
                    field=field,
                )
            steps[int(p[0]) - 1][key].append(
                {"name": p[1], "unit": p[2], "low": p[3] or None, "high": p[4] or None}
            )
    return steps


def parse_attributes(text: str) -> list[dict[str, Any]]:
    """``ASSAY; Assay; %; 95; 105; HPLC`` per line (an empty limit: none on that side)."""
    return [
        {
            "code": p[0],
            "name": p[1],
            "unit": p[2],
            "lower": p[3] or None,
            "upper": p[4] or None,
            "method": p[5],
        }
        for _, p in _lines(text, "attributes", (4, 6))
    ]


@router.get(BASE, response_class=HTMLResponse)
def recipes_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("rnd.read", "read development recipes")
    with transaction(request, write=False) as session:
        planned = {p.project_id for p in gates.plans(session)}
        return render(
            request,
            "rnd/transfer/recipes.html",
            {
                "recipes": service.recipes(session),
                "projects": {p.id: p for p in notebook.projects(session)},
                "planned": [p for p in notebook.projects(session) if p.id in planned],
            },
        )


@router.post(BASE)
def define_recipe(
    request: Request,
    actor: ActorDep,
    project_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    title: Annotated[str, Form(max_length=300)],
    batch_size: Annotated[str, Form(max_length=40)],
    batch_unit: Annotated[str, Form(max_length=20)],
    formula: Annotated[str, Form(max_length=20_000)],
    steps: Annotated[str, Form(max_length=100_000)],
    attributes: Annotated[str, Form(max_length=20_000)],
    parameters: Annotated[str, Form(max_length=20_000)] = "",
    controls: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        recipe = service.define_recipe(
            session,
            actor=actor,
            project_id=project_id,
            title=title,
            batch_size=batch_size,  # checked as a number by the service
            batch_unit=batch_unit,
            formula=parse_formula(formula),
            steps=parse_steps(steps, parameters, controls),
            attributes=parse_attributes(attributes),
        )
        session.flush()
        recipe_id, number = recipe.id, recipe.number
    return _back(f"{BASE}/{recipe_id}", f"{number} written: QA approves it.")


@router.get(f"{BASE}/{{recipe_id}}", response_class=HTMLResponse)
def recipe_page(recipe_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("rnd.read", "read development recipes")
    with transaction(request, write=False) as session:
        recipe = service.get_recipe(session, recipe_id)
        return render(
            request,
            "rnd/transfer/recipe.html",
            {
                "recipe": recipe,
                "project": gates.get_project(session, recipe.project_id),
                "revisions": [r for r in service.recipes(session) if r.family == recipe.family],
                "transfers": [
                    service.transfer_view(session, t)
                    for t in service.transfers(session, recipe_id=recipe.id)
                ],
                "options": options(session, RECIPE_WORKFLOW, recipe, actor),
                "signatures": signatures_of(session, recipe),
                "transition_base": f"/records/rnd_recipe/{recipe.id}/transitions",
                "shown_range": shown_range,
            },
        )


@router.post(f"{BASE}/{{recipe_id}}/revisions")
def revise_recipe(
    recipe_id: RecordId,
    request: Request,
    actor: ActorDep,
    change_summary: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        revised = service.revise_recipe(
            session, actor=actor, recipe_id=recipe_id, change_summary=change_summary
        )
        session.flush()
        revised_id, number = revised.id, revised.number
    return _back(f"{BASE}/{revised_id}", f"{number} drafted.")


@router.post(f"{BASE}/{{recipe_id}}/transfers")
def raise_transfer(
    recipe_id: RecordId,
    request: Request,
    actor: ActorDep,
    market: Annotated[str, Form(max_length=40)],
    justification: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        transfer = service.raise_transfer(
            session,
            actor=actor,
            recipe_id=recipe_id,
            market=market,
            justification=justification,
        )
        session.flush()
        change_number = service.transfer_view(session, transfer).change.number
    return _back(f"{BASE}/{recipe_id}", f"Technology transfer raised as {change_number}.")


@router.post("/rnd/transfers/{transfer_id}/implementation")
def implement_transfer(
    transfer_id: RecordId,
    request: Request,
    actor: ActorDep,
    governing_sops: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        transfer = service.implement_transfer(
            session,
            actor=actor,
            transfer_id=transfer_id,
            governing_sops=[s for s in governing_sops.replace(";", ",").split(",")],
        )
        recipe_id = transfer.recipe_id
        drafted = ", ".join(d["number"] for d in transfer.drafts)
    return _back(f"{BASE}/{recipe_id}", f"Production drafted {drafted}.")
