"""Kernel: role grant requests (two administrators for roles that sign) and password resets by
an administrator (confirmed by their owner before they sign again).

Two new tables and no change to an existing one: a new column of an audited table would change
the state hash of every existing row, and ``audit verify`` would report them all as altered.

Revision ID: 0003_kernel_admin_accounts
Revises: 0002_kernel_keyed_chain
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0003_kernel_admin_accounts"
down_revision: str | None = "0002_kernel_keyed_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = pharmaqms.kernel.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "role_grant_requests",
        sa.Column("grantee_id", sa.Integer(), nullable=False),
        sa.Column("roles", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("retired_at", UTC(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_role_grant_requests_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["grantee_id"], ["users.id"], name=op.f("fk_role_grant_requests_grantee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_role_grant_requests_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_role_grant_requests_number")),
    )
    with op.batch_alter_table("role_grant_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_grant_requests_grantee_id"), ["grantee_id"], unique=False
        )

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reset_by_id", sa.Integer(), nullable=False),
        sa.Column("reset_at", UTC(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("temporary_hash", sa.String(length=255), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("password_set_at", UTC(timezone=True), nullable=True),
        sa.Column("confirmed_at", UTC(timezone=True), nullable=True),
        sa.Column("disputed_at", UTC(timezone=True), nullable=True),
        sa.Column("owner_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["security_alerts.id"],
            name=op.f("fk_password_resets_alert_id_security_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["reset_by_id"], ["users.id"], name=op.f("fk_password_resets_reset_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded: GxP data is never dropped")
