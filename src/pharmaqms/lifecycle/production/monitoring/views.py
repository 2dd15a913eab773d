"""Process monitoring pages: the overview (every parameter and T² group with its state), the live
control chart of a parameter (refreshing itself: ``monitoring.js`` polls the page's ``/live``
endpoint and swaps in the new chart when the stamp changes), a parameter's limits (estimate from
a reference, approve with a signature), the T² chart of a group, and the alerts with their
acknowledge and escalate buttons. Thin: every change goes through the monitoring services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.registers import (
    Column,
    Register,
    distinct_options,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import from_form, local, reader_zone
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.production.monitoring import alerts, capability, chart, limits, service
from pharmaqms.lifecycle.production.monitoring.models import (
    AlertStatus,
    MonitoredParameter,
    MultivariateGroup,
    ParameterClass,
    ProcessAlert,
)
from pharmaqms.lifecycle.production.monitoring.svg import embedded
from pharmaqms.lifecycle.production.monitoring.workflow import (
    ALERT_WORKFLOW,
    ALERTABLE_ROLES,
    GROUP_LIMITS_WORKFLOW,
    GROUP_WORKFLOW,
    LIMITS_WORKFLOW,
    PARAMETER_WORKFLOW,
)
from pharmaqms.lifecycle.production.spc import ChartKind, RuleSet, rules_of
from pharmaqms.platform.masterdata.models import Lot, LotKind
from pharmaqms.quality.deviations.models import Deviation

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/production/monitoring"

add(NavItem("Production", "Process monitoring (SPC)", BASE, "records.read", 35))
add(NavItem("Production", "SPC alerts", f"{BASE}/alerts", "records.read", 36))

AUDIT_ON_PAGE = 50
CAPABILITY_DAYS = 90
TREND_MONTHS = 12
REFERENCE_LOTS = 60
# Points a chart shows for a date range (the live chart shows chart.CHART_POINTS).
RANGE_POINTS = 500
AROUND_ALERT = timedelta(hours=6)


def _utc(value: str, field: str) -> datetime | None:
    """A datetime-local field, read in the reader's time zone and stored UTC."""
    return from_form(value, field)


def _number(value: str, field: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number", field=field) from None


def _audit(session: Session, record: GxPRecord) -> dict[str, Any]:
    trail = AuditFilter(record_type=record.__audit_type__, record_id=record.id)
    return {
        "audit_entries": find_entries(session, trail, limit=AUDIT_ON_PAGE),
        "audit_total": count_entries(session, trail),
        "audit_url": "/audit?"
        + urlencode({"record_type": record.__audit_type__, "record_id": record.id}),
        "csv_url": f"/api/v1/records/{record.__audit_type__}/{record.id}/audit?format=csv",
    }


def _open_by_parameter(session: Session) -> dict[int | None, int]:
    rows = session.execute(
        select(ProcessAlert.parameter_id, func.count())
        .where(ProcessAlert.status == AlertStatus.OPEN, ProcessAlert.parameter_id.is_not(None))
        .group_by(ProcessAlert.parameter_id)
    )
    return {parameter_id: int(count) for parameter_id, count in rows}


def _open_by_group(session: Session) -> dict[int | None, int]:
    rows = session.execute(
        select(ProcessAlert.group_id, func.count())
        .where(ProcessAlert.status == AlertStatus.OPEN, ProcessAlert.group_id.is_not(None))
        .group_by(ProcessAlert.group_id)
    )
    return {group_id: int(count) for group_id, count in rows}


def _state(
    record: MonitoredParameter | MultivariateGroup, has_limits: bool, open_alerts: int
) -> tuple[str, str, str]:
    """(state, label, badge tone) shown on the overview."""
    if record.status == "suspended":
        return "suspended", "suspended", "muted"
    if not has_limits:
        return "no_limits", "no approved limits", "warning"
    if open_alerts:
        return "alert_open", f"{open_alerts} alert(s) open", "negative"
    return "in_control", "in control", "positive"


# --- overview -------------------------------------------------------------------------------


@router.get(BASE, response_class=HTMLResponse)
def overview(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read process monitoring")
    with transaction(request) as session:
        open_p, open_g = _open_by_parameter(session), _open_by_group(session)
        rows = []
        for parameter in service.list_parameters(session):
            in_force = limits.limits_in_force(session, parameter.id)
            view = chart.parameter_chart(session, parameter, count=1)
            latest = view.points[-1] if view.points else None
            rows.append(
                {
                    "parameter": parameter,
                    "limits": in_force,
                    "latest": latest,
                    "latest_batch": view.lots.get(latest.batch_id, "") if latest else "",
                    "state": _state(parameter, in_force is not None, open_p.get(parameter.id, 0)),
                }
            )
        groups = [
            {
                "group": group,
                "limits": limits.group_limits_in_force(session, group.id),
                "parameters": service.group_parameters(session, group),
                "state": _state(
                    group,
                    limits.group_limits_in_force(session, group.id) is not None,
                    open_g.get(group.id, 0),
                ),
            }
            for group in service.list_groups(session)
        ]
        return render(
            request,
            "monitoring/overview.html",
            {
                "rows": rows,
                "groups": groups,
                "open_total": sum(open_p.values()) + sum(open_g.values()),
                "can_configure": actor.can("spc.configure"),
                "chart_kinds": [k.value for k in ChartKind],
                "classes": [c.value for c in ParameterClass],
                "alertable": sorted(ALERTABLE_ROLES),
                "parameters": [r["parameter"] for r in rows],
            },
        )


@router.post(f"{BASE}/parameters")
def define_parameter(
    request: Request,
    actor: ActorDep,
    product_code: Annotated[str, Form(max_length=40)],
    parameter: Annotated[str, Form(max_length=80)],
    classification: Annotated[str, Form(max_length=10)],
    chart_kind: Annotated[str, Form(max_length=10)],
    unit_procedure: Annotated[str, Form(max_length=80)] = "",
    operation: Annotated[str, Form(max_length=80)] = "",
    phase: Annotated[str, Form(max_length=80)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=20)] = "",
    subgroup_size: Annotated[int, Form(ge=1, le=25)] = 1,
    lsl: Annotated[str, Form(max_length=40)] = "",
    usl: Annotated[str, Form(max_length=40)] = "",
    alert_roles: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        record = service.define_parameter(
            session,
            actor=actor,
            product_code=product_code,
            unit_procedure=unit_procedure,
            operation=operation,
            phase=phase,
            parameter=parameter,
            title=title,
            unit=unit,
            classification=classification,
            chart_kind=chart_kind,
            subgroup_size=subgroup_size,
            lsl=_number(lsl, "lsl"),
            usl=_number(usl, "usl"),
            alert_roles=alert_roles or list(service.DEFAULT_ALERT_ROLES),
        )
        session.flush()
        url, number = f"{BASE}/parameters/{record.id}/limits", record.number
    return redirect(url, f"{number}: monitored. Estimate its control limits next.")


@router.post(f"{BASE}/groups")
def define_group(
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=200)],
    parameter_ids: Annotated[list[int] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        group = service.define_group(
            session, actor=actor, title=title, parameter_ids=parameter_ids or []
        )
        session.flush()
        url, number = f"{BASE}/groups/{group.id}", group.number
    return redirect(url, f"{number}: T² group defined. Estimate its limits next.")


# --- one parameter --------------------------------------------------------------------------


def _alert_rows(session: Session, found: Sequence[ProcessAlert]) -> list[dict[str, Any]]:
    lots = {
        lot.id: lot.lot_number
        for lot in session.scalars(select(Lot).where(Lot.id.in_({a.batch_id for a in found})))
    }
    deviations = {
        d.id: d.number
        for d in session.scalars(
            select(Deviation).where(
                Deviation.id.in_({a.deviation_id for a in found if a.deviation_id})
            )
        )
    }
    return [
        {
            "alert": a,
            "batch": lots.get(a.batch_id, ""),
            "deviation": deviations.get(a.deviation_id) if a.deviation_id else None,
            "deviation_url": _deviation_url(a.deviation_id) if a.deviation_id else None,
        }
        for a in found
    ]


def _deviation_url(deviation_id: int) -> str:
    registered = RECORD_TYPES.get("deviation")
    if registered is not None and registered.detail_url is not None:
        return registered.detail_url(SimpleNamespace(id=deviation_id))
    return f"/records/deviation/{deviation_id}"


def _wall(moment: datetime | None) -> str:
    """A UTC instant as a ``datetime-local`` field shows it: the reader's wall clock."""
    return local(moment).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


@router.get(f"{BASE}/parameters/{{parameter_id}}", response_class=HTMLResponse)
def parameter_page(
    parameter_id: int,
    request: Request,
    actor: ActorDep,
    start: str = Query(default="", max_length=40, alias="from"),
    end: str = Query(default="", max_length=40, alias="to"),
) -> HTMLResponse:
    """The chart of the latest points, refreshing itself; or, with a date range (read in the
    reader's zone), the points measured in it, as they stand."""
    actor.require("records.read", "read control charts")
    since, until = _utc(start, "from"), _utc(end, "to")
    if since is not None and until is not None and until <= since:
        raise InvalidInput("the end of the date range must come after its start", field="to")
    ranged = since is not None or until is not None
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        view = chart.parameter_chart(
            session,
            parameter,
            count=RANGE_POINTS if ranged else chart.CHART_POINTS,
            start=since,
            end=until,
        )
        now = clock.now()
        return render(
            request,
            "monitoring/parameter.html",
            {
                "parameter": parameter,
                "view": view,
                "svg": embedded(chart.parameter_svg(view)),
                "stamp": chart.parameter_stamp(session, parameter),
                "live_url": f"{BASE}/parameters/{parameter.id}/live",
                "range": {"from": _wall(since), "to": _wall(until), "set": ranged},
                "range_points": RANGE_POINTS,
                "alerts": _alert_rows(
                    session, alerts.list_alerts(session, parameter_id=parameter.id, limit=20)
                ),
                "capability": capability.capability(
                    session, parameter.id, start=now - timedelta(days=CAPABILITY_DAYS), end=now
                ),
                "capability_days": CAPABILITY_DAYS,
                "trend": capability.capability_trend(session, parameter.id, TREND_MONTHS),
                "rules": rules_of(RuleSet(parameter.rule_set)),
                "rule_sets": [r.value for r in RuleSet],
                "alertable": sorted(ALERTABLE_ROLES),
                "can_configure": actor.can("spc.configure"),
                "options": options(session, PARAMETER_WORKFLOW, parameter, actor),
                "workflow": PARAMETER_WORKFLOW,
                "alert_workflow": ALERT_WORKFLOW,
                **_audit(session, parameter),
            },
        )


def _changed(
    session: Session, stamp: str, svg: str, open_alerts: int, found: Sequence[ProcessAlert]
) -> JSONResponse:
    return JSONResponse(
        {
            "stamp": stamp,
            "changed": True,
            "svg": svg,
            "open_alerts": open_alerts,
            "alerts": [
                {
                    **row["alert"].snapshot(),
                    "url": f"{BASE}/alerts/{row['alert'].id}",
                    "batch": row["batch"],
                }
                for row in _alert_rows(session, found)
            ],
        }
    )


@router.get(f"{BASE}/parameters/{{parameter_id}}/live")
def parameter_live(
    parameter_id: int,
    request: Request,
    actor: ActorDep,
    since: str = Query(default="", max_length=200),
) -> JSONResponse:
    """What the chart page polls: the stamp, and when it changed, the new chart and alerts."""
    actor.require("records.read", "read control charts")
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        stamp = chart.parameter_stamp(session, parameter)
        if stamp == since:
            return JSONResponse({"stamp": stamp, "changed": False})
        view = chart.parameter_chart(session, parameter)
        found = alerts.list_alerts(session, parameter_id=parameter.id, limit=20)
        return _changed(
            session, stamp, embedded(chart.parameter_svg(view)), view.open_alerts, found
        )


@router.get(f"{BASE}/parameters/{{parameter_id}}/chart.svg")
def parameter_svg(parameter_id: int, request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read control charts")
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        svg = chart.parameter_svg(chart.parameter_chart(session, parameter))
    return Response(svg, media_type="image/svg+xml")


@router.post(f"{BASE}/parameters/{{parameter_id}}/configuration")
def configure_parameter(
    parameter_id: int,
    request: Request,
    actor: ActorDep,
    reason: Annotated[str, Form(max_length=2000)],
    rule_set: Annotated[str, Form(max_length=20)],
    rules: Annotated[list[int] | None, Form()] = None,
    lsl: Annotated[str, Form(max_length=40)] = "",
    usl: Annotated[str, Form(max_length=40)] = "",
    target: Annotated[str, Form(max_length=40)] = "",
    alert_roles: Annotated[list[str] | None, Form()] = None,
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        parameter = service.configure_parameter(
            session,
            actor=actor,
            parameter_id=parameter_id,
            reason=reason,
            rule_set=rule_set,
            rules=rules or [],
            lsl=_number(lsl, "lsl"),
            usl=_number(usl, "usl"),
            target=_number(target, "target"),
            alert_roles=alert_roles or [],
            expected_version=expected_version,
        )
        number = parameter.number
    return redirect(f"{BASE}/parameters/{parameter_id}", f"{number}: configuration saved.")


# --- limits ---------------------------------------------------------------------------------


def _reference_lots(session: Session, product_code: str) -> list[Lot]:
    return list(
        session.scalars(
            select(Lot)
            .where(Lot.kind == LotKind.FINISHED, Lot.item_code == product_code)
            .order_by(Lot.manufacturing_ended_at.desc(), Lot.id.desc())
            .limit(REFERENCE_LOTS)
        )
    )


@router.get(f"{BASE}/parameters/{{parameter_id}}/limits", response_class=HTMLResponse)
def limits_page(parameter_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read control limits")
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        revisions = limits.limits_of(session, parameter.id)
        return render(
            request,
            "monitoring/limits.html",
            {
                "parameter": parameter,
                "revisions": [
                    {
                        "limits": r,
                        "signatures": signatures_of(session, r),
                        "options": options(session, LIMITS_WORKFLOW, r, actor),
                    }
                    for r in revisions
                ],
                "workflow": LIMITS_WORKFLOW,
                "lots": _reference_lots(session, parameter.product_code),
                "can_estimate": actor.can("spc.estimate"),
                "estimate_url": f"{BASE}/parameters/{parameter.id}/limits",
                "back_url": f"{BASE}/parameters/{parameter.id}",
                "subject": parameter,
            },
        )


@router.post(f"{BASE}/parameters/{{parameter_id}}/limits")
def estimate_limits(
    parameter_id: int,
    request: Request,
    actor: ActorDep,
    batches: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        draft = limits.estimate_limits(
            session,
            actor=actor,
            parameter_id=parameter_id,
            batches=batches or [],
            start=_utc(start, "start"),
            end=_utc(end, "end"),
        )
        session.flush()
        number = draft.number
    return redirect(
        f"{BASE}/parameters/{parameter_id}/limits",
        f"{number}: limits estimated; QA approves them with a signature.",
    )


# --- T² groups ------------------------------------------------------------------------------


@router.get(f"{BASE}/groups/{{group_id}}", response_class=HTMLResponse)
def group_page(group_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read T² charts")
    with transaction(request) as session:
        group = service.get_group(session, group_id)
        view = chart.group_chart(session, group)
        return render(
            request,
            "monitoring/group.html",
            {
                "group": group,
                "view": view,
                "svg": embedded(chart.group_svg(view)),
                "stamp": chart.group_stamp(session, group),
                "live_url": f"{BASE}/groups/{group.id}/live",
                "parameters": service.group_parameters(session, group),
                "revisions": [
                    {
                        "limits": r,
                        "signatures": signatures_of(session, r),
                        "options": options(session, GROUP_LIMITS_WORKFLOW, r, actor),
                    }
                    for r in limits.group_limits_of(session, group.id)
                ],
                "alerts": _alert_rows(
                    session, alerts.list_alerts(session, group_id=group.id, limit=20)
                ),
                "lots": _reference_lots(session, group.product_code),
                "can_estimate": actor.can("spc.estimate"),
                "estimate_url": f"{BASE}/groups/{group.id}/limits",
                "options": options(session, GROUP_WORKFLOW, group, actor),
                "workflow": GROUP_WORKFLOW,
                "limits_workflow": GROUP_LIMITS_WORKFLOW,
                "alert_workflow": ALERT_WORKFLOW,
                **_audit(session, group),
            },
        )


@router.get(f"{BASE}/groups/{{group_id}}/live")
def group_live(
    group_id: int,
    request: Request,
    actor: ActorDep,
    since: str = Query(default="", max_length=200),
) -> JSONResponse:
    actor.require("records.read", "read T² charts")
    with transaction(request) as session:
        group = service.get_group(session, group_id)
        stamp = chart.group_stamp(session, group)
        if stamp == since:
            return JSONResponse({"stamp": stamp, "changed": False})
        view = chart.group_chart(session, group)
        found = alerts.list_alerts(session, group_id=group.id, limit=20)
        return _changed(session, stamp, embedded(chart.group_svg(view)), view.open_alerts, found)


@router.post(f"{BASE}/groups/{{group_id}}/limits")
def estimate_group_limits(
    group_id: int,
    request: Request,
    actor: ActorDep,
    batches: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        draft = limits.estimate_group_limits(
            session,
            actor=actor,
            group_id=group_id,
            batches=batches or [],
            start=_utc(start, "start"),
            end=_utc(end, "end"),
        )
        session.flush()
        number = draft.number
    return redirect(
        f"{BASE}/groups/{group_id}", f"{number}: T² limits estimated; QA approves them."
    )


# --- alerts ---------------------------------------------------------------------------------


ALERT_BATCH = (
    select(Lot.lot_number).where(Lot.id == ProcessAlert.batch_id).correlate_except(Lot)
).scalar_subquery()

ALERT_REGISTER = Register(
    name="spc-alerts",
    title="SPC alerts",
    query=lambda _session, _actor: select(ProcessAlert),
    columns=(
        Column("number", "Alert", lambda r: r["alert"].number, ProcessAlert.number),
        Column("raised", "Raised (UTC)", lambda r: r["alert"].created_at, ProcessAlert.created_at),
        Column(
            "parameter", "Parameter", lambda r: r["alert"].subject, ProcessAlert.subject, "text"
        ),
        Column("batch", "Batch", lambda r: r["batch"], ALERT_BATCH, "text"),
        Column(
            "rule",
            "Rule",
            lambda r: r["alert"].rule_name,
            ProcessAlert.rule_name,
            "choice",
            distinct_options(ProcessAlert.rule_name),
        ),
        Column(
            "point",
            "Point measured",
            lambda r: r["alert"].measured_at,
            ProcessAlert.measured_at,
        ),
        Column("value", "Value", lambda r: r["alert"].value, ProcessAlert.value),
        Column(
            "status",
            "Status",
            lambda r: r["alert"].status,
            ProcessAlert.status,
            "choice",
            fixed_options(list(ALERT_WORKFLOW.states), ALERT_WORKFLOW.state_label),
            # Open alerts unless another status (or "any") is asked for.
            filter_default="open",
        ),
        Column(
            "answer",
            "Answer",
            lambda r: " ".join(x for x in (r["alert"].acknowledgement, r["deviation"]) if x),
        ),
    ),
    default_sort="-raised",
    tiebreak=ProcessAlert.id,
    enrich=_alert_rows,
)


def _back_to(request: Request) -> str:
    """Where an acknowledgement returns: this page as filtered and sorted (within the form's
    300 characters; else the register unfiltered)."""
    here = request.url.path + ("?" + request.url.query if request.url.query else "")
    return here if len(here) <= 300 else request.url.path


@router.get(f"{BASE}/alerts", response_class=HTMLResponse)
def alert_list(request: Request, actor: ActorDep) -> Response:
    actor.require("records.read", "read SPC alerts")
    return register_response(
        request,
        actor,
        ALERT_REGISTER,
        "monitoring/alerts.html",
        lambda _session: {
            "back": _back_to(request),
            "workflow": ALERT_WORKFLOW,
            "can_respond": actor.can("spc.respond"),
            "can_escalate": actor.has_role(*ALERT_WORKFLOW.transition("escalate").roles),
        },
    )


@router.get(f"{BASE}/alerts/{{alert_id}}", response_class=HTMLResponse)
def alert_page(alert_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read SPC alerts")
    with transaction(request) as session:
        alert = alerts.get_alert(session, alert_id)
        [row] = _alert_rows(session, [alert])
        return render(
            request,
            "monitoring/alert.html",
            {
                "row": row,
                "alert": alert,
                "workflow": ALERT_WORKFLOW,
                "options": options(session, ALERT_WORKFLOW, alert, actor),
                "chart_url": f"{BASE}/parameters/{alert.parameter_id}"
                if alert.parameter_id
                else f"{BASE}/groups/{alert.group_id}",
                "point": alerts.point_text(alert.measured_at, alert.value, reader_zone()),
                # The parameter's chart over the hours around the point.
                "around": urlencode(
                    {
                        "from": _wall(alert.measured_at - AROUND_ALERT),
                        "to": _wall(alert.measured_at + AROUND_ALERT),
                    }
                )
                if alert.parameter_id
                else "",
                **_audit(session, alert),
            },
        )


@router.post(f"{BASE}/alerts/{{alert_id}}/acknowledge")
def acknowledge(
    alert_id: int,
    request: Request,
    actor: ActorDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    next_url: Annotated[str, Form(alias="next", max_length=300)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        alert = alerts.acknowledge_alert(
            session,
            actor=actor,
            alert_id=alert_id,
            comment=comment,
            expected_version=expected_version,
        )
        number = alert.number
    back = next_url if next_url.startswith(f"{BASE}/") else f"{BASE}/alerts/{alert_id}"
    return redirect(back, f"{number}: acknowledged.")


@router.post(f"{BASE}/alerts/{{alert_id}}/escalate")
def escalate(
    alert_id: int,
    request: Request,
    actor: ActorDep,
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        deviation = alerts.escalate_alert(
            session,
            actor=actor,
            alert_id=alert_id,
            comment=comment,
            expected_version=expected_version,
        )
        number = deviation.number
        alert_number = alerts.get_alert(session, alert_id).number
    return redirect(
        f"{BASE}/alerts/{alert_id}", f"{alert_number}: escalated, deviation {number} raised."
    )
