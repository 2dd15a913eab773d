"""Process monitoring API. Thin: parse, authorise, call a service, shape the answer.

Limits are approved through the generic record transitions, with the approver's signature:
``POST /api/v1/records/control_limits/<id>/transitions/approve`` (and ``multivariate_limits``).
Alerts are acknowledged and escalated here (or through the generic transitions of
``process_alert``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.lifecycle.production.http import PREFIX, signatures_out
from pharmaqms.lifecycle.production.monitoring import alerts, capability, chart, limits, service
from pharmaqms.lifecycle.production.monitoring.models import (
    ControlLimits,
    MonitoredParameter,
    MultivariateGroup,
    MultivariateLimits,
    ProcessAlert,
)
from pharmaqms.lifecycle.production.monitoring.schemas import (
    AcknowledgementIn,
    AlertOut,
    CapabilityOut,
    ChartOut,
    EscalationIn,
    GroupIn,
    GroupLimitsOut,
    GroupOut,
    IndicesOut,
    LimitsOut,
    MonthlyCapabilityOut,
    ParameterConfiguration,
    ParameterIn,
    ParameterOut,
    PointOut,
    ReferenceIn,
)
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality.deviations.models import Deviation

router = APIRouter(prefix=f"{PREFIX}/monitoring", tags=["production: process monitoring"])
SVG = "image/svg+xml"


def limits_out(session: Session, record: ControlLimits) -> LimitsOut:
    out = LimitsOut.model_validate(record)
    out.signatures = signatures_out(session, record)
    return out


def group_limits_out(session: Session, record: MultivariateLimits) -> GroupLimitsOut:
    out = GroupLimitsOut.model_validate(record)
    out.signatures = signatures_out(session, record)
    return out


def parameter_out(session: Session, parameter: MonitoredParameter) -> ParameterOut:
    out = ParameterOut.model_validate(parameter)
    in_force = limits.limits_in_force(session, parameter.id)
    out.limits_in_force = limits_out(session, in_force) if in_force else None
    out.open_alerts = len(alerts.list_alerts(session, status="open", parameter_id=parameter.id))
    return out


def group_out(session: Session, group: MultivariateGroup) -> GroupOut:
    out = GroupOut.model_validate(group)
    in_force = limits.group_limits_in_force(session, group.id)
    out.limits_in_force = group_limits_out(session, in_force) if in_force else None
    return out


def alert_out(session: Session, alert: ProcessAlert) -> AlertOut:
    out = AlertOut.model_validate(alert)
    lot = session.get(Lot, alert.batch_id)
    out.batch = lot.lot_number if lot is not None else ""
    if alert.deviation_id is not None:
        deviation = session.get(Deviation, alert.deviation_id)
        out.deviation_number = deviation.number if deviation is not None else ""
    return out


# --- parameters -----------------------------------------------------------------------------


@router.get("/parameters", response_model=list[ParameterOut])
def list_parameters(
    actor: ActorDep,
    request: Request,
    product_code: str | None = Query(default=None, max_length=40),
) -> list[ParameterOut]:
    actor.require("records.read", "read monitored parameters")
    with transaction(request) as session:
        return [
            parameter_out(session, p)
            for p in service.list_parameters(session, product_code=product_code)
        ]


@router.post("/parameters", response_model=ParameterOut, status_code=201)
def define_parameter(body: ParameterIn, actor: ActorDep, request: Request) -> ParameterOut:
    with transaction(request) as session:
        parameter = service.define_parameter(session, actor=actor, **body.model_dump())
        session.flush()
        return parameter_out(session, parameter)


@router.get("/parameters/{parameter_id}", response_model=ParameterOut)
def get_parameter(parameter_id: RecordId, actor: ActorDep, request: Request) -> ParameterOut:
    actor.require("records.read", "read monitored parameters")
    with transaction(request) as session:
        return parameter_out(session, service.get_parameter(session, parameter_id))


@router.post("/parameters/{parameter_id}/configuration", response_model=ParameterOut)
def configure_parameter(
    parameter_id: RecordId, body: ParameterConfiguration, actor: ActorDep, request: Request
) -> ParameterOut:
    with transaction(request) as session:
        parameter = service.configure_parameter(
            session, actor=actor, parameter_id=parameter_id, **body.model_dump()
        )
        session.flush()
        return parameter_out(session, parameter)


@router.post("/parameters/{parameter_id}/limits", response_model=LimitsOut, status_code=201)
def estimate_limits(
    parameter_id: RecordId, body: ReferenceIn, actor: ActorDep, request: Request
) -> LimitsOut:
    """A draft revision estimated from the reference; QA approves it with a signature."""
    with transaction(request) as session:
        draft = limits.estimate_limits(
            session,
            actor=actor,
            parameter_id=parameter_id,
            batches=body.batches,
            start=body.start,
            end=body.end,
        )
        session.flush()
        return limits_out(session, draft)


@router.get("/parameters/{parameter_id}/limits", response_model=list[LimitsOut])
def list_limits(parameter_id: RecordId, actor: ActorDep, request: Request) -> list[LimitsOut]:
    actor.require("records.read", "read control limits")
    with transaction(request) as session:
        service.get_parameter(session, parameter_id)
        return [limits_out(session, r) for r in limits.limits_of(session, parameter_id)]


@router.get("/parameters/{parameter_id}/chart", response_model=ChartOut)
def get_chart(
    parameter_id: RecordId,
    actor: ActorDep,
    request: Request,
    points: int = Query(default=chart.CHART_POINTS, ge=1, le=1000),
) -> ChartOut:
    """The recent points with the rules each breaks, and the stamp a live page polls."""
    actor.require("records.read", "read control charts")
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        view = chart.parameter_chart(session, parameter, count=points)
        return ChartOut(
            parameter_id=parameter.id,
            limits=limits_out(session, view.limits) if view.limits else None,
            points=[
                PointOut(
                    index=p.index,
                    value=p.value,
                    dispersion=p.dispersion,
                    batch=view.lots.get(p.batch_id, ""),
                    measured_at=p.measured_at,
                    rules=list(view.flags.get(p.index, ())),
                )
                for p in view.points
            ],
            open_alerts=view.open_alerts,
            stamp=chart.parameter_stamp(session, parameter),
        )


@router.get(
    "/parameters/{parameter_id}/chart.svg",
    response_class=Response,
    responses=file_responses(SVG),
)
def get_chart_svg(parameter_id: RecordId, actor: ActorDep, request: Request) -> Response:
    actor.require("records.read", "read control charts")
    with transaction(request) as session:
        parameter = service.get_parameter(session, parameter_id)
        svg = chart.parameter_svg(chart.parameter_chart(session, parameter))
    return Response(svg, media_type=SVG)


@router.get("/parameters/{parameter_id}/capability", response_model=CapabilityOut)
def get_capability(
    parameter_id: RecordId, start: datetime, end: datetime, actor: ActorDep, request: Request
) -> CapabilityOut:
    actor.require("records.read", "read process capability")
    with transaction(request) as session:
        found = capability.capability(session, parameter_id, start=start, end=end)
    indices = found.indices
    return CapabilityOut(
        start=found.start,
        end=found.end,
        readings=found.readings,
        points=found.points,
        indices=IndicesOut(
            mean=indices.mean,
            sigma_within=indices.sigma_within,
            sigma_overall=indices.sigma_overall,
            cp=indices.cp,
            cpk=indices.cpk,
            pp=indices.pp,
            ppk=indices.ppk,
            cpm=indices.cpm,
        )
        if indices
        else None,
        reason=found.reason,
    )


@router.get(
    "/parameters/{parameter_id}/capability-trend", response_model=list[MonthlyCapabilityOut]
)
def get_capability_trend(
    parameter_id: RecordId,
    actor: ActorDep,
    request: Request,
    months: int = Query(default=12, ge=1, le=capability.MAX_TREND_MONTHS),
) -> list[MonthlyCapabilityOut]:
    actor.require("records.read", "read process capability")
    with transaction(request) as session:
        trend = capability.capability_trend(session, parameter_id, months)
    return [MonthlyCapabilityOut.model_validate(month) for month in trend]


# --- T² groups ------------------------------------------------------------------------------


@router.get("/groups", response_model=list[GroupOut])
def list_groups(actor: ActorDep, request: Request) -> list[GroupOut]:
    actor.require("records.read", "read T² groups")
    with transaction(request) as session:
        return [group_out(session, g) for g in service.list_groups(session)]


@router.post("/groups", response_model=GroupOut, status_code=201)
def define_group(body: GroupIn, actor: ActorDep, request: Request) -> GroupOut:
    with transaction(request) as session:
        group = service.define_group(session, actor=actor, **body.model_dump())
        session.flush()
        return group_out(session, group)


@router.get("/groups/{group_id}", response_model=GroupOut)
def get_group(group_id: RecordId, actor: ActorDep, request: Request) -> GroupOut:
    actor.require("records.read", "read T² groups")
    with transaction(request) as session:
        return group_out(session, service.get_group(session, group_id))


@router.post("/groups/{group_id}/limits", response_model=GroupLimitsOut, status_code=201)
def estimate_group_limits(
    group_id: RecordId, body: ReferenceIn, actor: ActorDep, request: Request
) -> GroupLimitsOut:
    with transaction(request) as session:
        draft = limits.estimate_group_limits(
            session,
            actor=actor,
            group_id=group_id,
            batches=body.batches,
            start=body.start,
            end=body.end,
        )
        session.flush()
        return group_limits_out(session, draft)


@router.get("/groups/{group_id}/chart.svg", response_class=Response, responses=file_responses(SVG))
def get_group_svg(group_id: RecordId, actor: ActorDep, request: Request) -> Response:
    actor.require("records.read", "read control charts")
    with transaction(request) as session:
        group = service.get_group(session, group_id)
        svg = chart.group_svg(chart.group_chart(session, group))
    return Response(svg, media_type=SVG)


# --- alerts ---------------------------------------------------------------------------------


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=20),
    parameter_id: RecordId | None = None,
    group_id: RecordId | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AlertOut]:
    actor.require("records.read", "read SPC alerts")
    with transaction(request) as session:
        return [
            alert_out(session, a)
            for a in alerts.list_alerts(
                session, status=status, parameter_id=parameter_id, group_id=group_id, limit=limit
            )
        ]


@router.get("/alerts/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: RecordId, actor: ActorDep, request: Request) -> AlertOut:
    actor.require("records.read", "read SPC alerts")
    with transaction(request) as session:
        return alert_out(session, alerts.get_alert(session, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(
    alert_id: RecordId, body: AcknowledgementIn, actor: ActorDep, request: Request
) -> AlertOut:
    with transaction(request) as session:
        alert = alerts.acknowledge_alert(
            session,
            actor=actor,
            alert_id=alert_id,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return alert_out(session, alert)


@router.post("/alerts/{alert_id}/escalate", response_model=AlertOut)
def escalate(alert_id: RecordId, body: EscalationIn, actor: ActorDep, request: Request) -> AlertOut:
    """Raise a deviation from the alert in one step; the answer names it."""
    with transaction(request) as session:
        alerts.escalate_alert(
            session,
            actor=actor,
            alert_id=alert_id,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return alert_out(session, alerts.get_alert(session, alert_id))
