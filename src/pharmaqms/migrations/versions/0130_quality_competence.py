"""Training: competence beyond training — qualification requirements of job roles,
authorisations for role-critical duties with their basis documents (append-only, byte for
byte), and competence assessments.

Revision ID: 0130_quality_competence
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0130_quality_competence"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("quality_competence",)
depends_on: str | Sequence[str] | None = ["0110_training"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "training_authorisation_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_authorisation_files")),
    )
    with op.batch_alter_table("training_authorisation_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_authorisation_files_sha256"), ["sha256"], unique=False
        )
    make_append_only(op, "training_authorisation_files")

    op.create_table(
        "training_authorisations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("basis_file_id", sa.Integer(), nullable=True),
        sa.Column("basis_filename", sa.String(length=200), nullable=False),
        sa.Column("basis_sha256", sa.String(length=64), nullable=False),
        sa.Column("effective_from", _WHEN, nullable=False),
        sa.Column("effective_to", _WHEN, nullable=True),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", _WHEN, nullable=True),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["basis_file_id"],
            ["training_authorisation_files.id"],
            name="fk_training_authorisations_basis_file",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_authorisations_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_training_authorisations_granted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_training_authorisations_updated_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_authorisations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_authorisations")),
        sa.UniqueConstraint("number", name=op.f("uq_training_authorisations_number")),
    )
    with op.batch_alter_table("training_authorisations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_authorisations_person", ["user_id", "kind", "status"], unique=False
        )

    op.create_table(
        "training_qualification_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("authorisation_kind", sa.String(length=40), nullable=True),
        sa.Column("valid_months", sa.Integer(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_training_qual_requirements_document"
        ),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["training_job_roles.id"],
            name="fk_training_qual_requirements_job_role",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_qualification_requirements")),
    )
    with op.batch_alter_table("training_qualification_requirements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_qualification_requirements_job_role_id"),
            ["job_role_id"],
            unique=False,
        )

    op.create_table(
        "training_assessments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("job_role_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("assessed_at", _WHEN, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("score_percent", sa.Integer(), nullable=True),
        sa.Column("answers", pharmaqms.kernel.db.JSONText(), nullable=True),
        sa.Column("observations", sa.Text(), nullable=False),
        sa.Column("observer_id", sa.Integer(), nullable=True),
        sa.Column("valid_until", _WHEN, nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_assessments_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["job_role_id"],
            ["training_job_roles.id"],
            name=op.f("fk_training_assessments_job_role_id_training_job_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["observer_id"], ["users.id"], name=op.f("fk_training_assessments_observer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["training_qualification_requirements.id"],
            name="fk_training_assessments_requirement",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_training_assessments_updated_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_assessments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assessments")),
        sa.UniqueConstraint("number", name=op.f("uq_training_assessments_number")),
    )
    with op.batch_alter_table("training_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_assessments_person", ["user_id", "requirement_id", "status"], unique=False
        )


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable: authorisations are not dropped")
