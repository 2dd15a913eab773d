"""Storing MES records: the batch as a finished lot (through the master-data service), its
process readings and the material lots it consumed. Each function finds the row already there
(a duplicate), or refuses it with the reasons only the database knows (an unknown batch, a
value that contradicts what is stored)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table, bindparam, select

from pharmaqms.kernel import audit
from pharmaqms.kernel.sealing import seal_rows
from pharmaqms.platform.connectors.measures import Measure, normalise
from pharmaqms.platform.governance.rules import Checked, Problem
from pharmaqms.platform.ingest.connector import StoreContext, Stored
from pharmaqms.platform.ingest.guard import ROW_CACHES, ROW_JOURNALS
from pharmaqms.platform.ingest.models import ImportRun
from pharmaqms.platform.masterdata import holds
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import (
    Lot,
    LotKind,
    LotStatus,
    Material,
    MaterialConsumption,
    Product,
)
from pharmaqms.platform.sensors.prepared import PreparedInsert
from pharmaqms.platform.timeseries.arrivals import ARRIVED, ArrivedReading, note_arrival
from pharmaqms.platform.timeseries.models import ProcessReading
from pharmaqms.platform.traceability.adverse_event_lots import link_reports_to_lot

# Batch fields an MES delivery may fill in on a known lot while they are still empty.
COMPLETABLE = ("quantity", "unit", "manufactured_on", "manufacturing_ended_at", "expires_on")


def refused(field: str, code: str, message: str) -> Stored:
    return Stored(problems=[Problem(field, code, message)])


# Built once: a delivery of thousands of readings asks these questions thousands of times.
_LOT = select(Lot).where(Lot.kind == LotKind.FINISHED, Lot.lot_number == bindparam("lot"))
_LOT_OF = _LOT.where(Lot.item_code == bindparam("item"))
_READING_AT = select(ProcessReading.id, ProcessReading.value, ProcessReading.unit).where(
    ProcessReading.batch_id == bindparam("batch_id"),
    ProcessReading.measured_at == bindparam("measured_at"),
    ProcessReading.unit_procedure == bindparam("unit_procedure"),
    ProcessReading.operation == bindparam("operation"),
    ProcessReading.phase == bindparam("phase"),
    ProcessReading.parameter == bindparam("parameter"),
)
_READINGS: Table = ProcessReading.__table__  # type: ignore[assignment]
# INSERT … ON CONFLICT DO NOTHING on the readings' unique key, as the sensor readings are
# stored: a new reading (nearly every one) costs one statement instead of a SELECT and an
# INSERT; only a reading already there is looked up, to tell a re-delivery from a conflict.
_INSERT_READING = PreparedInsert(
    _READINGS, tuple(c.name for c in _READINGS.columns if c.name != "id"), returning="id"
)
_CACHE = "pharmaqms.mes.finished_lots"
# A lot registered by a row that is then rolled back must not stay in the cache.
ROW_CACHES.add(_CACHE)
# Readings of a rolled-back row must not reach the after-commit listeners.
ROW_JOURNALS.add(ARRIVED)


def finished_lot(ctx: StoreContext, lot_number: str, item_code: str | None) -> Lot | Stored:
    # Lots are never deleted, so a lot found once stays right for the whole transaction.
    cache: dict[tuple[str, str], Lot] = ctx.session.info.setdefault(_CACHE, {})
    key = (lot_number, item_code or "")
    if key in cache:
        return cache[key]
    query = _LOT_OF if item_code else _LOT
    lots = list(ctx.session.scalars(query.limit(2), {"lot": lot_number, "item": item_code}))
    if not lots:
        of = f" of {item_code}" if item_code else ""
        return refused("lot_number", "unknown_batch", f"no batch {lot_number}{of} is known")
    if len(lots) > 1:
        return refused(
            "item_code", "ambiguous_batch", f"batch {lot_number} exists for several products"
        )
    cache[key] = lots[0]
    return lots[0]


def _complete(ctx: StoreContext, lot: Lot, values: dict[str, Any]) -> Stored:
    """A known batch: the same values → duplicate; values still missing → filled in."""
    clashes = [
        f"{name} {getattr(lot, name)} (delivered: {values[name]})"
        for name in COMPLETABLE
        if values.get(name) is not None
        and getattr(lot, name) is not None
        and getattr(lot, name) != values[name]
    ]
    if clashes:
        return refused(
            "lot_number",
            "contradicts_batch",
            f"{lot.audit_label()} is registered with " + "; ".join(clashes),
        )
    missing = {
        name: values[name]
        for name in COMPLETABLE
        if values.get(name) is not None and getattr(lot, name) is None
    }
    if not missing:
        return Stored(entity_id=lot.id, duplicate=True)
    assert ctx.actor is not None, "the ingest service names the delivering actor"
    run = ctx.session.get(ImportRun, ctx.run_id)
    number = run.number if run is not None else f"run {ctx.run_id}"
    with audit.changes(
        ctx.session, actor=ctx.actor, reason=f"batch record completed by delivery {number}"
    ):
        for name, value in missing.items():
            setattr(lot, name, value)
    return Stored(entity_id=lot.id, measured_at=lot.manufacturing_ended_at)


def store_batch(ctx: StoreContext, checked: Checked) -> Stored:
    v = checked.values
    product = ctx.session.scalars(select(Product.id).where(Product.code == v["item_code"]))
    if product.first() is None:
        return refused("item_code", "unknown_product", f"no product {v['item_code']} is known")
    existing = ctx.session.scalars(
        select(Lot).where(
            Lot.kind == LotKind.FINISHED,
            Lot.item_code == v["item_code"],
            Lot.lot_number == v["lot_number"],
        )
    ).first()
    if existing is not None:
        return _complete(ctx, existing, v)
    assert ctx.actor is not None, "the ingest service names the delivering actor"
    lot = masterdata.add_lot(
        ctx.session,
        actor=ctx.actor,
        kind=LotKind.FINISHED,
        item_code=v["item_code"],
        lot_number=v["lot_number"],
        quantity=v["quantity"],
        unit=v["unit"],
        manufactured_on=v["manufactured_on"],
        manufacturing_ended_at=v.get("manufacturing_ended_at"),
        expires_on=v.get("expires_on"),
    )
    # Adverse-event reports may have cited this batch before it reached us.
    link_reports_to_lot(ctx.session, lot)
    return Stored(entity_id=lot.id, measured_at=v.get("manufacturing_ended_at"))


def _declared_unit(ctx: StoreContext, parameter: str) -> str | None:
    declared = ctx.mapping.get("parameters") or {}
    for name, unit in declared.items():
        if str(name).lower() == parameter.lower():
            return str(unit)
    return None


def store_reading(ctx: StoreContext, checked: Checked) -> Stored:
    v = checked.values
    lot = finished_lot(ctx, v["lot_number"], v.get("item_code"))
    if isinstance(lot, Stored):
        return lot
    declared = _declared_unit(ctx, v["parameter"])
    measure = normalise(v["parameter"], v["value"], v.get("unit"), declared)
    if isinstance(measure, Problem):
        return Stored(problems=[measure])
    where = {
        "batch_id": lot.id,
        "measured_at": v["measured_at"],
        "unit_procedure": v.get("unit_procedure") or "",
        "operation": v.get("operation") or "",
        "phase": v.get("phase") or "",
        "parameter": v["parameter"],
    }
    row = {
        **where,
        "equipment": v.get("equipment") or "",
        "value": measure.value,
        "unit": measure.unit,
        "original_offset": v.get("measured_at_offset"),
        "run_id": ctx.run_id,
    }
    # Written on the driver's cursor, not as an ORM object: readings are append-only and not
    # audited row by row, and keeping thousands of them in the session would slow every later
    # flush. None: a reading with the same key is stored already.
    connection = ctx.session.connection()
    reading_id = _INSERT_READING.execute(connection, row)
    if reading_id is None:
        return _existing(connection.execute(_READING_AT, where).one(), lot, v, measure)
    seal_rows(ctx.session, actor=ctx.actor, table=_READINGS.name, ids=(reading_id,))
    note_arrival(
        ctx.session,
        ArrivedReading(
            reading_id=reading_id,
            batch_id=lot.id,
            unit_procedure=row["unit_procedure"],
            operation=row["operation"],
            phase=row["phase"],
            parameter=row["parameter"],
            value=measure.value,
            unit=measure.unit,
            measured_at=row["measured_at"],
            run_id=ctx.run_id,
        ),
    )
    _keep(checked, measure)
    return Stored(entity_id=reading_id, measured_at=v["measured_at"])


def _existing(
    existing: Row[int, float, str], lot: Lot, v: dict[str, Any], measure: Measure
) -> Stored:
    """The same values again are a re-delivery (nothing changes); other values for the same
    batch, step, parameter and instant are a conflict a person must look at."""
    if (existing.value, existing.unit) != (measure.value, measure.unit):
        return refused(
            "value",
            "conflicting_value",
            f"{v['parameter']} of batch {lot.lot_number} at "
            f"{v['measured_at']:%Y-%m-%d %H:%M:%S} UTC is stored as {existing.value} "
            f"{existing.unit}, not {measure.value} {measure.unit}",
        )
    return Stored(entity_id=existing.id, duplicate=True)


def _keep(checked: Checked, measure: Measure) -> None:
    # Recorded in the lineage by the ingest service with the other corrections of the row.
    if measure.correction is not None:
        checked.corrections.append(measure.correction)


def store_consumption(ctx: StoreContext, checked: Checked) -> Stored:
    v = checked.values
    batch = finished_lot(ctx, v["lot_number"], v.get("item_code"))
    if isinstance(batch, Stored):
        return batch
    material_lot = ctx.session.scalars(
        select(Lot).where(
            Lot.kind == LotKind.MATERIAL,
            Lot.item_code == v["material_code"],
            Lot.lot_number == v["material_lot"],
        )
    ).first()
    if material_lot is None:
        return refused(
            "material_lot",
            "unknown_material_lot",
            f"no lot {v['material_lot']} of material {v['material_code']} has been received",
        )
    material = ctx.session.get(Material, material_lot.material_id)
    assert material is not None
    measure = normalise("quantity", v["quantity"], v["unit"], material.unit)
    if isinstance(measure, Problem):
        return Stored(problems=[measure])
    step = v.get("step") or ""
    existing = ctx.session.scalars(
        select(MaterialConsumption).where(
            MaterialConsumption.batch_id == batch.id,
            MaterialConsumption.material_lot_id == material_lot.id,
            MaterialConsumption.step == step,
            MaterialConsumption.consumed_at == v["consumed_at"],
        )
    ).first()
    if existing is not None:
        if existing.quantity != measure.value:
            return refused(
                "quantity",
                "conflicting_value",
                f"the consumption of {material.code} lot {material_lot.lot_number} at "
                f"{step or 'this step'} is stored as {existing.quantity} {existing.unit}, not "
                f"{measure.value} {measure.unit}",
            )
        return Stored(entity_id=existing.id, duplicate=True)
    consumption = MaterialConsumption(
        batch_id=batch.id,
        material_lot_id=material_lot.id,
        quantity=measure.value,
        unit=measure.unit,
        step=step,
        consumed_at=v["consumed_at"],
        run_id=ctx.run_id,
        recorded_by_id=ctx.actor.user_id if ctx.actor else None,
    )
    ctx.session.add(consumption)
    ctx.session.flush()
    _keep(checked, measure)
    _hold_if_not_released(ctx, batch, material_lot, material, step)
    return Stored(entity_id=consumption.id, measured_at=v["consumed_at"])


# A material lot in one of these states was not released for use (EU GMP 5.35; 21 CFR
# 211.84): the batch that consumed it is held as the import reads it, not first at release.
NOT_FOR_USE = (LotStatus.QUARANTINE, LotStatus.ON_HOLD, LotStatus.REJECTED, LotStatus.EXPIRED)
MATERIAL_HOLDER = "MES: material not released"


def _hold_if_not_released(
    ctx: StoreContext, batch: Lot, material_lot: Lot, material: Material, step: str
) -> None:
    if material_lot.status not in NOT_FOR_USE:
        return
    reason = (
        f"consumed {material.code} lot {material_lot.lot_number} while it was "
        f"{material_lot.status.replace('_', ' ')}"
        + (f" (step {step})" if step else "")
        + f": the MES import of run {ctx.run_id} holds the batch until QA decides"
    )
    if batch.status == LotStatus.ON_HOLD:
        holds.join_hold(ctx.session, batch, actor=ctx.actor, holder=MATERIAL_HOLDER, reason=reason)
    elif batch.status in (LotStatus.QUARANTINE, LotStatus.RELEASED):
        masterdata.set_lot_status(
            ctx.session,
            batch,
            LotStatus.ON_HOLD,
            actor=ctx.actor,
            reason=reason,
            holder=MATERIAL_HOLDER,
        )
