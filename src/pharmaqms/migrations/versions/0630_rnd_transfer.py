"""R&D: development recipes (formula, process with its critical process parameters, critical
quality attributes; revisions approved by signature) and their technology transfers into
production through change control.

Revision ID: 0630_rnd_transfer
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0630_rnd_transfer"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rnd_transfer",)
depends_on: str | Sequence[str] | None = ["0620_rnd_stability", "0610_rnd_gates", "0122_changes"]


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "rnd_recipes",
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("batch_size", sa.Float(), nullable=False),
        sa.Column("batch_unit", sa.String(length=20), nullable=False),
        sa.Column("formula", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("steps", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("attributes", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("change_summary", sa.Text(), nullable=False),
        _utc("approved_at", nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("retired_at", nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_recipes_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_recipes_updated_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_rnd_recipes_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["rnd_projects.id"], name=op.f("fk_rnd_recipes_project_id_rnd_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_recipes")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_recipes_number")),
        sa.UniqueConstraint("family", "revision", name=op.f("uq_rnd_recipes_family_revision")),
    )
    op.create_index(op.f("ix_rnd_recipes_family"), "rnd_recipes", ["family"], unique=False)
    op.create_index(op.f("ix_rnd_recipes_project_id"), "rnd_recipes", ["project_id"], unique=False)
    op.create_index(
        op.f("ix_rnd_recipes_product_code"), "rnd_recipes", ["product_code"], unique=False
    )
    op.create_table(
        "rnd_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("market", sa.String(length=40), nullable=False),
        _utc("raised_at"),
        sa.Column("raised_by_id", sa.Integer(), nullable=False),
        sa.Column("drafts", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("governing_sops", pharmaqms.kernel.db.JSONText(), nullable=False),
        _utc("implemented_at", nullable=True),
        sa.Column("implemented_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipe_id"], ["rnd_recipes.id"], name=op.f("fk_rnd_transfers_recipe_id_rnd_recipes")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["rnd_projects.id"],
            name=op.f("fk_rnd_transfers_project_id_rnd_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_requests.id"],
            name=op.f("fk_rnd_transfers_change_id_change_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["users.id"], name=op.f("fk_rnd_transfers_raised_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["implemented_by_id"],
            ["users.id"],
            name=op.f("fk_rnd_transfers_implemented_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_transfers")),
        sa.UniqueConstraint("change_id", name=op.f("uq_rnd_transfers_change_id")),
    )
    op.create_index(
        op.f("ix_rnd_transfers_recipe_id"), "rnd_transfers", ["recipe_id"], unique=False
    )
    op.create_index(
        op.f("ix_rnd_transfers_project_id"), "rnd_transfers", ["project_id"], unique=False
    )


def downgrade() -> None:
    raise RuntimeError("GxP records are never dropped")
