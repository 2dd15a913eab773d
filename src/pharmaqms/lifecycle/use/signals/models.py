"""Tables of signal management (EU GVP Module IX): the signal itself, the cases that are its
evidence, and the actions taken on it (a label change, a CAPA, a change control).

A signal names a product and an event (the MedDRA PT code where the cases hold one, else the
verbatim term as reported), where it came from, and the figures it was detected with, frozen:
a later detection run never rewrites them, it records its own figures beside them (an audited
refresh, see :mod:`.detection`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord


class SignalStatus(StrEnum):
    DETECTED = "detected"  # flagged, not yet looked at (GVP IX.B.3 "detection")
    VALIDATED = "validated"  # evidence enough to justify assessment: signed
    ASSESSED = "assessed"  # assessed; conclusion confirmed or refuted, with the risk
    ACTION = "action"  # a confirmed signal with its actions under way
    CLOSED = "closed"  # signed closed by the QPPV
    NOT_A_SIGNAL = "not_a_signal"  # refuted at validation, with the reason: signed, kept


OPEN_SIGNAL_STATUSES = (
    SignalStatus.DETECTED.value,
    SignalStatus.VALIDATED.value,
    SignalStatus.ASSESSED.value,
    SignalStatus.ACTION.value,
)


class SignalSource(StrEnum):
    DISPROPORTIONALITY = "disproportionality"  # the scan over the case base
    LOT_RATE = "lot_rate"  # a lot reported out of line with the product's other lots
    MANUAL = "manual"  # a PV officer's own observation (literature, a case series)


class Conclusion(StrEnum):
    CONFIRMED = "confirmed"
    REFUTED = "refuted"


# The risk the assessment concludes to (GVP Module V: identified / potential risk, important
# when it may change the benefit-risk balance).
class Risk(StrEnum):
    IMPORTANT_IDENTIFIED = "important_identified_risk"
    IMPORTANT_POTENTIAL = "important_potential_risk"
    IDENTIFIED = "identified_risk"
    POTENTIAL = "potential_risk"
    NONE = "no_new_risk"


class ActionKind(StrEnum):
    LABEL_CHANGE = "label_change"  # SmPC / package leaflet update, through change control
    CAPA = "capa"
    CHANGE_CONTROL = "change_control"


class PVSignal(GxPRecord, Base):
    __tablename__ = "pv_signals"
    __audit_type__ = "pv_signal"
    __number_prefix__ = "SIG"
    __draft_states__ = frozenset({SignalStatus.DETECTED.value})
    # What a signature covers: the signal, its frozen figures and its conclusions. The latest
    # figures of a re-run are left out on purpose: a refresh adds information, it does not
    # change what was validated or assessed.
    __signed_fields__ = (
        "product",
        "event_key",
        "event_term",
        "meddra_code",
        "lot_number",
        "source",
        "detected_at",
        "table_a",
        "table_b",
        "table_c",
        "table_d",
        "figures",
        "refutation_reason",
        "assessment",
        "conclusion",
        "risk",
    )
    __table_args__ = (
        Index("ix_pv_signals_pair", "product", "event_key"),
        Index("ix_pv_signals_status", "status"),
    )

    product: Mapped[str] = mapped_column(String(200), nullable=False)
    # How the scan names the event: the MedDRA PT code where coded, else the verbatim term
    # (lower case). Two open signals never share a (product, event_key, lot_number).
    event_key: Mapped[str] = mapped_column(String(500), nullable=False)
    event_term: Mapped[str] = mapped_column(String(500), nullable=False)
    meddra_code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    lot_number: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    detected_at: Mapped[datetime] = mapped_column(nullable=False)
    # Why it was flagged, in words (methods and thresholds, or the officer's observation).
    detection_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The 2×2 table at detection (a = product & event, b = product & other events,
    # c = other products & event, d = the rest); null for a manual signal without one.
    table_a: Mapped[int | None] = mapped_column(Integer)
    table_b: Mapped[int | None] = mapped_column(Integer)
    table_c: Mapped[int | None] = mapped_column(Integer)
    table_d: Mapped[int | None] = mapped_column(Integer)
    # Every figure at detection (PRR … EB05, or the lot rate test), with the thresholds used.
    figures: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False, default=dict)
    latest_figures: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False, default=dict)
    refreshed_at: Mapped[datetime | None] = mapped_column()
    validation_due: Mapped[date] = mapped_column(Date, nullable=False)
    refutation_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    conclusion: Mapped[str | None] = mapped_column(String(20))
    risk: Mapped[str | None] = mapped_column(String(40))


class PVSignalCase(Audited, Base):
    """A case that is evidence of the signal, and when it joined (at detection or a re-run)."""

    __tablename__ = "pv_signal_cases"
    __audit_type__ = "pv_signal_case"
    __table_args__ = (UniqueConstraint("signal_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("pv_signals.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pv_cases.id"), nullable=False, index=True)
    added_at: Mapped[datetime] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    def audit_label(self) -> str:
        return f"case {self.case_id} as evidence of signal {self.signal_id}"


class PVSignalAction(Audited, Base):
    """What was done about a confirmed signal, with the quality record it opened."""

    __tablename__ = "pv_signal_actions"
    __audit_type__ = "pv_signal_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("pv_signals.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The quality record opened through quality.events (a CAPA, a change request).
    record_type: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    record_id: Mapped[int | None] = mapped_column(Integer)
    record_number: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"{self.kind.replace('_', ' ')} '{self.title[:60]}' on signal {self.signal_id}"
