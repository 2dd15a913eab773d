"""Tables of the pharmacovigilance case: the case itself (one row, the current state), its
suspect products and events (rows, so a lot's cases can be found), its versions (what each
follow-up changed) and the reference safety information that expectedness is judged against."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import AddedLater, Audited, GxPRecord, SealedData


class CaseStatus(StrEnum):
    RECEIVED = "received"  # taken in, not yet triaged by PV
    VALID = "valid"  # the four minimum criteria met: day 0 set, clocks running
    REVIEWED = "medically_reviewed"  # seriousness, expectedness, causality signed by a reviewer
    CLOSED = "closed"  # QA signed off
    INVALID = "invalid"  # not a valid case (kept, never deleted)
    DUPLICATE = "duplicate"  # another report of a case held already (kept, points to it)


OPEN_STATUSES = (CaseStatus.RECEIVED, CaseStatus.VALID, CaseStatus.REVIEWED)


class CaseSource(StrEnum):
    STAFF = "staff"  # entered by PV staff (phone, e-mail, letter)
    PUBLIC = "public_form"  # the public side-effect form
    COMPLAINT = "complaint"  # a complaint triaged as an adverse event
    FAERS = "faers"  # an openFDA / FAERS report taken in by the platform
    E2B = "e2b"  # an E2B(R3) ICSR message


class ReporterType(StrEnum):
    HCP = "hcp"
    PATIENT = "patient"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class ReportType(StrEnum):
    SPONTANEOUS = "spontaneous"
    STUDY = "study"
    OTHER = "other"


class DrugRole(StrEnum):
    SUSPECT = "suspect"
    CONCOMITANT = "concomitant"
    INTERACTING = "interacting"


class Expectedness(StrEnum):
    EXPECTED = "expected"
    UNEXPECTED = "unexpected"


# WHO-UMC causality categories (Uppsala Monitoring Centre, "The use of the WHO-UMC system for
# standardised case causality assessment").
class Causality(StrEnum):
    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"
    CONDITIONAL = "conditional"
    UNASSESSABLE = "unassessable"


class PVCase(GxPRecord, Base):
    __tablename__ = "pv_cases"
    __audit_type__ = "pv_case"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0530_use_case_details",
            {"patient_weight_kg": None},
        ),
    )
    __number_prefix__ = "PV"
    __draft_states__ = frozenset({CaseStatus.RECEIVED.value})
    # Who reported is personal data: the trail records that it changed, not what it is.
    __audit_masked__ = frozenset({"reporter_name", "reporter_contact"})
    __table_args__ = (
        Index("ix_pv_cases_status", "status"),
        Index("ix_pv_cases_source_ref", "source", "source_reference"),
    )

    source: Mapped[str] = mapped_column(String(20), nullable=False)
    # The sender's own id: a complaint number, an openFDA safetyreportid, an E2B C.1.1.
    source_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    report_type: Mapped[str] = mapped_column(String(20), nullable=False)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    first_received_at: Mapped[datetime] = mapped_column(nullable=False)
    latest_received_at: Mapped[datetime] = mapped_column(nullable=False)
    # Day 0 of every reporting clock: the first receipt of the information that made it valid.
    day_zero: Mapped[date | None] = mapped_column(Date)
    patient_initials: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    patient_age_years: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    patient_sex: Mapped[str | None] = mapped_column(String(10))
    # D.3 body weight in kilograms (refused at intake when ≤ 0 or above 650 kg).
    patient_weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    reporter_type: Mapped[str | None] = mapped_column(String(20))
    reporter_country: Mapped[str | None] = mapped_column(String(2))
    reporter_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    reporter_contact: Mapped[str] = mapped_column(Text, nullable=False, default="")
    narrative: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Values that could not be taken as they came (an age of −67, a date in the future): kept
    # here, as reported, with what is wrong; never as the value.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    expectedness: Mapped[str | None] = mapped_column(String(20))
    expectedness_basis: Mapped[str] = mapped_column(Text, nullable=False, default="")
    causality: Mapped[str | None] = mapped_column(String(20))
    causality_reasoning: Mapped[str] = mapped_column(Text, nullable=False, default="")
    invalid_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Set when the case is merged into the one that holds the same patient's reaction.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("pv_cases.id"))


class PVCaseProduct(Audited, Base):
    """A drug of the case (G.k), with the lot as reported and our lot when it is known."""

    __tablename__ = "pv_case_products"
    __audit_type__ = "pv_case_product"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0530_use_case_details",
            {"dose_value": None, "dose_unit": "", "route": ""},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pv_cases.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    product: Mapped[str] = mapped_column(String(200), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    authorisation_number: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # G.k.4.r.1a/1b: the dose as given, its unit as a UCUM code read through pint ("mg").
    dose_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    dose_unit: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    # G.k.4.r.10.2b: the E2B route code ("048" oral); "" when not reported.
    route: Mapped[str] = mapped_column(String(3), nullable=False, default="")
    current: Mapped[bool] = mapped_column(nullable=False, default=True)

    def audit_label(self) -> str:
        lot = f", lot {self.lot_number}" if self.lot_number else ""
        return f"{self.product}{lot} in case {self.case_id}"


class PVCaseEvent(Audited, Base):
    """A reaction / event of the case (E.i): the reporter's words, and MedDRA when coded."""

    __tablename__ = "pv_case_events"
    __audit_type__ = "pv_case_event"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0530_use_case_details",
            {"meddra_pt_code": "", "meddra_version": ""},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pv_cases.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    verbatim: Mapped[str] = mapped_column(String(500), nullable=False)
    meddra_code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    onset: Mapped[date | None] = mapped_column(Date)
    # The E.i.3.2 criteria this event meets (death, life_threatening, …).
    seriousness: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    # Coded against the organisation's MedDRA when loaded: the PT of the LLT in meddra_code,
    # and the MedDRA version it was coded with (E.i.2.1a). "" when not coded.
    meddra_pt_code: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    meddra_version: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    current: Mapped[bool] = mapped_column(nullable=False, default=True)

    def audit_label(self) -> str:
        return f"event '{self.verbatim[:60]}' in case {self.case_id}"


class PVCaseVersion(Audited, Base):
    """One receipt of information about the case: the initial report or a follow-up, with what
    it changed (field → [before, after]) and the case as it stood after it."""

    __tablename__ = "pv_case_versions"
    __audit_type__ = "pv_case_version"
    __table_args__ = (UniqueConstraint("case_id", "case_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("pv_cases.id"), nullable=False, index=True)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    source_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"version {self.case_version} of case {self.case_id}"


class ReferenceSafetyInformation(Audited, Base):
    """What is expected of a product: the controlled document (the SmPC section 4.8, the
    company core safety information) and the terms it lists."""

    __tablename__ = "pv_reference_safety_info"
    __audit_type__ = "pv_reference_safety_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    document_reference: Mapped[str] = mapped_column(String(100), nullable=False)
    expected_terms: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"reference safety information of {self.product} ({self.document_reference})"


class MedDRARelease(Audited, Base):
    """One MedDRA release the organisation loaded from its licensed ASCII files (never shipped
    with pharmaqms): which version, when, by whom, and the SHA-256 of each file read."""

    __tablename__ = "pv_meddra_releases"
    __audit_type__ = "pv_meddra_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(10), nullable=False, unique=True)
    language: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    files: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    llt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    pt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(nullable=False)
    loaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return f"MedDRA {self.version}"


class MedDRALowLevelTerm(SealedData, Base):
    """An LLT of a loaded release and the PT it belongs to (llt.asc)."""

    __tablename__ = "pv_meddra_llts"
    __table_args__ = (UniqueConstraint("release_id", "llt_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("pv_meddra_releases.id"), nullable=False)
    llt_code: Mapped[str] = mapped_column(String(8), nullable=False)
    llt_name: Mapped[str] = mapped_column(String(200), nullable=False)
    pt_code: Mapped[str] = mapped_column(String(8), nullable=False)
    current: Mapped[bool] = mapped_column(nullable=False)


class MedDRAPreferredTerm(SealedData, Base):
    """A PT of a loaded release with its primary System Organ Class (pt.asc / mdhier.asc)."""

    __tablename__ = "pv_meddra_pts"
    __table_args__ = (UniqueConstraint("release_id", "pt_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("pv_meddra_releases.id"), nullable=False)
    pt_code: Mapped[str] = mapped_column(String(8), nullable=False)
    pt_name: Mapped[str] = mapped_column(String(200), nullable=False)
    soc_code: Mapped[str] = mapped_column(String(8), nullable=False)
    soc_name: Mapped[str] = mapped_column(String(200), nullable=False)
    soc_abbrev: Mapped[str] = mapped_column(String(10), nullable=False, default="")
