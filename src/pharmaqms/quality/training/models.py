"""Training tables: job roles and their curricula (QA's master data), who holds which job
role, the quizzes on documents, the training requirements (one per person and document
version: a GxP record signed "Read and understood"), quiz attempts, and which documents
govern which workflow steps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import AddedLater, Audited, GxPRecord, Versioned

DEFAULT_DUE_DAYS = 14


class JobRole(Audited, Versioned, Base):
    """A job as the organisation chart knows it ("Tablet press operator"), not a system role:
    it says what a person must be trained on, not what they may do in pharmaqms."""

    __tablename__ = "training_job_roles"
    __audit_type__ = "training_job_role"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    area: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"job role {self.name}"


class Curriculum(Audited, Versioned, Base):
    """A named list of documents a job role must be trained on ("GMP basics", "Compression")."""

    __tablename__ = "training_curricula"
    __audit_type__ = "training_curriculum"
    __table_args__ = (UniqueConstraint("job_role_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_role_id: Mapped[int] = mapped_column(
        ForeignKey("training_job_roles.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"curriculum {self.name}"


class CurriculumItem(Audited, Versioned, Base):
    """A document in a curriculum, how long people have to read a new version of it, and how
    often the training recurs (None: only when a new version becomes effective)."""

    __tablename__ = "training_curriculum_items"
    __audit_type__ = "training_curriculum_item"
    __table_args__ = (UniqueConstraint("curriculum_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    curriculum_id: Mapped[int] = mapped_column(
        ForeignKey("training_curricula.id"), nullable=False, index=True
    )
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    due_in_days: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_DUE_DAYS)
    recurrence_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"curriculum {self.curriculum_id} item document {self.document_id}"


class TrainingQuiz(Audited, Versioned, Base):
    """Multiple-choice questions on a document and the pass mark. One per document, because a
    person's training on a document is one requirement whatever curricula contain it."""

    __tablename__ = "training_quizzes"
    __audit_type__ = "training_quiz"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id"), unique=True, nullable=False
    )
    # [{"question": str, "options": [str, ...], "answer": index of the correct option}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    pass_mark_percent: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"quiz on document {self.document_id}"


class JobRoleAssignment(Audited, Versioned, Base):
    """A person holds a job role from ``assigned_at`` until ``ended_at`` (never deleted)."""

    __tablename__ = "training_job_role_assignments"
    __audit_type__ = "training_job_role_assignment"
    __table_args__ = (Index("ix_training_job_role_assignments_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    job_role_id: Mapped[int] = mapped_column(
        ForeignKey("training_job_roles.id"), nullable=False, index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"user {self.user_id} in job role {self.job_role_id}"


class RequirementStatus(StrEnum):
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RequirementSource(StrEnum):
    NEW_VERSION = "new_version"  # a version became effective
    JOB_ROLE = "job_role"  # the person took on a job role
    CURRICULUM = "curriculum"  # the document was added to a curriculum
    RECURRENCE = "recurrence"  # the previous training fell due again
    AD_HOC = "ad_hoc"  # QA assigned it directly


class TrainingRequirement(GxPRecord, Base):
    """One person's read-and-understood training on one document version."""

    __tablename__ = "training_requirements"
    __audit_type__ = "training_requirement"
    # Rows recorded before this migration were audited without its columns.
    __audit_added_later__ = (
        AddedLater(
            "0140_quality_loops",
            {"opened_at": None},
        ),
    )
    __number_prefix__ = "TRN"
    __draft_states__ = frozenset({RequirementStatus.ASSIGNED.value})
    __table_args__ = (Index("ix_training_requirements_person", "user_id", "document_id", "status"),)
    # What "Read and understood" binds to: who, which content exactly, and the quiz score.
    __signed_fields__ = (
        "number",
        "user_id",
        "document_id",
        "version_id",
        "read_content_hash",
        "quiz_score_percent",
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id"), nullable=False)
    version_number: Mapped[str] = mapped_column(String(60), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    read_content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    quiz_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    quiz_score_percent: Mapped[int | None] = mapped_column(Integer)
    quiz_passed_at: Mapped[datetime | None] = mapped_column()
    # When the trainee first opened the document's text to read it: signing needs it.
    opened_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    # When a completed training falls due again (None: valid until a new version).
    expires_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"{self.number} ({self.version_number})"


class QuizAttempt(Audited, Base):
    """Every attempt at a quiz, passed or failed: a failed attempt is part of the record."""

    __tablename__ = "training_quiz_attempts"
    __audit_type__ = "training_quiz_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("training_requirements.id"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(nullable=False)
    answers: Mapped[list[int]] = mapped_column(JSONText, nullable=False)
    score_percent: Mapped[int] = mapped_column(Integer, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)

    def audit_label(self) -> str:
        return f"quiz attempt on requirement {self.requirement_id}"


class GoverningDocument(Audited, Versioned, Base):
    """QA's rule that a workflow step may only be taken by people currently trained on a
    document: (record type, transition or "*" for every transition) → document."""

    __tablename__ = "training_governing_documents"
    __audit_type__ = "training_governing_document"
    # Named by hand: the conventional name is longer than PostgreSQL's 63 characters.
    __table_args__ = (
        UniqueConstraint(
            "record_type", "transition", "document_id", name="uq_training_governing_documents_rule"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60), nullable=False)
    transition: Mapped[str] = mapped_column(String(60), nullable=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"{self.record_type}.{self.transition} governed by document {self.document_id}"
