"""Compliance: the regulations register (regulation editions as GxP records, their requirements
and the controls mapped to each).

Revision ID: 0701_compliance
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0701_compliance"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("compliance",)
depends_on: str | Sequence[str] | None = ["0001_kernel"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "regulations",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("issuer", sa.String(length=120), nullable=False),
        sa.Column("jurisdiction", sa.String(length=60), nullable=False),
        sa.Column("edition", sa.String(length=60), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("changes_from_previous", sa.Text(), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_regulations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["regulations.id"],
            name=op.f("fk_regulations_superseded_by_id_regulations"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_regulations_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulations")),
        sa.UniqueConstraint("number", name=op.f("uq_regulations_number")),
    )
    op.create_index(op.f("ix_regulations_code"), "regulations", ["code"], unique=False)
    op.create_table(
        "regulation_requirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("regulation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("clause", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("applies_to", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["regulation_id"],
            ["regulations.id"],
            name=op.f("fk_regulation_requirements_regulation_id_regulations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulation_requirements")),
        sa.UniqueConstraint(
            "regulation_id", "clause", name=op.f("uq_regulation_requirements_regulation_id_clause")
        ),
    )
    op.create_index(
        op.f("ix_regulation_requirements_regulation_id"),
        "regulation_requirements",
        ["regulation_id"],
        unique=False,
    )
    op.create_table(
        "regulation_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["regulation_requirements.id"],
            name=op.f("fk_regulation_controls_requirement_id_regulation_requirements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulation_controls")),
    )
    op.create_index(
        op.f("ix_regulation_controls_requirement_id"),
        "regulation_controls",
        ["requirement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_regulation_controls_requirement_id"), table_name="regulation_controls")
    op.drop_table("regulation_controls")
    op.drop_index(
        op.f("ix_regulation_requirements_regulation_id"), table_name="regulation_requirements"
    )
    op.drop_table("regulation_requirements")
    op.drop_index(op.f("ix_regulations_code"), table_name="regulations")
    op.drop_table("regulations")
