"""Bulk measured data: process parameter readings of a batch (ISA-88 procedural terms), QC test
results, and environmental/sensor readings. These tables are append-only and never audited row
by row — each row belongs to an audited import run, keeps its original values, and a
correction is recorded in the lineage, not made in place (ALCOA+: original, enduring)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import SealedData
from pharmaqms.platform.masterdata.models import MasterData


class ProcessReading(SealedData, Base):
    __tablename__ = "process_readings"
    __table_args__ = (
        UniqueConstraint(
            "batch_id", "parameter", "unit_procedure", "operation", "phase", "measured_at"
        ),
        Index("ix_process_readings_parameter_time", "parameter", "measured_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    unit_procedure: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    operation: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    phase: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    equipment: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    parameter: Mapped[str] = mapped_column(String(80), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    measured_at: Mapped[datetime] = mapped_column(nullable=False)
    original_offset: Mapped[str | None] = mapped_column(String(6))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class TestResult(SealedData, Base):
    """A QC result: sample, test, value, unit and the specification it was judged against."""

    __tablename__ = "test_results"
    __table_args__ = (UniqueConstraint("source_id", "sample_id", "test_code", "replicate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), nullable=False)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    sample_id: Mapped[str] = mapped_column(String(60), nullable=False)
    test_code: Mapped[str] = mapped_column(String(60), nullable=False)
    test_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    replicate: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    value: Mapped[float | None] = mapped_column(Float)
    text_value: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    spec_min: Mapped[float | None] = mapped_column(Float)
    spec_max: Mapped[float | None] = mapped_column(Float)
    spec_text: Mapped[str | None] = mapped_column(String(200))
    # pass / fail / not_evaluated: judged by governance against the stated specification.
    outcome: Mapped[str] = mapped_column(String(20), nullable=False, default="not_evaluated")
    analyst: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    tested_at: Mapped[datetime] = mapped_column(nullable=False)
    original_offset: Mapped[str | None] = mapped_column(String(6))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class Sensor(MasterData, Base):
    """A temperature/humidity sensor or data logger, with its calibration status (a reading of
    an uncalibrated sensor is kept, but flagged: ALCOA+ 'accurate')."""

    __tablename__ = "sensors"
    __audit_type__ = "sensor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, default="temperature")
    site: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    calibrated_on: Mapped[date | None] = mapped_column(Date)
    calibration_due_on: Mapped[date | None] = mapped_column(Date)
    certificate: Mapped[str | None] = mapped_column(String(120))

    def audit_label(self) -> str:
        return f"sensor {self.code}"


class SensorReading(SealedData, Base):
    __tablename__ = "sensor_readings"
    __table_args__ = (UniqueConstraint("sensor_id", "measured_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), nullable=False)
    measured_at: Mapped[datetime] = mapped_column(nullable=False)  # device time, in UTC
    original_offset: Mapped[str | None] = mapped_column(String(6))
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    humidity_pct: Mapped[float | None] = mapped_column(Float)
    # Calibration status of the sensor at the time of the reading.
    calibration_valid: Mapped[bool] = mapped_column(nullable=False, default=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # The device's own number of the reading, when it sends one ("seq"): a gap in the numbers
    # is a reading that never arrived (platform.sensors.sequence).
    seq: Mapped[int | None] = mapped_column(BigInteger)
