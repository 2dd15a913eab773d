"""``pharmaqms demo``: the cold chain on the demo's sensor traces. Runs after the sensor traces
(their readings are stored already): gives the cold room and each shipment its alarm profile,
the vaccine its stability budget, then judges every sensor delivery in order, as the live
evaluation would have — the door left open becomes a pre-alarm, an alarm and an excursion, the
trip with the warm spell another, the logger past its calibration its own alarm. QA then works
the cold room's alarm to the end (acknowledged, excursion assessed and signed, closed), and the
trip's alarm is left acknowledged and its pre-alarm raised, so the board has something to do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.lifecycle.distribution import alarms, assessment, budget, live, profiles
from pharmaqms.lifecycle.distribution.excursions import name_affected_lot
from pharmaqms.lifecycle.distribution.models import AlarmKind, ColdChainAlarm
from pharmaqms.platform.ingest.models import ImportRun
from pharmaqms.platform.masterdata.models import Location, Lot, LotStatus, Product
from pharmaqms.platform.traceability.models import Shipment

COLD_ROOM = "CR-LEIDEN-1"
VACCINE = "VAXFLU"


def _profiles(session: Session, ctx: DemoContext) -> None:
    qa = ctx.people["quinn.qa"]
    if session.scalar(select(Location.id).where(Location.code == COLD_ROOM)) is not None:
        profiles.set_alarm_profile(
            session,
            actor=qa,
            location_code=COLD_ROOM,
            low_c=2.0,
            high_c=8.0,
            pre_delay_min=15.0,
            alarm_delay_min=30.0,
            interval_min=15.0,
            silent_intervals=4,
            acknowledge_within_min=30.0,
            reason="cold room URS: alarm after 30 min above 8 °C (mapping study)",
        )
    for code in session.scalars(
        select(Shipment.code).where(Shipment.code.like("SHP-DEMO-%")).order_by(Shipment.code)
    ):
        profiles.set_alarm_profile(
            session,
            actor=qa,
            shipment_code=code,
            low_c=2.0,
            high_c=8.0,
            pre_delay_min=5.0,
            alarm_delay_min=10.0,
            interval_min=5.0,
            silent_intervals=3,
            acknowledge_within_min=60.0,
            reason="lane qualification: passive shipper, alarm after 10 min above 8 °C",
        )


def load(session: Session, ctx: DemoContext) -> None:
    qa, logistics = ctx.people["quinn.qa"], ctx.people["lena.logistics"]
    if session.scalar(select(Product.id).where(Product.code == VACCINE)) is None:
        return
    _profiles(session, ctx)
    budget.set_stability_budget(
        session,
        actor=qa,
        product_code=VACCINE,
        bands=[
            ("8–25 °C", 8.0, 25.0, 72.0),
            ("above 25 °C", 25.0, None, 0.0),
            ("below 2 °C (freezing)", None, 2.0, 0.0),
        ],
        basis="stability report STAB-VAXFLU-2025 §6 (time out of refrigeration)",
    )
    system = ctx.people["amelia.admin"]
    for run_id in session.scalars(
        select(ImportRun.id).where(ImportRun.kind == "sensors").order_by(ImportRun.id)
    ):
        live.evaluate_run(session, actor=system, run_id=run_id)
    session.flush()
    room_alarm = session.scalars(
        select(ColdChainAlarm)
        .where(
            ColdChainAlarm.kind == AlarmKind.ALARM.value,
            ColdChainAlarm.place_code == COLD_ROOM,
        )
        .order_by(ColdChainAlarm.id)
    ).first()
    if room_alarm is None or room_alarm.excursion_id is None:
        return
    alarms.acknowledge_alarm(
        session,
        actor=logistics,
        alarm_id=room_alarm.id,
        comment="Door found ajar after a delivery; closed, room back in range within the hour",
    )
    lot = session.scalars(
        select(Lot)
        .where(Lot.item_code == VACCINE, Lot.status == LotStatus.RELEASED.value)
        .order_by(Lot.id)
    ).first()
    if lot is not None:
        name_affected_lot(
            session,
            actor=qa,
            excursion_id=room_alarm.excursion_id,
            lot_number=lot.lot_number,
            item_code=VACCINE,
        )
    record = assessment.assess_excursion(
        session,
        actor=qa,
        excursion_id=room_alarm.excursion_id,
        disposition="usable",
        rationale="About an hour at 8.6–10.4 °C; well inside the 72 h allowed at 8–25 °C",
        password=ctx.password,
    )
    alarms.assess_alarm(
        session,
        actor=qa,
        alarm_id=room_alarm.id,
        assessment=f"Product impact assessed in {record.number}: usable",
    )
    alarms.close_alarm(
        session,
        actor=qa,
        alarm_id=room_alarm.id,
        comment="Door-closer adjusted; delivery SOP reminds to check the door",
    )
    trip_alarm = session.scalars(
        select(ColdChainAlarm)
        .where(
            ColdChainAlarm.kind == AlarmKind.ALARM.value,
            ColdChainAlarm.shipment_id.is_not(None),
        )
        .order_by(ColdChainAlarm.id)
    ).first()
    if trip_alarm is not None:
        alarms.acknowledge_alarm(
            session,
            actor=logistics,
            alarm_id=trip_alarm.id,
            comment="Carrier reports the shipper was left on the dock during a transfer",
        )


register("cold-chain alarms", load)
