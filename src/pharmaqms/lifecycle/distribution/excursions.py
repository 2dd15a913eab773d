"""Excursion records: opened when a breach reaches the alarm level, their figures (duration,
min/max, degree-minutes, MKT of the storage period or journey) computed from the stored
readings with the cold-chain math, and the lots that were in the place put on hold until QA
has assessed the excursion.

The MKT covers the journey for a shipment (every reading of the shipment's sensor) and, for a
storage zone, the :data:`STORAGE_PERIOD` up to the excursion's end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.distribution.coldchain import (
    TemperatureRange,
    find_excursions,
    summarise,
)
from pharmaqms.lifecycle.distribution.coldchain.readings import to_microseconds
from pharmaqms.lifecycle.distribution.models import (
    AlarmProfile,
    ColdChainAlarm,
    Excursion,
    ExcursionLot,
    ExcursionStatus,
)
from pharmaqms.lifecycle.distribution.readings import sensor_series
from pharmaqms.platform.inventory.match_models import counted
from pharmaqms.platform.masterdata.holds import join_hold
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.masterdata.service import find_lot, set_lot_status
from pharmaqms.platform.traceability.models import InventoryMovement

STORAGE_PERIOD = timedelta(days=30)
HOLDABLE = frozenset({LotStatus.QUARANTINE, LotStatus.RELEASED, LotStatus.ON_HOLD})


def open_excursion(
    session: Session, *, actor: Actor, alarm: ColdChainAlarm, profile: AlarmProfile
) -> Excursion:
    excursion = Excursion(
        status=ExcursionStatus.ONGOING.value,
        place_key=alarm.place_key,
        place_code=alarm.place_code,
        location_id=alarm.location_id,
        shipment_id=alarm.shipment_id,
        sensor_id=alarm.sensor_id,
        profile_id=profile.id,
        profile_revision=profile.revision,
        low_c=profile.low_c,
        high_c=profile.high_c,
        started_at=alarm.started_at,
        min_c=alarm.temperature_c if alarm.temperature_c is not None else 0.0,
        max_c=alarm.temperature_c if alarm.temperature_c is not None else 0.0,
        side=alarm.breach or "above",
    )
    with audit.changes(session, actor=actor, reason=f"excursion found by {alarm.number}"):
        session.add(excursion)
        session.flush()
        alarm.excursion_id = excursion.id
    refresh_figures(session, excursion, actor=actor)
    for lot_id in lots_in_place(session, excursion):
        hold_for_excursion(session, excursion, lot_id, actor=actor, basis="inventory")
    return excursion


def refresh_figures(
    session: Session, excursion: Excursion, *, actor: Actor, ended_at: datetime | None = None
) -> None:
    """Recompute the excursion's figures from the readings (and end it at ``ended_at``)."""
    profile = session.get(AlarmProfile, excursion.profile_id)
    assert profile is not None
    interval = timedelta(minutes=profile.interval_min)
    end = ended_at or excursion.ended_at
    period_start = None if excursion.shipment_id else excursion.started_at - STORAGE_PERIOD
    series = sensor_series(
        session,
        excursion.sensor_id,
        start=period_start,
        end=end,
        interval=interval,
        shipment_id=excursion.shipment_id,
        location_id=excursion.location_id,
    )
    if series is None:
        return
    report = find_excursions(series, TemperatureRange(excursion.low_c, excursion.high_c))
    start_us = to_microseconds(excursion.started_at)
    found = None
    for candidate in report.excursions:
        first = to_microseconds(candidate.start)
        if first <= start_us < first + int(candidate.duration_s * 1e6) or first == start_us:
            found = candidate
            break
    summary = summarise(series)
    with audit.changes(session, actor=actor, reason="excursion figures from the readings"):
        if found is not None:
            excursion.started_at = found.start
            excursion.duration_min = round(found.duration_min, 3)
            excursion.min_c = found.min_c
            excursion.max_c = found.max_c
            excursion.degree_minutes = round(found.degree_minutes, 3)
            excursion.side = found.side.value
            excursion.gap_before = found.gap_before
            excursion.gap_after = found.gap_after
        excursion.mkt_c = round(summary.mkt_c, 3)
        excursion.mkt_hours = round(summary.hours, 3)
        excursion.unknown_minutes = round(summary.unknown_hours * 60.0, 3)
        if ended_at is not None and excursion.ended_at is None:
            excursion.ended_at = ended_at
            excursion.status = ExcursionStatus.ENDED.value


def lots_in_place(session: Session, excursion: Excursion) -> list[int]:
    """The lots the inventory movements put in the shipment, or at the storage zone when the
    excursion began (net quantity moved in > 0)."""
    if excursion.shipment_id is not None:
        return sorted(
            set(
                session.scalars(
                    select(InventoryMovement.lot_id).where(
                        InventoryMovement.shipment_id == excursion.shipment_id
                    )
                )
            )
        )
    if excursion.location_id is None:
        return []
    at = excursion.started_at
    moved_in = dict(
        session.execute(
            select(InventoryMovement.lot_id, func.sum(InventoryMovement.quantity))
            .where(
                InventoryMovement.to_location_id == excursion.location_id,
                InventoryMovement.moved_at <= at,
                counted("to"),
            )
            .group_by(InventoryMovement.lot_id)
        ).all()
    )
    moved_out = dict(
        session.execute(
            select(InventoryMovement.lot_id, func.sum(InventoryMovement.quantity))
            .where(
                InventoryMovement.from_location_id == excursion.location_id,
                InventoryMovement.moved_at <= at,
                counted("from"),
            )
            .group_by(InventoryMovement.lot_id)
        ).all()
    )
    return sorted(lot for lot, qty in moved_in.items() if qty - moved_out.get(lot, 0.0) > 0)


def hold_for_excursion(
    session: Session, excursion: Excursion, lot_id: int, *, actor: Actor, basis: str
) -> ExcursionLot:
    """Link the lot to the excursion and hold it until the excursion is assessed (a lot that is
    rejected, expired or recalled is linked, not held: it can't be used anyway)."""
    existing = session.scalars(
        select(ExcursionLot).where(
            ExcursionLot.excursion_id == excursion.id, ExcursionLot.lot_id == lot_id
        )
    ).first()
    if existing is not None:
        raise Conflict(f"lot #{lot_id} is linked to {excursion.number} already")
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id}")
    why = f"{excursion.number}: in {excursion.place_code} during a cold-chain excursion"
    held = False
    if lot.status == LotStatus.ON_HOLD:
        join_hold(session, lot, actor=actor, holder=excursion.number, reason=why)
        held = True
    elif lot.status in HOLDABLE:
        set_lot_status(
            session, lot, LotStatus.ON_HOLD, actor=actor, reason=why, holder=excursion.number
        )
        held = True
    link = ExcursionLot(
        excursion_id=excursion.id, lot_id=lot.id, basis=basis, held=held, added_at=clock.now()
    )
    with audit.changes(session, actor=actor, reason=why, action="link"):
        session.add(link)
    return link


def name_affected_lot(
    session: Session,
    *,
    actor: Actor,
    excursion_id: int,
    lot_number: str,
    item_code: str | None = None,
) -> ExcursionLot:
    """QA names a lot that was in the place (the inventory did not show it): held as well."""
    actor.require("coldchain.assess", "name the lots of an excursion")
    excursion = get_excursion(session, excursion_id)
    if excursion.status == ExcursionStatus.ASSESSED:
        raise Conflict(f"{excursion.number} is assessed already")
    lot = find_lot(session, lot_number, item_code)
    return hold_for_excursion(session, excursion, lot.id, actor=actor, basis="named")


def get_excursion(session: Session, excursion_id: int) -> Excursion:
    excursion = session.get(Excursion, excursion_id)
    if excursion is None:
        raise NotFound(f"no excursion {excursion_id}")
    return excursion


def excursion_lots(session: Session, excursion_id: int) -> list[ExcursionLot]:
    return list(
        session.scalars(
            select(ExcursionLot)
            .where(ExcursionLot.excursion_id == excursion_id)
            .order_by(ExcursionLot.id)
        )
    )


def list_excursions(session: Session, *, limit: int = 500) -> list[Excursion]:
    return list(session.scalars(select(Excursion).order_by(Excursion.id.desc()).limit(limit)))


def excursions_of_lots(
    session: Session, lot_ids: list[int], start: datetime, end: datetime
) -> list[tuple[Excursion, list[int]]]:
    """The excursions that started in [start, end) and touched any of these lots, each with
    the ids of those lots it touched, oldest first."""
    if not lot_ids:
        return []
    touched: dict[int, list[int]] = {}
    for excursion_id, lot_id in session.execute(
        select(ExcursionLot.excursion_id, ExcursionLot.lot_id)
        .where(ExcursionLot.lot_id.in_(lot_ids))
        .order_by(ExcursionLot.lot_id)
    ):
        touched.setdefault(excursion_id, []).append(lot_id)
    if not touched:
        return []
    found = session.scalars(
        select(Excursion)
        .where(Excursion.id.in_(touched), Excursion.started_at >= start, Excursion.started_at < end)
        .order_by(Excursion.started_at, Excursion.id)
    )
    return [(e, touched[e.id]) for e in found]
