"""Kernel: sandbox copies of the database for trying a configuration draft — the register of
copies, the evidence read back from them and their removal (in the live database), and the
mark a copy carries. All four append-only.

Revision ID: 0041_kernel_config_sandbox
Revises: 0040_kernel_config
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0041_kernel_config_sandbox"
down_revision: str | None = "0040_kernel_config"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = pharmaqms.kernel.db.UTCDateTime(timezone=True)


def _draft_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("config_version_id", sa.Integer(), nullable=False),
        sa.Column("config_number", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "config_sandbox_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        *_draft_columns(),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("made_by_id", sa.Integer(), nullable=False),
        sa.Column("made_by", sa.String(length=120), nullable=False),
        sa.Column("made_at", _WHEN, nullable=False),
        sa.Column("source_last_seq", sa.Integer(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_sandbox_copies")),
    )
    op.create_index(
        "ix_config_sandbox_copies_version", "config_sandbox_copies", ["config_version_id"]
    )
    op.create_table(
        "config_sandbox_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        *_draft_columns(),
        sa.Column("content", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("made_at", _WHEN, nullable=False),
        sa.Column("copied_last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_sandbox_mark")),
    )
    op.create_table(
        "config_sandbox_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("collected_by_id", sa.Integer(), nullable=False),
        sa.Column("collected_by", sa.String(length=120), nullable=False),
        sa.Column("collected_at", _WHEN, nullable=False),
        sa.Column("trail_intact", sa.Boolean(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("uses_of_draft", sa.Integer(), nullable=False),
        sa.Column("findings", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_sandbox_evidence")),
    )
    op.create_index("ix_config_sandbox_evidence_copy", "config_sandbox_evidence", ["copy_id"])
    op.create_table(
        "config_sandbox_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("removed_by_id", sa.Integer(), nullable=False),
        sa.Column("removed_by", sa.String(length=120), nullable=False),
        sa.Column("removed_at", _WHEN, nullable=False),
        sa.Column("how", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_sandbox_disposals")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_config_sandbox_disposals_copy_id")),
    )
    for table in TABLES:
        make_append_only(op, table)


TABLES = (
    "config_sandbox_copies",
    "config_sandbox_mark",
    "config_sandbox_evidence",
    "config_sandbox_disposals",
)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
