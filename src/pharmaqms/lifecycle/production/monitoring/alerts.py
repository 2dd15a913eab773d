"""Process alerts: raised by the live evaluation, acknowledged with a comment, escalated to a
deviation in one step.

Raising puts a task in the inbox of every role the parameter names. Acknowledging and escalating
are workflow transitions (so the generic record pages and API offer them too); their effects
record who did it, and escalation raises the deviation through the quality events API, which
links the deviation back to the alert, and names the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.timezones import zone_suffix
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.monitoring.engine import DATA_QUALITY, DISPERSION, Signal
from pharmaqms.lifecycle.production.monitoring.models import (
    AlertStatus,
    MonitoredParameter,
    MultivariateGroup,
    ProcessAlert,
)
from pharmaqms.lifecycle.production.monitoring.workflow import ALERT_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality import events
from pharmaqms.quality.deviations.models import Deviation

# An alert is about a process running now: whoever is on shift answers it the same day.
ANSWER_WITHIN = timedelta(hours=8)
HOTELLING = "hotelling"
HOTELLING_RULE = "T² above the upper control limit"


@dataclass(frozen=True)
class AlertDraft:
    """Everything an alert records, before it is one."""

    dedupe_key: str
    subject: str
    batch_id: int
    reading_id: int | None
    measured_at: datetime
    rule_set: str
    rule: int
    rule_name: str
    point_index: int
    value: float
    ucl: float
    roles: tuple[str, ...]
    center: float | None = None
    lcl: float | None = None
    sigma: float | None = None
    parameter_id: int | None = None
    limits_id: int | None = None
    group_id: int | None = None
    group_limits_id: int | None = None


def draft_of(signal: Signal) -> AlertDraft:
    """The alert a signal raises: what the three kinds share, then what each plots against."""
    config = signal.config
    limits_key = f"p{config.parameter_id}:l{config.limits_id}"
    if signal.kind == DATA_QUALITY:
        # One alert per parameter, batch and unit: the readings that follow the first in the
        # same unit are the same problem (each is logged).
        rule_set = DATA_QUALITY
        dedupe = f"p{config.parameter_id}:{rule_set}{signal.rule}:b{signal.batch_id}:u{signal.unit}"
        limits: dict[str, Any] = {"ucl": config.ucl}
    elif signal.kind == DISPERSION:
        rule_set = DISPERSION
        dedupe = f"{limits_key}:{rule_set}{signal.rule}:r{signal.reading_id}"
        dispersion = config.dispersion
        limits = {"ucl": dispersion.upper, "center": dispersion.center, "lcl": dispersion.lower}
    else:
        rule_set = config.rule_set.value
        dedupe = f"{limits_key}:{rule_set}{signal.rule}:r{signal.reading_id}"
        limits = {
            "ucl": config.ucl,
            "center": config.center,
            "lcl": config.lcl,
            "sigma": config.location_sigma,
        }
    return AlertDraft(
        dedupe_key=dedupe,
        subject=config.subject,
        batch_id=signal.batch_id,
        reading_id=signal.reading_id,
        measured_at=signal.measured_at,
        rule_set=rule_set,
        rule=signal.rule,
        rule_name=signal.rule_name[:120],
        point_index=signal.index,
        value=signal.value,
        roles=config.alert_roles,
        parameter_id=config.parameter_id,
        limits_id=config.limits_id,
        **limits,
    )


def raise_alerts(session: Session, *, actor: Actor, drafts: list[AlertDraft]) -> list[ProcessAlert]:
    """Store the alerts not stored yet (another process may have evaluated the same point) and
    open their tasks. Returns the new ones."""
    if not drafts:
        return []
    known = set(
        session.scalars(
            select(ProcessAlert.dedupe_key).where(
                ProcessAlert.dedupe_key.in_([d.dedupe_key for d in drafts])
            )
        )
    )
    fresh: list[AlertDraft] = []
    for draft in drafts:
        if draft.dedupe_key not in known:
            known.add(draft.dedupe_key)
            fresh.append(draft)
    if not fresh:
        return []
    lots = {
        lot.id: lot
        for lot in session.scalars(select(Lot).where(Lot.id.in_({d.batch_id for d in fresh})))
    }
    alerts = [_alert_of(draft) for draft in fresh]
    with audit.changes(session, actor=actor, reason="raised by the live process monitoring"):
        session.add_all(alerts)
    now = clock.now()
    inbox: list[Task] = []
    for draft, alert in zip(fresh, alerts, strict=True):
        lot = lots.get(draft.batch_id)
        batch = lot.lot_number if lot is not None else f"batch {draft.batch_id}"
        title = f"{alert.number}: {alert.rule_name} on {alert.subject}, batch {batch}"
        inbox.extend(
            Task(
                record_type=alert.__audit_type__,
                record_id=alert.id,
                record_label=alert.audit_label(),
                kind="spc_alert",
                title=title[:300],
                assignee_role=role,
                due_at=now + ANSWER_WITHIN,
                status="open",
                created_at=now,
            )
            for role in draft.roles
        )
    # The rows tasks.open_task writes, in one flush for all of them: a flush (and an audit
    # chain append) per task would add to the time from the reading to the alert's inbox.
    with audit.changes(session, actor=actor, reason="tasks opened for the alert's roles"):
        session.add_all(inbox)
    return alerts


def _alert_of(draft: AlertDraft) -> ProcessAlert:
    return ProcessAlert(
        status=AlertStatus.OPEN.value,
        parameter_id=draft.parameter_id,
        limits_id=draft.limits_id,
        group_id=draft.group_id,
        group_limits_id=draft.group_limits_id,
        batch_id=draft.batch_id,
        reading_id=draft.reading_id,
        measured_at=draft.measured_at,
        subject=draft.subject[:300],
        rule_set=draft.rule_set,
        rule=draft.rule,
        rule_name=draft.rule_name,
        point_index=draft.point_index,
        value=draft.value,
        center=draft.center,
        lcl=draft.lcl,
        ucl=draft.ucl,
        sigma=draft.sigma,
        dedupe_key=draft.dedupe_key,
        acknowledgement="",
    )


def get_alert(session: Session, alert_id: int) -> ProcessAlert:
    alert = session.get(ProcessAlert, alert_id)
    if alert is None:
        raise NotFound(f"no SPC alert with id {alert_id}")
    return alert


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    parameter_id: int | None = None,
    group_id: int | None = None,
    limit: int = 200,
) -> list[ProcessAlert]:
    query = select(ProcessAlert).order_by(ProcessAlert.id.desc()).limit(limit)
    if status:
        query = query.where(ProcessAlert.status == status)
    if parameter_id is not None:
        query = query.where(ProcessAlert.parameter_id == parameter_id)
    if group_id is not None:
        query = query.where(ProcessAlert.group_id == group_id)
    return list(session.scalars(query))


def acknowledge_alert(
    session: Session,
    *,
    actor: Actor,
    alert_id: int,
    comment: str,
    expected_version: int | None = None,
) -> ProcessAlert:
    """Someone on the line has seen the alert and says what they found and did."""
    alert = get_alert(session, alert_id)
    perform(
        session,
        ALERT_WORKFLOW,
        alert,
        "acknowledge",
        actor=actor,
        reason=comment,
        expected_version=expected_version,
    )
    return alert


def escalate_alert(
    session: Session,
    *,
    actor: Actor,
    alert_id: int,
    comment: str = "",
    expected_version: int | None = None,
) -> Deviation:
    """Raise a deviation from the alert, in one step. Returns the deviation."""
    alert = get_alert(session, alert_id)
    perform(
        session,
        ALERT_WORKFLOW,
        alert,
        "escalate",
        actor=actor,
        reason=comment or None,
        expected_version=expected_version,
    )
    deviation = session.get(Deviation, alert.deviation_id)
    assert deviation is not None, "the escalation effect raises the deviation"
    return deviation


# --- workflow effects -----------------------------------------------------------------------


def _transition_reason(session: Session, alert: ProcessAlert, transition: str) -> str:
    """The reason given with the transition just taken (the workflow audits it)."""
    entry = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.record_type == alert.__audit_type__,
            AuditEntry.record_id == alert.id,
            AuditEntry.action == f"transition:{transition}",
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    return (entry.reason or "") if entry is not None else ""


def acknowledged(session: Session, alert: ProcessAlert, *, actor: Actor) -> None:
    comment = _transition_reason(session, alert, "acknowledge")
    with audit.changes(session, actor=actor, reason=comment or "acknowledged"):
        alert.acknowledgement = comment
        alert.acknowledged_by_id = actor.user_id
        alert.acknowledged_at = clock.now()


def escalated(session: Session, alert: ProcessAlert, *, actor: Actor) -> None:
    reason = _transition_reason(session, alert, "escalate")
    label = ALERT_WORKFLOW.transition("escalate").label
    comment = "" if reason == label else reason
    lot = session.get(Lot, alert.batch_id)
    if lot is None:
        raise InvalidInput(f"{alert.number} names batch {alert.batch_id}, which does not exist")
    where, product = _where(session, alert)
    raised_at = alert.created_at
    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type=alert.__audit_type__,
        source_id=alert.id,
        source_label=alert.number,
        title=f"SPC: {alert.rule_name} on {alert.subject} (batch {lot.lot_number})"[:300],
        description=_facts(alert, lot, where) + (f"\n\nEscalated: {comment}" if comment else ""),
        area=f"Production: {where}"[:100] if where else "Production",
        occurred_at=alert.measured_at,
        # A device clock slightly ahead of ours must not make discovery precede occurrence.
        discovered_at=max(raised_at, alert.measured_at),
        product=product,
        batch_ids=[lot.lot_number],
        reason=f"escalated from {alert.number}",
    )
    with audit.changes(session, actor=actor, reason=f"escalated to {deviation.number}"):
        alert.deviation_id = deviation.id
        alert.escalated_by_id = actor.user_id
        alert.escalated_at = clock.now()


def _where(session: Session, alert: ProcessAlert) -> tuple[str, str]:
    """The step (unit procedure / operation / phase) and product the alert is about."""
    owner: MonitoredParameter | MultivariateGroup | None = None
    if alert.parameter_id is not None:
        owner = session.get(MonitoredParameter, alert.parameter_id)
    elif alert.group_id is not None:
        owner = session.get(MultivariateGroup, alert.group_id)
    if owner is None:
        return "", ""
    return owner.step, owner.product_code


def point_text(measured_at: datetime, value: float, zone: ZoneInfo | timezone) -> str:
    """How an alert names the point that broke the rule: by the time it was measured (on the
    wall clock of ``zone``) and its value. The point's position in the series is the engine's
    bookkeeping, which no reader can find on a chart."""
    wall = measured_at.astimezone(zone)
    return f"the point measured {wall:%Y-%m-%d %H:%M:%S} {zone_suffix(wall)}, value {value:.6g}"


def _facts(alert: ProcessAlert, lot: Lot, where: str) -> str:
    if alert.rule_set == DATA_QUALITY:
        return (
            f"The live process monitoring raised {alert.number} at "
            f"{alert.created_at:%Y-%m-%d %H:%M:%S} UTC on {alert.subject}"
            f"{f' ({where})' if where else ''}, batch {lot.lot_number}: reading "
            f"{alert.reading_id} = {alert.value:.6g}, measured "
            f"{alert.measured_at:%Y-%m-%d %H:%M:%S} UTC. {alert.rule_name}."
        )
    limits = f"UCL {alert.ucl:.6g}"
    if alert.center is not None and alert.lcl is not None:
        limits = f"centre {alert.center:.6g}, LCL {alert.lcl:.6g}, UCL {alert.ucl:.6g}"
        if alert.sigma is not None:
            limits += f", σ of the plotted statistic {alert.sigma:.6g}"
    return (
        f"The live process monitoring raised {alert.number} at "
        f"{alert.created_at:%Y-%m-%d %H:%M:%S} UTC: {alert.rule_label} — {alert.rule_name} — "
        f"on {alert.subject}{f' ({where})' if where else ''}, batch {lot.lot_number}, "
        f"{point_text(alert.measured_at, alert.value, UTC)}. Limits: {limits}."
        + (
            f"\nAcknowledged: {alert.acknowledgement}"
            if alert.status == AlertStatus.ESCALATED and alert.acknowledgement
            else ""
        )
    )
