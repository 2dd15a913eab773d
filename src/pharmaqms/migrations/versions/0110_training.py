"""Training: job roles, curricula, quizzes, training requirements, governing documents.

Revision ID: 0110_training
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0110_training"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("training",)
depends_on: str | Sequence[str] | None = "0101_documents"


def upgrade() -> None:
    op.create_table(
        "training_job_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_job_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_training_job_roles_name")),
    )
    op.create_table(
        "training_curricula",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["training_job_roles.id"],
            name=op.f("fk_training_curricula_job_role_id_training_job_roles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_curricula")),
        sa.UniqueConstraint(
            "job_role_id", "name", name=op.f("uq_training_curricula_job_role_id_name")
        ),
    )
    with op.batch_alter_table("training_curricula", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_curricula_job_role_id"), ["job_role_id"], unique=False
        )
    op.create_table(
        "training_job_role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["training_job_roles.id"],
            name=op.f("fk_training_job_role_assignments_job_role_id_training_job_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_job_role_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_job_role_assignments")),
    )
    with op.batch_alter_table("training_job_role_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_job_role_assignments_job_role_id"),
            ["job_role_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_training_job_role_assignments_user", ["user_id", "ended_at"], unique=False
        )
    op.create_table(
        "training_curriculum_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("curriculum_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("due_in_days", sa.Integer(), nullable=False),
        sa.Column("recurrence_months", sa.Integer(), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["curriculum_id"],
            ["training_curricula.id"],
            name=op.f("fk_training_curriculum_items_curriculum_id_training_curricula"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_training_curriculum_items_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_curriculum_items")),
        sa.UniqueConstraint(
            "curriculum_id",
            "document_id",
            name=op.f("uq_training_curriculum_items_curriculum_id_document_id"),
        ),
    )
    with op.batch_alter_table("training_curriculum_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_curriculum_items_curriculum_id"),
            ["curriculum_id"],
            unique=False,
        )
    op.create_table(
        "training_governing_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("transition", sa.String(length=60), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_training_governing_documents_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_governing_documents")),
        sa.UniqueConstraint(
            "record_type", "transition", "document_id", name="uq_training_governing_documents_rule"
        ),
    )
    op.create_table(
        "training_quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("questions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("pass_mark_percent", sa.Integer(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_training_quizzes_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_quizzes")),
        sa.UniqueConstraint("document_id", name=op.f("uq_training_quizzes_document_id")),
    )
    op.create_table(
        "training_requirements",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("read_content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("quiz_required", sa.Boolean(), nullable=False),
        sa.Column("quiz_score_percent", sa.Integer(), nullable=True),
        sa.Column("quiz_passed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_requirements_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_training_requirements_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_training_requirements_updated_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_requirements_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_training_requirements_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_requirements")),
        sa.UniqueConstraint("number", name=op.f("uq_training_requirements_number")),
    )
    with op.batch_alter_table("training_requirements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_requirements_person", ["user_id", "document_id", "status"], unique=False
        )
    op.create_table(
        "training_quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answers", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("score_percent", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["training_requirements.id"],
            name=op.f("fk_training_quiz_attempts_requirement_id_training_requirements"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_quiz_attempts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_quiz_attempts")),
    )
    with op.batch_alter_table("training_quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_quiz_attempts_requirement_id"), ["requirement_id"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
