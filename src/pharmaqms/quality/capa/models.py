"""CAPA: corrective and preventive actions taken on a problem, their owners and due dates, and
the effectiveness checks that show the problem did not come back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import AddedLater, Audited, GxPRecord


class CapaStatus(StrEnum):
    DRAFT = "draft"
    PLAN_APPROVAL = "plan_approval"
    IMPLEMENTATION = "implementation"
    EFFECTIVENESS_CHECK = "effectiveness_check"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    CapaStatus.DRAFT,
    CapaStatus.PLAN_APPROVAL,
    CapaStatus.IMPLEMENTATION,
    CapaStatus.EFFECTIVENESS_CHECK,
)


class ActionKind(StrEnum):
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CheckStatus(StrEnum):
    PLANNED = "planned"
    PASSED = "passed"
    FAILED = "failed"
    # The plan changed before the check was due (effectiveness judged not to need a check).
    WITHDRAWN = "withdrawn"


class Capa(GxPRecord, Base):
    __tablename__ = "capas"
    __audit_type__ = "capa"
    __number_prefix__ = "CAPA"
    __table_args__ = (Index("ix_capas_status_due", "status", "due_at"),)
    __signed_fields__ = (
        "title",
        "problem_statement",
        "owner_id",
        "due_at",
        "effectiveness_required",
        "effectiveness_justification",
    )

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    problem_statement: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    # None until decided: a check is required, or it is justified as not required.
    effectiveness_required: Mapped[bool | None] = mapped_column(Boolean)
    effectiveness_justification: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()

    actions: Mapped[list[CapaAction]] = relationship(
        back_populates="capa", order_by="CapaAction.id"
    )
    checks: Mapped[list[EffectivenessCheck]] = relationship(
        back_populates="capa", order_by="EffectivenessCheck.id"
    )

    def signed_content(self) -> dict[str, Any]:
        """A signature covers the plan: what is to be done, by whom, by when, and how its
        effectiveness will be judged — not the progress recorded against it afterwards."""
        content = super().signed_content()
        content["actions"] = [
            {
                "id": a.id,
                "kind": a.kind,
                "description": a.description,
                "owner_id": a.owner_id,
                "due_at": a.due_at,
                "cancelled": a.status == ActionStatus.CANCELLED,
                # Named only when set: plans signed before actions could name them keep
                # their hash.
                **({"document_id": a.document_id} if a.document_id is not None else {}),
                **({"job_role_id": a.job_role_id} if a.job_role_id is not None else {}),
            }
            for a in self.actions
        ]
        content["checks"] = [
            {"id": c.id, "criteria": c.criteria, "due_at": c.due_at}
            for c in self.checks
            if c.status != CheckStatus.WITHDRAWN
        ]
        return content

    @property
    def pending_check(self) -> EffectivenessCheck | None:
        return next((c for c in self.checks if c.status == CheckStatus.PLANNED), None)

    @property
    def last_result(self) -> EffectivenessCheck | None:
        decided = [c for c in self.checks if c.status in (CheckStatus.PASSED, CheckStatus.FAILED)]
        return decided[-1] if decided else None


class CapaAction(Audited, Base):
    __tablename__ = "capa_actions"
    __audit_type__ = "capa_action"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0140_quality_loops",
            {"document_id": None, "job_role_id": None},
        ),
    )
    __table_args__ = (Index("ix_capa_actions_owner_status", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capas.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completion_evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    times_reopened: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    # What fulfils the action, when it is "revise SOP-…" (the document: a version of it in force
    # since the action was planned) or "retrain …" (the document and the job role: everyone in
    # the role trained on the version in force). Such an action completes when that does.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("training_job_roles.id"))

    capa: Mapped[Capa] = relationship(back_populates="actions")

    def audit_label(self) -> str:
        return f"{self.kind} action #{self.id} of CAPA {self.capa_id}"

    @property
    def task_kind(self) -> str:
        return f"capa_action:{self.id}"


class EffectivenessCheck(Audited, Base):
    __tablename__ = "capa_effectiveness_checks"
    __audit_type__ = "capa_effectiveness_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capas.id"), nullable=False, index=True)
    criteria: Mapped[str] = mapped_column(Text, nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column()
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("electronic_signatures.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    capa: Mapped[Capa] = relationship(back_populates="checks")

    def audit_label(self) -> str:
        return f"effectiveness check #{self.id} of CAPA {self.capa_id}"
