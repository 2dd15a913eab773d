"""Kernel: configuration as controlled records — the versions of each configuration key (GxP
records: drafted, tested, approved, in force from a date) and the append-only record of the
version an action ran under.

Revision ID: 0040_kernel_config
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0040_kernel_config"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("kernel_config",)
depends_on: str | Sequence[str] | None = ["0001_kernel"]

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("content", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("effective_from", _WHEN, nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("change_number", sa.String(length=60), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("test_summary", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("tested_at", _WHEN, nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_config_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_config_versions_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_config_versions_number")),
        sa.UniqueConstraint("key", "version_no", name=op.f("uq_config_versions_key_version_no")),
    )
    op.create_index(
        "ix_config_versions_key_status_from",
        "config_versions",
        ["key", "status", "effective_from"],
    )
    op.create_table(
        "config_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("used_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_uses")),
    )
    op.create_index("ix_config_uses_record", "config_uses", ["record_type", "record_id"])
    make_append_only(op, "config_uses")


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded")
