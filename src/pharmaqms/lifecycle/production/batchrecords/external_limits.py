"""Process readings of an externally executed batch against the limits this site approved for
the product: the process parameters and in-process controls of its master batch record in
force (the CPP ranges QA signed). A reading outside them is an exception of the review by
exception, to be assessed before the review is signed (21 CFR 211.188(b), 211.192; EU GMP
Ch. 4 §4.20, Annex 16 §1.7).

The MES may run its own recipe; the limits judged here are the ones the site approved. Readings
are compared in bulk (a batch may deliver thousands) with polars: joined to the limits by the
step's ISA-88 path (unit procedure, operation and, where the step names one, phase) and the
parameter name, as the electronic batch record takes an instrument reading into a step. A
reading in a unit other than the limit's is not compared and says so (an exception too).
SPC control limits are not used here: they are statistical, not approved ranges, and their
alerts are judged by the release rule ``spc_alerts_acknowledged``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.batchrecords.definition import steps_of
from pharmaqms.lifecycle.production.batchrecords.models import MasterBatchRecord
from pharmaqms.platform.governance.units import canonical_unit
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import ProcessReading
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion


@dataclass(frozen=True)
class LimitRow:
    position: int
    path: str
    unit_procedure: str
    operation: str
    phase: str
    name: str
    unit: str
    low: float | None
    high: float | None
    shown: str  # "10 – 14 kN"


@dataclass(frozen=True)
class Judged:
    source: str | None  # "MBR-2026-0001 v1.0", or None: no approved limits for the product
    limits: int
    compared: int  # readings compared with a limit
    exceptions: list[dict[str, str]]


def master_in_force_for(
    session: Session, product_code: str
) -> tuple[MasterBatchRecord, str] | None:
    """The product's master batch record in force (the latest if several are), with its
    version's number."""
    row = session.execute(
        select(MasterBatchRecord, DocumentVersion.number)
        .join(DocumentVersion, DocumentVersion.id == MasterBatchRecord.document_version_id)
        .join(ControlledDocument, ControlledDocument.id == MasterBatchRecord.document_id)
        .where(
            MasterBatchRecord.product_code == product_code,
            ControlledDocument.current_version_id == MasterBatchRecord.document_version_id,
        )
        .order_by(MasterBatchRecord.id.desc())
        .limit(1)
    ).first()
    return (row[0], str(row[1])) if row is not None else None


def limits_of(master: MasterBatchRecord) -> list[LimitRow]:
    rows = []
    for step in steps_of(master.steps):
        for limit in (*step.parameters, *step.in_process_controls):
            rows.append(
                LimitRow(
                    step.position,
                    step.path,
                    step.unit_procedure,
                    step.operation,
                    step.phase,
                    limit.name,
                    limit.unit,
                    limit.low,
                    limit.high,
                    limit.shown,
                )
            )
    return rows


def _readings(session: Session, lot_id: int) -> pl.DataFrame:
    rows = session.execute(
        select(
            ProcessReading.unit_procedure,
            ProcessReading.operation,
            ProcessReading.phase,
            ProcessReading.parameter,
            ProcessReading.value,
            ProcessReading.unit,
            ProcessReading.measured_at,
        ).where(ProcessReading.batch_id == lot_id)
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "unit_procedure": pl.String,
            "operation": pl.String,
            "phase": pl.String,
            "parameter": pl.String,
            "value": pl.Float64,
            "reading_unit": pl.String,
            "measured_at": pl.Datetime("us"),
        },
        orient="row",
    )


def _limits_frame(limits: list[LimitRow]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "position": [lr.position for lr in limits],
            "unit_procedure": [lr.unit_procedure for lr in limits],
            "operation": [lr.operation for lr in limits],
            "limit_phase": [lr.phase for lr in limits],
            "parameter": [lr.name for lr in limits],
            "limit_unit": [lr.unit for lr in limits],
            "low": [lr.low for lr in limits],
            "high": [lr.high for lr in limits],
        },
        schema={
            "position": pl.Int64,
            "unit_procedure": pl.String,
            "operation": pl.String,
            "limit_phase": pl.String,
            "parameter": pl.String,
            "limit_unit": pl.String,
            "low": pl.Float64,
            "high": pl.Float64,
        },
    )


def _stamp(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def judge_readings(session: Session, lot: Lot) -> Judged:
    """The readings of the batch outside the approved limits, one exception per step and
    parameter (its key carries how many readings are outside, so more of them arriving asks
    for a new assessment)."""
    found = master_in_force_for(session, lot.item_code)
    if found is None:
        return Judged(None, 0, 0, [])
    master, version_number = found
    limits = limits_of(master)
    by_key = {(lr.position, lr.name): lr for lr in limits}
    readings = _readings(session, lot.id)
    if not limits or readings.is_empty():
        return Judged(version_number, len(limits), 0, [])
    matched = readings.join(
        _limits_frame(limits), on=["unit_procedure", "operation", "parameter"], how="inner"
    ).filter((pl.col("limit_phase") == "") | (pl.col("limit_phase") == pl.col("phase")))
    # Units compared as the batch record compares them (a spelling of the same unit is equal).
    pairs = matched.select("reading_unit", "limit_unit").unique()
    matched = matched.join(
        pairs.with_columns(
            pl.Series(
                "same_unit",
                [
                    canonical_unit(given or "") == canonical_unit(expected or "")
                    for given, expected in pairs.iter_rows()
                ],
                dtype=pl.Boolean,
            )
        ),
        on=["reading_unit", "limit_unit"],
    )
    exceptions: list[dict[str, str]] = []
    mismatched = (
        matched.filter(~pl.col("same_unit"))
        .group_by("position", "parameter")
        .agg(pl.len().alias("n"), pl.col("reading_unit").unique().sort().alias("units"))
        .sort("position", "parameter")
    )
    for row in mismatched.iter_rows(named=True):
        limit = by_key[(row["position"], row["parameter"])]
        given = ", ".join(u or "no unit" for u in row["units"])
        exceptions.append(
            {
                "key": f"unit:{row['position']}:{row['parameter']}:{row['n']}",
                "text": f"{row['parameter']} at step {row['position']} ({limit.path}): "
                f"{row['n']} reading(s) in {given} where {version_number} sets {limit.shown}: "
                "not compared",
            }
        )
    compared = matched.filter(pl.col("same_unit"))
    outside = compared.filter(
        (pl.col("low").is_not_null() & (pl.col("value") < pl.col("low")))
        | (pl.col("high").is_not_null() & (pl.col("value") > pl.col("high")))
    )
    summary = (
        outside.group_by("position", "parameter")
        .agg(
            pl.len().alias("n"),
            pl.col("value").min().alias("lowest"),
            pl.col("value").max().alias("highest"),
            pl.col("measured_at").min().alias("first"),
        )
        .join(
            compared.group_by("position", "parameter").agg(pl.len().alias("of")),
            on=["position", "parameter"],
        )
        .sort("position", "parameter")
    )
    for row in summary.iter_rows(named=True):
        limit = by_key[(row["position"], row["parameter"])]
        exceptions.append(
            {
                "key": f"limit:{row['position']}:{row['parameter']}:{row['n']}",
                "text": f"{row['parameter']} at step {row['position']} ({limit.path}): "
                f"{row['n']} of {row['of']} readings outside {limit.shown} of "
                f"{version_number} (lowest {row['lowest']:g}, highest {row['highest']:g}; "
                f"first at {_stamp(row['first'])})",
            }
        )
    return Judged(version_number, len(limits), compared.height, exceptions)
