"""Deviation pages: the register (filters, overdue), reporting, and a deviation's page with its
classification, investigation (5-why, fishbone), batches, CAPA decision, extensions, links,
signatures, workflow buttons and audit trail. Thin: every change goes through the services;
workflow steps post to the generic record route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, select

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    any_contains,
    distinct_options,
    fixed_options,
    id_equals,
    register_response,
    status_in,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.quality import events
from pharmaqms.quality.capa.workflow import OWNERS as CAPA_OWNERS
from pharmaqms.quality.deviations import extensions, impact, rules, service
from pharmaqms.quality.deviations.models import (
    OPEN_STATUSES,
    BatchDisposition,
    Deviation,
    DeviationClass,
    DeviationStatus,
    RootCauseCategory,
)
from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW, INVESTIGATORS
from pharmaqms.quality.view_support import (
    lines,
    people_with,
    record_parts,
    required_utc,
)

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Quality", "Deviations", "/deviations", "records.read", 20))


def _page(deviation_id: int) -> str:
    return f"/deviations/{deviation_id}"


def _overdue(query: Select[Any], _value: Any) -> Select[Any]:
    return query.where(
        Deviation.status.in_([s.value for s in OPEN_STATUSES]),
        Deviation.due_at.is_not(None),
        Deviation.due_at < clock.now(),
    )


REGISTER = Register(
    name="deviations",
    title="Deviations",
    query=lambda _session, _actor: select(Deviation),
    columns=(
        Column("number", "Number", lambda d: d.number, Deviation.number),
        Column("title", "Title", lambda d: d.title, Deviation.title),
        Column(
            "classification",
            "Class",
            lambda d: d.classification,
            Deviation.classification,
            filter="choice",
            options=fixed_options([c.value for c in DeviationClass]),
        ),
        Column(
            "area",
            "Area",
            lambda d: d.area,
            Deviation.area,
            filter="choice",
            options=distinct_options(Deviation.area),
        ),
        Column("discovered", "Discovered", lambda d: d.discovered_at, Deviation.discovered_at),
        Column("due", "Due", lambda d: d.due_at, Deviation.due_at),
        Column(
            "status",
            "Status",
            lambda d: d.status,
            Deviation.status,
            filter="choice",
            options=fixed_options(
                [s.value for s in DeviationStatus], DEVIATION_WORKFLOW.state_label
            ),
        ),
    ),
    default_sort="-discovered",
    tiebreak=Deviation.id,
    extra_filters=(
        Filter(
            "investigator_id",
            "Investigator",
            "choice",
            id_equals(Deviation.investigator_id),
            lambda session: [(str(p.id), p.full_name) for p in people_with(session, INVESTIGATORS)],
        ),
        Filter(
            "q",
            "Search",
            "text",
            any_contains(Deviation.number, Deviation.title, Deviation.product),
            placeholder="number, title, product",
        ),
        Filter("open", "open only", "flag", status_in(Deviation.status, OPEN_STATUSES)),
        Filter("overdue", "overdue only", "flag", _overdue),
    ),
)


@router.get("/deviations", response_class=HTMLResponse)
def register(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read deviations")
    return register_response(
        request,
        actor,
        REGISTER,
        "deviations/register.html",
        lambda _session: {
            "workflow": DEVIATION_WORKFLOW,
            "open_statuses": [s.value for s in OPEN_STATUSES],
            "moment": clock.now(),
            "can_report": actor.can("deviations.report"),
        },
    )


@router.get("/deviations/new", response_class=HTMLResponse)
def new_report(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("deviations.report", "report deviations")
    return render(request, "deviations/new.html", {"moment": clock.now()})


@router.post("/deviations")
def report(
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)],
    area: Annotated[str, Form(max_length=100)],
    occurred_at: Annotated[str, Form(max_length=40)],
    discovered_at: Annotated[str, Form(max_length=40)],
    product: Annotated[str, Form(max_length=200)] = "",
    batch_ids: Annotated[str, Form(max_length=4000)] = "",
    immediate_actions: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        deviation = service.report_deviation(
            session,
            actor=actor,
            title=title,
            description=description,
            area=area,
            occurred_at=required_utc(occurred_at, "occurred_at", "the time of occurrence"),
            discovered_at=required_utc(discovered_at, "discovered_at", "the time of discovery"),
            product=product,
            batch_ids=[b for line in lines(batch_ids) for b in line.replace(",", " ").split()],
            immediate_actions=immediate_actions,
        )
        session.flush()
        target, number = _page(deviation.id), deviation.number
    return redirect(target, f"{number} reported; QA will classify it.")


@router.get("/deviations/{deviation_id}", response_class=HTMLResponse)
def deviation_page(deviation_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read deviations")
    with transaction(request) as session:
        deviation = service.get_deviation(session, deviation_id)
        parts = record_parts(
            session,
            deviation,
            DEVIATION_WORKFLOW,
            actor,
            children=(
                ("deviation_batch", [b.id for b in deviation.batches]),
                ("deviation_extension", [e.id for e in deviation.extensions]),
            ),
        )
        return render(
            request,
            "deviations/deviation.html",
            {
                **parts,
                "d": deviation,
                "overdue": rules.is_overdue(deviation.due_at, deviation.status, clock.now()),
                "is_open": deviation.status in OPEN_STATUSES,
                "classes": [c.value for c in DeviationClass],
                "categories": [c.value for c in RootCauseCategory],
                "dispositions": [d.value for d in BatchDisposition],
                "investigators": people_with(session, INVESTIGATORS),
                "capa_owners": people_with(session, CAPA_OWNERS),
                "can_manage": actor.can("deviations.manage"),
                "can_investigate": actor.can("deviations.manage")
                or deviation.investigator_id == actor.user_id,
                "can_disposition": actor.can("deviations.disposition"),
                "can_raise_capa": actor.can("capa.raise"),
                "due_days": rules.due_days_in_force(session).content,
            },
        )


@router.post("/deviations/{deviation_id}/classification")
def classify(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    classification: Annotated[str, Form(max_length=20)],
    severity: Annotated[int, Form()],
    probability: Annotated[int, Form()],
    detectability: Annotated[int, Form()],
    severity_basis: Annotated[str, Form(max_length=4000)],
    probability_basis: Annotated[str, Form(max_length=4000)],
    detectability_basis: Annotated[str, Form(max_length=4000)],
    investigator_id: Annotated[int, Form()],
    expected_version: Annotated[int | None, Form()] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        deviation = service.classify_deviation(
            session,
            actor=actor,
            deviation_id=deviation_id,
            classification=classification,
            severity=severity,
            probability=probability,
            detectability=detectability,
            severity_basis=severity_basis,
            probability_basis=probability_basis,
            detectability_basis=detectability_basis,
            investigator_id=investigator_id,
            expected_version=expected_version,
            reason=reason or None,
        )
        number, due = deviation.number, deviation.due_at
    when = f", due {due:%Y-%m-%d}" if due else ""
    return redirect(_page(deviation_id), f"{number} classified {classification}{when}.")


@router.post("/deviations/{deviation_id}/investigation")
def investigate(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    root_cause: Annotated[str, Form(max_length=20_000)] = "",
    root_cause_category: Annotated[str, Form(max_length=20)] = "",
    why_chain: Annotated[str, Form(max_length=10_000)] = "",
    man: Annotated[str, Form(max_length=4000)] = "",
    machine: Annotated[str, Form(max_length=4000)] = "",
    method: Annotated[str, Form(max_length=4000)] = "",
    material: Annotated[str, Form(max_length=4000)] = "",
    measurement: Annotated[str, Form(max_length=4000)] = "",
    environment: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    bones = {
        "man": man,
        "machine": machine,
        "method": method,
        "material": material,
        "measurement": measurement,
        "environment": environment,
    }
    with transaction(request) as session:
        deviation = service.record_investigation(
            session,
            actor=actor,
            deviation_id=deviation_id,
            expected_version=expected_version,
            root_cause=root_cause,
            root_cause_category=root_cause_category or None,
            why_chain=lines(why_chain),
            fishbone={name: lines(text) for name, text in bones.items()},
        )
        number = deviation.number
    return redirect(_page(deviation_id), f"Investigation of {number} saved.")


@router.post("/deviations/{deviation_id}/no-capa")
def no_capa(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    rationale: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        service.decide_no_capa(session, actor=actor, deviation_id=deviation_id, rationale=rationale)
    return redirect(_page(deviation_id), "'No CAPA' recorded with its rationale.")


@router.post("/deviations/{deviation_id}/capa")
def raise_capa(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)],
    problem_statement: Annotated[str, Form(max_length=20_000)],
    owner_id: Annotated[int, Form()],
    due_at: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    with transaction(request) as session:
        capa = events.open_capa(
            session,
            actor=actor,
            source_type="deviation",
            source_id=deviation_id,
            source_label=None,
            title=title,
            problem_statement=problem_statement,
            owner_id=owner_id,
            due_at=required_utc(due_at, "due_at", "the due date"),
        )
        session.flush()
        target, number = f"/capas/{capa.id}", capa.number
    return redirect(target, f"{number} raised from the deviation.")


@router.post("/deviations/{deviation_id}/batches")
def add_batch(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    batch_id: Annotated[str, Form(max_length=60)],
    product: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        batch = impact.link_batch(
            session, actor=actor, deviation_id=deviation_id, batch_id=batch_id, product=product
        )
        hold = batch.hold_status.replace("_", " ")
    return redirect(_page(deviation_id), f"Batch {batch_id} linked ({hold}).")


@router.post("/deviations/{deviation_id}/batches/{batch_ref_id}/assessment")
def assess_batch(
    deviation_id: int,
    batch_ref_id: int,
    request: Request,
    actor: ActorDep,
    impact_assessment: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        batch = impact.assess_batch(
            session,
            actor=actor,
            deviation_id=deviation_id,
            batch_ref_id=batch_ref_id,
            impact_assessment=impact_assessment,
        )
        name = batch.batch_id
    return redirect(_page(deviation_id), f"Impact on batch {name} assessed.")


@router.post("/deviations/{deviation_id}/batches/{batch_ref_id}/disposition")
def disposition(
    deviation_id: int,
    batch_ref_id: int,
    request: Request,
    actor: ActorDep,
    disposition: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        batch = impact.record_disposition(
            session,
            actor=actor,
            deviation_id=deviation_id,
            batch_ref_id=batch_ref_id,
            disposition=disposition,
            note=note,
        )
        name = batch.batch_id
    return redirect(_page(deviation_id), f"Disposition of batch {name} recorded.")


@router.post("/deviations/{deviation_id}/extensions")
def request_extension(
    deviation_id: int,
    request: Request,
    actor: ActorDep,
    requested_due_at: Annotated[str, Form(max_length=40)],
    justification: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        extensions.request_extension(
            session,
            actor=actor,
            deviation_id=deviation_id,
            requested_due_at=required_utc(requested_due_at, "requested_due_at", "the new due date"),
            justification=justification,
        )
    return redirect(_page(deviation_id), "Extension requested; QA decides.")


@router.post("/deviations/{deviation_id}/extensions/{extension_id}/decision")
def decide_extension(
    deviation_id: int,
    extension_id: int,
    request: Request,
    actor: ActorDep,
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
    reason: Annotated[str, Form(max_length=4000)],
) -> RedirectResponse:
    with transaction(request) as session:
        extension = extensions.decide_extension(
            session,
            actor=actor,
            deviation_id=deviation_id,
            extension_id=extension_id,
            approve=decision == "approve",
            reason=reason,
        )
        outcome = extension.status
    return redirect(_page(deviation_id), f"Extension {outcome}.")
