"""What the platform holds of an externally executed batch, read the same way when the review
is opened, refreshed, signed, and when the QP's checklist asks: so a later import that changes
the evidence shows as a changed digest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.canonical import content_hash
from pharmaqms.lifecycle.production.batchrecords.external_limits import judge_readings
from pharmaqms.platform.connectors.mes_store import MATERIAL_HOLDER
from pharmaqms.platform.ingest.models import ImportRun, QuarantinedRow
from pharmaqms.platform.masterdata.hold_models import LotHold
from pharmaqms.platform.masterdata.models import Lot, Material, MaterialConsumption
from pharmaqms.platform.timeseries.models import ProcessReading


@dataclass(frozen=True)
class Imported:
    summary: dict[str, Any]
    exceptions: list[dict[str, str]]

    @property
    def digest(self) -> str:
        return content_hash({"summary": self.summary, "exceptions": self.exceptions})

    @property
    def executed_elsewhere(self) -> bool:
        return bool(self.summary["readings"] or self.summary["consumptions"])


def imported(session: Session, lot: Lot) -> Imported:
    readings = int(
        session.scalar(
            select(func.count())
            .select_from(ProcessReading)
            .where(ProcessReading.batch_id == lot.id)
        )
        or 0
    )
    consumed = session.execute(
        select(
            Material.code,
            Lot.lot_number,
            MaterialConsumption.quantity,
            MaterialConsumption.unit,
            MaterialConsumption.step,
            MaterialConsumption.run_id,
        )
        .join(Lot, Lot.id == MaterialConsumption.material_lot_id)
        .join(Material, Material.id == Lot.material_id)
        .where(MaterialConsumption.batch_id == lot.id)
        .order_by(MaterialConsumption.id)
    ).all()
    reading_runs = set(
        session.scalars(
            select(ProcessReading.run_id).where(ProcessReading.batch_id == lot.id).distinct()
        )
    )
    runs = sorted(
        {r for r in reading_runs if r is not None} | {c.run_id for c in consumed if c.run_id}
    )
    summary: dict[str, Any] = {
        "lot": lot.audit_label(),
        "manufacturing_ended_at": (
            lot.manufacturing_ended_at.isoformat() if lot.manufacturing_ended_at else None
        ),
        "readings": readings,
        "consumptions": [
            f"{c.code} lot {c.lot_number}: {c.quantity:g} {c.unit}"
            + (f" ({c.step})" if c.step else "")
            for c in consumed
        ],
        "runs": runs,
    }
    judged = judge_readings(session, lot)
    # Which approved limits the readings were judged against is part of the evidence: a new
    # master batch record in force changes the digest, so the review is read again.
    summary["limits"] = (
        f"{judged.compared} reading(s) compared with the {judged.limits} limits of {judged.source}"
        if judged.source is not None
        else "no master batch record in force for the product: readings not compared"
    )
    exceptions: list[dict[str, str]] = []
    if lot.manufacturing_ended_at is None:
        exceptions.append(
            {"key": "no_end", "text": "the MES has not reported the end of the batch"}
        )
    for hold in session.scalars(
        select(LotHold)
        .where(LotHold.lot_id == lot.id, LotHold.holder == MATERIAL_HOLDER)
        .order_by(LotHold.id)
    ):
        exceptions.append({"key": f"hold:{hold.id}", "text": hold.reason})
    exceptions.extend(judged.exceptions)
    # Rows of the MES deliveries about this batch that governance quarantined and nobody has
    # resolved: data of the batch the review has not seen.
    mes_runs = select(ImportRun.id).where(ImportRun.kind == "mes")
    for row in session.scalars(
        select(QuarantinedRow)
        .where(QuarantinedRow.run_id.in_(mes_runs), QuarantinedRow.status == "open")
        .order_by(QuarantinedRow.id)
    ):
        raw = row.raw if isinstance(row.raw, dict) else {}
        if str(raw.get("lot_number", "")).strip() != lot.lot_number:
            continue
        reasons = "; ".join(r.get("message", r.get("code", "")) for r in row.reasons)
        exceptions.append(
            {
                "key": f"quarantined:{row.id}",
                "text": f"{row.entity} row {row.position} quarantined: {reasons}",
            }
        )
    return Imported(summary, exceptions)
