"""Quality links: what each quality record was raised from and led to.

Revision ID: 0115_quality_links
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0115_quality_links"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("quality_links",)
depends_on: str | Sequence[str] | None = "0001_kernel"


def upgrade() -> None:
    op.create_table(
        "quality_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_label", sa.String(length=200), nullable=False),
        sa.Column("target_type", sa.String(length=60), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("target_label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_quality_links_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_links")),
        sa.UniqueConstraint(
            "source_type",
            "source_id",
            "source_label",
            "target_type",
            "target_id",
            name=op.f("uq_quality_links_source_type_source_id_source_label_target_type_target_id"),
        ),
    )
    with op.batch_alter_table("quality_links", schema=None) as batch_op:
        batch_op.create_index("ix_quality_links_source", ["source_type", "source_id"], unique=False)
        batch_op.create_index("ix_quality_links_target", ["target_type", "target_id"], unique=False)


def downgrade() -> None:
    raise RuntimeError("GxP data is never dropped")
