"""Competence tables: what a job role needs beyond reading its documents (an assessment, an
authorisation), the authorisations people hold for role-critical duties with the documents
they rest on kept byte for byte, and the assessments people passed or failed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, SealedData, Versioned


class AuthorisationKind(StrEnum):
    QP_CERTIFICATION = "qp_certification"
    GDP_RESPONSIBLE_PERSON = "gdp_responsible_person"
    QA_APPROVER = "qa_approver"
    QUALIFIED_TRAINER = "qualified_trainer"


class AuthorisationStatus(StrEnum):
    PROPOSED = "proposed"  # entered, not yet signed by the head of QA
    GRANTED = "granted"  # signed; in force between effective_from and effective_to
    REVOKED = "revoked"


class RequirementKind(StrEnum):
    QUIZ = "quiz"  # the quiz on a document, taken as an assessment of its own
    OBSERVED_PRACTICE = "observed_practice"  # an observer watches the person do the work
    AUTHORISATION = "authorisation"  # an authorisation of a kind in force


ASSESSMENT_KINDS = frozenset({RequirementKind.QUIZ.value, RequirementKind.OBSERVED_PRACTICE.value})


class AssessmentStatus(StrEnum):
    RECORDED = "recorded"
    CONFIRMED = "confirmed"  # signed: by the person (quiz) or by the observer (observed)


class QualificationRequirement(Audited, Versioned, Base):
    """QA's rule that holders of a job role need, besides current training on its curricula,
    an assessment passed within its validity, or an authorisation of a kind in force."""

    __tablename__ = "training_qualification_requirements"
    __audit_type__ = "training_qualification_requirement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Foreign keys named by hand: the conventional names pass PostgreSQL's 63 characters.
    job_role_id: Mapped[int] = mapped_column(
        ForeignKey("training_job_roles.id", name="fk_training_qual_requirements_job_role"),
        nullable=False,
        index=True,
    )
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # The document whose quiz is the assessment (quiz), or that the practice follows.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", name="fk_training_qual_requirements_document")
    )
    authorisation_kind: Mapped[str | None] = mapped_column(String(40))
    # Re-assessment interval; None: passed once is enough.
    valid_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"qualification requirement {self.title} of job role {self.job_role_id}"


class AuthorisationFile(SealedData, Base):
    """The document an authorisation rests on (a QP eligibility certificate, a nomination
    letter), exactly as uploaded. Never changed: a new document is a new row."""

    __tablename__ = "training_authorisation_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    stored_at: Mapped[datetime] = mapped_column(nullable=False)


class Authorisation(GxPRecord, Base):
    """A person's authorisation for a role-critical duty (the QP nomination on the
    manufacturing authorisation, the GDP responsible person), from when to when, on what
    basis, granted by the head of QA's signature."""

    __tablename__ = "training_authorisations"
    __audit_type__ = "training_authorisation"
    __number_prefix__ = "AUTH"
    __draft_states__ = frozenset({AuthorisationStatus.PROPOSED.value})
    __table_args__ = (Index("ix_training_authorisations_person", "user_id", "kind", "status"),)
    __signed_fields__ = (
        "number",
        "user_id",
        "kind",
        "scope",
        "basis",
        "basis_sha256",
        "effective_from",
        "effective_to",
        "revocation_reason",
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False, default="")
    basis: Mapped[str] = mapped_column(Text, nullable=False)
    basis_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_authorisation_files.id", name="fk_training_authorisations_basis_file")
    )
    basis_filename: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    basis_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    effective_from: Mapped[datetime] = mapped_column(nullable=False)
    effective_to: Mapped[datetime | None] = mapped_column()
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revocation_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return f"{self.number} ({self.kind} of user {self.user_id})"

    def in_force(self, at: datetime) -> bool:
        return (
            self.status == AuthorisationStatus.GRANTED
            and self.effective_from <= at
            and (self.effective_to is None or at < self.effective_to)
        )


class CompetenceAssessment(GxPRecord, Base):
    """One assessment of one person against one qualification requirement: a quiz they took
    (signed by themselves) or a practice an observer watched (signed by the observer).
    Failed ones are kept: they are part of the record and of the pass rates."""

    __tablename__ = "training_assessments"
    __audit_type__ = "training_assessment"
    __number_prefix__ = "ASMT"
    __draft_states__ = frozenset({AssessmentStatus.RECORDED.value})
    __table_args__ = (
        Index("ix_training_assessments_person", "user_id", "requirement_id", "status"),
    )
    __signed_fields__ = (
        "number",
        "user_id",
        "requirement_id",
        "kind",
        "assessed_at",
        "passed",
        "score_percent",
        "answers",
        "observations",
        "observer_id",
        "valid_until",
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey(
            "training_qualification_requirements.id", name="fk_training_assessments_requirement"
        ),
        nullable=False,
    )
    job_role_id: Mapped[int] = mapped_column(ForeignKey("training_job_roles.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    score_percent: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[list[Any] | None] = mapped_column(JSONText)
    observations: Mapped[str] = mapped_column(Text, nullable=False, default="")
    observer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A pass counts until then (None: no re-assessment interval); a fail never counts.
    valid_until: Mapped[datetime | None] = mapped_column()

    def audit_label(self) -> str:
        return f"{self.number} ({self.title}, user {self.user_id})"
