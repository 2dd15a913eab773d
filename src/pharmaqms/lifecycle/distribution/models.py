"""Tables of the distribution module's cold chain: the alarm profile of each storage zone and
shipment (versioned), the alarms the live evaluation raises, the excursions they stand for, the
stability budget of each product, the lots an excursion touches, and QA's signed excursion
assessment.

A profile revision is never changed once in force (only superseded), and each alarm and
excursion keeps the id and revision of the profile it was judged against, so a later change of
the limits does not rewrite what was found."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, GxPRecord, not_gxp


class ProfileStatus(StrEnum):
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"


class AlarmProfile(GxPRecord, Base):
    """The labelled condition of a storage zone or a shipment and when a breach of it becomes a
    pre-alarm or an alarm: each level has its own boundaries and the time a reading must stay
    beyond them ("above 8 °C for 30 min")."""

    __tablename__ = "coldchain_alarm_profiles"
    __audit_type__ = "alarm_profile"
    __number_prefix__ = "ALP"
    __draft_states__ = frozenset()
    __table_args__ = (UniqueConstraint("place_key", "revision"),)

    # "location:3" or "shipment:7": one key for both kinds of place.
    place_key: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    place_code: Mapped[str] = mapped_column(String(60), nullable=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    condition: Mapped[str] = mapped_column(String(40), nullable=False)
    low_c: Mapped[float | None] = mapped_column(Float)
    high_c: Mapped[float | None] = mapped_column(Float)
    pre_low_c: Mapped[float | None] = mapped_column(Float)
    pre_high_c: Mapped[float | None] = mapped_column(Float)
    pre_delay_min: Mapped[float] = mapped_column(Float, nullable=False)
    alarm_low_c: Mapped[float | None] = mapped_column(Float)
    alarm_high_c: Mapped[float | None] = mapped_column(Float)
    alarm_delay_min: Mapped[float] = mapped_column(Float, nullable=False)
    # The logger's reading interval, and how many of them may pass without a reading.
    interval_min: Mapped[float] = mapped_column(Float, nullable=False)
    silent_intervals: Mapped[int] = mapped_column(Integer, nullable=False)
    acknowledge_within_min: Mapped[float] = mapped_column(Float, nullable=False)
    responder_role: Mapped[str] = mapped_column(String(60), nullable=False)
    escalation_role: Mapped[str] = mapped_column(String(60), nullable=False)
    effective_from: Mapped[datetime] = mapped_column(nullable=False)
    superseded_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")


class AlarmKind(StrEnum):
    PRE_ALARM = "pre_alarm"
    ALARM = "alarm"
    SENSOR_SILENT = "sensor_silent"
    IMPOSSIBLE_VALUE = "impossible_value"
    OUT_OF_CALIBRATION = "out_of_calibration"


class AlarmStatus(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    CLOSED = "closed"


OPEN_ALARM_STATUSES = (AlarmStatus.RAISED.value, AlarmStatus.ACKNOWLEDGED.value)


class ColdChainAlarm(GxPRecord, Base):
    __tablename__ = "coldchain_alarms"
    __audit_type__ = "coldchain_alarm"
    __number_prefix__ = "CCA"
    __draft_states__ = frozenset()
    __table_args__ = (
        Index("ix_coldchain_alarms_status", "status"),
        Index("ix_coldchain_alarms_sensor_kind", "sensor_id", "kind", "ended_at"),
        Index("ix_coldchain_alarms_place", "place_key", "started_at"),
    )

    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    place_key: Mapped[str] = mapped_column(String(40), nullable=False)
    place_code: Mapped[str] = mapped_column(String(60), nullable=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), nullable=False)
    # The profile revision in force when the breach was judged, and the numbers it held.
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("coldchain_alarm_profiles.id"))
    profile_revision: Mapped[int | None] = mapped_column(Integer)
    limit_low_c: Mapped[float | None] = mapped_column(Float)
    limit_high_c: Mapped[float | None] = mapped_column(Float)
    delay_min: Mapped[float | None] = mapped_column(Float)
    breach: Mapped[str | None] = mapped_column(String(10))  # above | below
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    triggered_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column()
    reading_id: Mapped[int | None] = mapped_column(ForeignKey("sensor_readings.id"))
    temperature_c: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    raised_at: Mapped[datetime] = mapped_column(nullable=False)
    acknowledge_due_at: Mapped[datetime] = mapped_column(nullable=False)
    acknowledgement: Mapped[str] = mapped_column(Text, nullable=False, default="")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assessed_at: Mapped[datetime | None] = mapped_column()
    closure: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column()
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalated_to: Mapped[str | None] = mapped_column(String(60))
    excursion_id: Mapped[int | None] = mapped_column(ForeignKey("coldchain_excursions.id"))
    # One alarm per breach, whichever process evaluated the reading first.
    dedupe_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)


class ExcursionStatus(StrEnum):
    ONGOING = "ongoing"
    ENDED = "ended"
    ASSESSED = "assessed"


class Excursion(GxPRecord, Base):
    """A continuous time outside the labelled condition that reached the alarm level, with its
    figures from the readings (sample-and-hold; gaps unknown, never in range)."""

    __tablename__ = "coldchain_excursions"
    __audit_type__ = "coldchain_excursion"
    __number_prefix__ = "EXC"
    __draft_states__ = frozenset()
    __table_args__ = (Index("ix_coldchain_excursions_place", "place_key", "started_at"),)

    place_key: Mapped[str] = mapped_column(String(40), nullable=False)
    place_code: Mapped[str] = mapped_column(String(60), nullable=False)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), nullable=False)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("coldchain_alarm_profiles.id"), nullable=False
    )
    profile_revision: Mapped[int] = mapped_column(Integer, nullable=False)
    low_c: Mapped[float | None] = mapped_column(Float)
    high_c: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column()
    duration_min: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    min_c: Mapped[float] = mapped_column(Float, nullable=False)
    max_c: Mapped[float] = mapped_column(Float, nullable=False)
    degree_minutes: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    side: Mapped[str] = mapped_column(String(10), nullable=False)
    gap_before: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    gap_after: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The MKT of the storage period or journey the excursion belongs to, and its length.
    mkt_c: Mapped[float | None] = mapped_column(Float)
    mkt_hours: Mapped[float | None] = mapped_column(Float)
    unknown_minutes: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    disposition: Mapped[str | None] = mapped_column(String(20))


class StabilityBand(Audited, Base):
    """A product's allowed time in a temperature band outside its labelled condition, from its
    stability data (entered per product for now). Replaced bands are retired, not deleted."""

    __tablename__ = "coldchain_stability_bands"
    __audit_type__ = "stability_band"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    low_c: Mapped[float | None] = mapped_column(Float)
    high_c: Mapped[float | None] = mapped_column(Float)
    allowed_h: Mapped[float] = mapped_column(Float, nullable=False)
    basis: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    entered_at: Mapped[datetime] = mapped_column(nullable=False)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"stability band {self.name} of product #{self.product_id}"


class ExcursionLot(Audited, Base):
    """A lot that was in the place during an excursion: its budget is consumed by it, and it is
    held until the excursion is assessed."""

    __tablename__ = "coldchain_excursion_lots"
    __audit_type__ = "excursion_lot"
    __table_args__ = (UniqueConstraint("excursion_id", "lot_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("coldchain_excursions.id"), nullable=False)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), nullable=False, index=True)
    # "inventory" (from the movements into the place) or "named" (by QA).
    basis: Mapped[str] = mapped_column(String(20), nullable=False)
    held: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    added_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"lot #{self.lot_id} in excursion #{self.excursion_id}"


class Disposition(StrEnum):
    USABLE = "usable"
    QUARANTINE = "quarantine"
    REJECT = "reject"


class ExcursionAssessment(GxPRecord, Base):
    """QA's decision on an excursion, signed: the disposition, why, and the stability budget of
    each affected lot as it stood when signed."""

    __tablename__ = "coldchain_excursion_assessments"
    __audit_type__ = "excursion_assessment"
    __number_prefix__ = "EXA"
    __draft_states__ = frozenset({"draft"})
    __signed_fields__ = ("excursion_id", "disposition", "rationale", "budget")

    excursion_id: Mapped[int] = mapped_column(
        ForeignKey("coldchain_excursions.id"), nullable=False, unique=True
    )
    disposition: Mapped[str] = mapped_column(String(20), nullable=False)
    rationale: Mapped[str] = mapped_column(Text, nullable=False)
    # The budget of each lot when signed, as canonical text (lot, band, allowed, consumed).
    budget: Mapped[str] = mapped_column(Text, nullable=False)
    budget_exceeded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"))


class SensorWatch(Base):
    """Where the live evaluation of each sensor stands: its last reading, and since when it has
    been beyond each level's boundaries (None: inside them)."""

    __tablename__ = "coldchain_sensor_watch"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    last_measured_at: Mapped[datetime] = mapped_column(nullable=False)
    last_reading_id: Mapped[int] = mapped_column(Integer, nullable=False)
    pre_since: Mapped[datetime | None] = mapped_column()
    pre_since_reading_id: Mapped[int | None] = mapped_column(Integer)
    alarm_since: Mapped[datetime | None] = mapped_column()
    alarm_since_reading_id: Mapped[int | None] = mapped_column(Integer)


not_gxp(
    "coldchain_sensor_watch",
    "working state of the live cold-chain evaluation (where each sensor's last reading and "
    "current breach stand); what it finds is recorded as audited alarms",
)
