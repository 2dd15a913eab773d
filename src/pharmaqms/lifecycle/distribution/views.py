"""Cold-chain pages: the alarm board (register with unacknowledged and overdue flags, and the
excursions), an alarm with its acknowledge / assess / close forms, and the temperature curve of
each zone or shipment. Thin: every change goes through the alarm services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.distribution import alarms, board, excursions, kpi
from pharmaqms.lifecycle.distribution.curve import curve_svg
from pharmaqms.lifecycle.distribution.models import AlarmStatus

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/distribution"

add(NavItem("Distribution", "Cold-chain alarms", f"{BASE}/alarms", "records.read", 10))
add(NavItem("Distribution", "Temperature curves", f"{BASE}/curves", "records.read", 20))
add(NavItem("Distribution", "Distribution KPIs", f"{BASE}/kpi", "records.read", 70))


@router.get(f"{BASE}/alarms", response_class=HTMLResponse)
def alarm_board(
    request: Request,
    actor: ActorDep,
    status: str = Query(default="open", max_length=20),
) -> HTMLResponse:
    actor.require("records.read", "read cold-chain alarms")
    with transaction(request) as session:
        rows = board.board(session, status=status)
        counts = {
            "unacknowledged": sum(1 for r in rows if r.unacknowledged),
            "overdue": sum(1 for r in rows if r.overdue),
        }
        return render(
            request,
            "distribution/alarms.html",
            {
                "rows": rows,
                "status": status,
                "counts": counts,
                "excursions": excursions.list_excursions(session, limit=100),
            },
        )


@router.get(f"{BASE}/alarms/{{alarm_id}}", response_class=HTMLResponse)
def alarm_page(alarm_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read cold-chain alarms")
    with transaction(request) as session:
        alarm = alarms.get_alarm(session, alarm_id)
        overdue = alarm.status == AlarmStatus.RAISED and alarm.acknowledge_due_at < clock.now()
        return render(request, "distribution/alarm.html", {"alarm": alarm, "overdue": overdue})


def _answer(
    verb: str, alarm_id: int, request: Request, actor: Actor, comment: str, version: int | None
) -> RedirectResponse:
    with transaction(request) as session:
        if verb == "acknowledge":
            alarm = alarms.acknowledge_alarm(
                session, actor=actor, alarm_id=alarm_id, comment=comment, expected_version=version
            )
        elif verb == "assess":
            alarm = alarms.assess_alarm(
                session,
                actor=actor,
                alarm_id=alarm_id,
                assessment=comment,
                expected_version=version,
            )
        else:
            alarm = alarms.close_alarm(
                session, actor=actor, alarm_id=alarm_id, comment=comment, expected_version=version
            )
        number = alarm.number
    response = RedirectResponse(f"{BASE}/alarms/{alarm_id}", status_code=303)
    set_flash(response, "success", f"{number}: {alarm.status}.")
    return response


@router.post(f"{BASE}/alarms/{{alarm_id}}/acknowledge")
def acknowledge(
    alarm_id: int,
    request: Request,
    actor: ActorDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    return _answer("acknowledge", alarm_id, request, actor, comment, expected_version)


@router.post(f"{BASE}/alarms/{{alarm_id}}/assess")
def assess(
    alarm_id: int,
    request: Request,
    actor: ActorDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    return _answer("assess", alarm_id, request, actor, comment, expected_version)


@router.post(f"{BASE}/alarms/{{alarm_id}}/close")
def close(
    alarm_id: int,
    request: Request,
    actor: ActorDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    return _answer("close", alarm_id, request, actor, comment, expected_version)


@router.get(f"{BASE}/curves", response_class=HTMLResponse)
def curves(
    request: Request,
    actor: ActorDep,
    place: str = Query(default="", max_length=40),
    hours: float = Query(default=24.0, gt=0, le=2160),
) -> HTMLResponse:
    actor.require("records.read", "read temperature curves")
    with transaction(request) as session:
        known = board.places(session)
        chosen = place or (known[0].place_key if known else "")
        svg = None
        if chosen:
            # The SVG is built from numbers and escaped text by curve_svg.
            svg = Markup(curve_svg(board.place_curve(session, chosen, hours=hours)))  # noqa: S704
        return render(
            request,
            "distribution/curves.html",
            {"places": known, "place": chosen, "hours": int(hours), "svg": svg},
        )


@router.get(f"{BASE}/kpi", response_class=HTMLResponse)
def kpi_page(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read the distribution KPIs")
    with transaction(request) as session:
        return render(
            request,
            "distribution/kpi.html",
            {
                "rates": kpi.excursion_rate(session),
                "acknowledge": kpi.mean_time_to_acknowledge(session),
                "definitions": {
                    "rate": kpi.EXCURSION_RATE_DEFINITION,
                    "acknowledge": kpi.ACKNOWLEDGE_DEFINITION,
                },
            },
        )
