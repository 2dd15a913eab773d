"""What sensor readings are judged against and what the judgement leaves behind.

``StorageAssignment`` says which products a location holds (a cold room for a 2–8 °C
vaccine); the location's storage limits are the narrowest range of those products. A
shipment carries its own required range. ``ExcursionCandidate`` is one reading found outside
those limits: the hand-off to the cold-chain module, which groups candidates into
excursions, evaluates them and raises quality events. It is append-only and keeps the limits
in force when the reading was judged, so a later change of a product's range does not
rewrite what was found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import SealedData, not_gxp
from pharmaqms.platform.masterdata.models import MasterData


class StorageAssignment(MasterData, Base):
    __tablename__ = "storage_assignments"
    __audit_type__ = "storage_assignment"
    __table_args__ = (UniqueConstraint("location_id", "product_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    # Ended, never deleted: the history of what a room held explains old judgements.
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def audit_label(self) -> str:
        return f"storage of product #{self.product_id} at location #{self.location_id}"


class ExcursionCandidate(SealedData, Base):
    __tablename__ = "excursion_candidates"
    __table_args__ = (
        Index("ix_excursion_candidates_location_time", "location_id", "measured_at"),
        Index("ix_excursion_candidates_shipment_time", "shipment_id", "measured_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reading_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_readings.id"), nullable=False, unique=True
    )
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), nullable=False)
    measured_at: Mapped[datetime] = mapped_column(nullable=False)
    temperature_c: Mapped[float] = mapped_column(Float, nullable=False)
    breach: Mapped[str] = mapped_column(String(10), nullable=False)  # below | above
    limit_min_c: Mapped[float | None] = mapped_column(Float)
    limit_max_c: Mapped[float | None] = mapped_column(Float)
    # Where the limits came from, in words ("shipment SHP-1", "products at CR-1: VAX01").
    basis: Mapped[str] = mapped_column(String(200), nullable=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))


class SensorSequence(Base):
    """Where a sensor's numbering of its readings stands (the highest number stored), so that a
    restarted worker, or another worker of a shared subscription, continues from it."""

    __tablename__ = "sensor_sequences"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_measured_at: Mapped[datetime] = mapped_column(nullable=False)
    # The device started counting again (a reboot): a number already passed, on a newer reading.
    restarts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # An older reading whose number was passed and is in no gap (before the first one seen).
    out_of_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class SensorSequenceGap(Base):
    """Readings a sensor numbered but that never arrived: ``first_missing``..``last_missing``.
    Open while late arrivals may still fill it (a shared subscription delivers out of order);
    then ``filled``, or ``reported`` as a data-loss finding (``finding``: the quality record)."""

    __tablename__ = "sensor_sequence_gaps"
    __table_args__ = (Index("ix_sensor_sequence_gaps_sensor_status", "sensor_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), nullable=False)
    first_missing: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_missing: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The device times of the readings either side of the gap.
    after_measured_at: Mapped[datetime] = mapped_column(nullable=False)
    before_measured_at: Mapped[datetime] = mapped_column(nullable=False)
    detected_at: Mapped[datetime] = mapped_column(nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    reported_at: Mapped[datetime | None] = mapped_column()
    finding: Mapped[str | None] = mapped_column(String(60))
    # Readings of a reported gap that arrived after all (the finding stays; this says so).
    late_arrivals: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


not_gxp(
    "sensor_sequences",
    "where each sensor's numbering of its readings stands: working state of the data-loss "
    "check; the numbers themselves are sealed with the readings",
)
not_gxp(
    "sensor_sequence_gaps",
    "working state of the data-loss check while late readings may still arrive; a gap that "
    "stays open becomes a deviation, which is audited",
)
