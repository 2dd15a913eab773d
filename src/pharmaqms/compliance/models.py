"""The regulations register: a regulation (one version of it) is a GxP record; its requirements
and the controls mapped to each requirement are audited rows. A new version of a regulation is
a new record; the old one is kept, superseded, so what the company answered to on a past date
stays readable."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, GxPRecord


class RegulationStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"


class ControlKind(StrEnum):
    """What meets a requirement: a procedure people follow, a feature of this system, or an
    automated test that shows the feature works."""

    SOP = "sop"
    FEATURE = "feature"
    TEST = "test"


class Regulation(GxPRecord, Base):
    """One version (edition) of a regulation or guideline, e.g. 21 CFR Part 11 as amended."""

    __tablename__ = "regulations"
    __audit_type__ = "regulation"
    __number_prefix__ = "REG"
    __draft_states__ = frozenset({RegulationStatus.CURRENT.value})

    code: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    issuer: Mapped[str] = mapped_column(String(120), nullable=False)
    jurisdiction: Mapped[str] = mapped_column(String(60), nullable=False)
    edition: Mapped[str] = mapped_column(String(60), nullable=False)
    effective_on: Mapped[date | None] = mapped_column(Date)
    source_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("regulations.id"))
    # For an edition that superseded another: which requirements changed (JSON), what QA's
    # impact assessment starts from.
    changes_from_previous: Mapped[str | None] = mapped_column(Text)

    def audit_label(self) -> str:
        return f"{self.code} ({self.edition})"


class Requirement(Audited, Base):
    """A clause of a regulation, summarised in our own words, with where it applies."""

    __tablename__ = "regulation_requirements"
    __audit_type__ = "regulation_requirement"
    __table_args__ = (UniqueConstraint("regulation_id", "clause"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    regulation_id: Mapped[int] = mapped_column(
        ForeignKey("regulations.id"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    clause: Mapped[str] = mapped_column(String(60), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    # Modules or processes it applies to, comma-separated ("kernel, documents").
    applies_to: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    def audit_label(self) -> str:
        return f"requirement {self.clause} of regulation #{self.regulation_id}"


class ControlMapping(Audited, Base):
    """A control that meets a requirement: an SOP (its document number), a system feature (its
    name) or an automated test (its pytest node id)."""

    __tablename__ = "regulation_controls"
    __audit_type__ = "regulation_control"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("regulation_requirements.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reference: Mapped[str] = mapped_column(String(300), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return f"{self.kind} control {self.reference}"
