"""The stage-gate tables. A project is the notebook's ``RndProject``; its development plan links
it to the platform product it develops and holds the plan of each phase. A gate closes one
phase: the evidence it collects, the functions' signed approvals, round by round."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, GxPRecord


class DevelopmentPhase(StrEnum):
    """In the order a project passes them; a gate closes each."""

    PRE_FORMULATION = "pre_formulation"
    FORMULATION = "formulation"
    SCALE_UP = "scale_up"
    CLINICAL_SUPPLY = "clinical_supply"
    REGISTRATION = "registration"
    TECHNOLOGY_TRANSFER = "technology_transfer"


PHASES: tuple[DevelopmentPhase, ...] = tuple(DevelopmentPhase)


class GateStatus(StrEnum):
    OPEN = "open"  # collecting evidence; the only state in which it changes
    SUBMITTED = "submitted"  # waiting for the functions' signatures
    APPROVED = "approved"  # the phase is closed and the next one open


class EvidenceKind(StrEnum):
    EXPERIMENT = "experiment"  # an ELN experiment of the project, with a signed entry
    STABILITY_STUDY = "stability_study"  # a stability study, by its number
    RISK_ASSESSMENT = "risk_assessment"  # a quality risk assessment (RA-…)
    DOCUMENT = "document"  # a controlled document (SOP-…, SPEC-…, MBR-…)


class DevelopmentPlan(Audited, Base):
    """What the notebook's project develops (a platform product) and where it stands: the
    phase open now (``current_phase``; none once the last gate is approved)."""

    __tablename__ = "rnd_development_plans"
    __audit_type__ = "rnd_development_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), unique=True, nullable=False
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    current_phase: Mapped[str | None] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    phases: Mapped[list[PhasePlan]] = relationship(order_by="PhasePlan.id", viewonly=True)

    def audit_label(self) -> str:
        return f"development plan of R&D project #{self.project_id}"


class PhasePlan(Audited, Base):
    """The planned start and end of one phase (the actual ones come from the gates)."""

    __tablename__ = "rnd_phase_plans"
    __audit_type__ = "rnd_phase_plan"
    __table_args__ = (UniqueConstraint("plan_id", "phase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("rnd_development_plans.id"), nullable=False)
    phase: Mapped[str] = mapped_column(String(30), nullable=False)
    planned_start: Mapped[date] = mapped_column(Date, nullable=False)
    planned_end: Mapped[date] = mapped_column(Date, nullable=False)

    def audit_label(self) -> str:
        return f"plan of phase {self.phase} (plan #{self.plan_id})"


class StageGate(GxPRecord, Base):
    """The gate review that closes a phase of a project. The functions sign its content: the
    phase, the summary and the evidence (``signed_content``); each return for rework starts a
    new round, and approvals of an earlier round no longer count."""

    __tablename__ = "rnd_gates"
    __audit_type__ = "rnd_gate"
    __number_prefix__ = "GATE"
    __draft_states__ = frozenset({GateStatus.OPEN.value})
    __signed_fields__ = ("project_id", "phase", "round", "summary")
    __table_args__ = (UniqueConstraint("project_id", "phase"),)

    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), nullable=False, index=True
    )
    phase: Mapped[str] = mapped_column(String(30), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # 0 until first submitted; each submission starts the next round.
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column()

    evidence: Mapped[list[GateEvidence]] = relationship(order_by="GateEvidence.id", viewonly=True)
    approvals: Mapped[list[GateApproval]] = relationship(order_by="GateApproval.id", viewonly=True)

    def signed_content(self) -> dict[str, Any]:
        content = super().signed_content()
        content["evidence"] = [
            {
                "id": e.id,
                "deliverable": e.deliverable,
                "kind": e.kind,
                "reference": e.reference,
                "experiment_id": e.experiment_id,
                "withdrawn": e.withdrawn_at is not None,
            }
            for e in self.evidence
        ]
        return content

    def current_evidence(self) -> list[GateEvidence]:
        return [e for e in self.evidence if e.withdrawn_at is None]

    def current_approvals(self) -> list[GateApproval]:
        return [a for a in self.approvals if a.round == self.round]


class GateEvidence(Audited, Base):
    """One piece of evidence for a deliverable of the gate's phase. Never deleted: withdrawn
    (while the gate is open) with a reason."""

    __tablename__ = "rnd_gate_evidence"
    __audit_type__ = "rnd_gate_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("rnd_gates.id"), nullable=False, index=True)
    deliverable: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    # The number of what is referenced (EXP-…, RA-…, SOP-…, a stability study's number).
    reference: Mapped[str] = mapped_column(String(80), nullable=False)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("rnd_experiments.id"))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    added_at: Mapped[datetime] = mapped_column(nullable=False)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return f"evidence {self.reference} for {self.deliverable} (gate #{self.gate_id})"


class GateApproval(Audited, Base):
    """One function's signed approval of a gate in a round."""

    __tablename__ = "rnd_gate_approvals"
    __audit_type__ = "rnd_gate_approval"
    __table_args__ = (UniqueConstraint("gate_id", "round", "function"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gate_id: Mapped[int] = mapped_column(ForeignKey("rnd_gates.id"), nullable=False, index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    function: Mapped[str] = mapped_column(String(30), nullable=False)
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("electronic_signatures.id"), nullable=False
    )
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return f"{self.function} approval of gate #{self.gate_id}"
