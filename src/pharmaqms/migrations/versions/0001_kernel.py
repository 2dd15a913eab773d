"""Kernel: users, roles, sessions, tokens, audit trail, signatures, counters, tasks.

Revision ID: 0001_kernel
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0001_kernel"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("kernel",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("record_label", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("state_hash", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entries_seq")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_audit_entries_record", ["record_type", "record_id", "seq"], unique=False
        )

    op.create_table(
        "record_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_counters")),
        sa.UniqueConstraint("prefix", "year", name=op.f("uq_record_counters_prefix_year")),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("permissions", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("roles", pharmaqms.kernel.db.JSONText(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_service_account", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column(
            "password_changed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "electronic_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("record_label", sa.String(length=200), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.String(length=60), nullable=False),
        sa.Column("signed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(length=60), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("signature_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_electronic_signatures_signer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electronic_signatures")),
    )
    with op.batch_alter_table("electronic_signatures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_electronic_signatures_record", ["record_type", "record_id"], unique=False
        )

    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("set_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_history_user_id"), ["user_id"], unique=False)

    op.create_table(
        "security_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledgement", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_security_alerts_acknowledged_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_security_alerts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_alerts")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("record_label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("assignee_role", sa.String(length=64), nullable=True),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("due_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"], ["users.id"], name=op.f("fk_tasks_assignee_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_tasks_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_open_role", ["status", "assignee_role"], unique=False)
        batch_op.create_index("ix_tasks_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
    for table in ("audit_entries", "electronic_signatures"):
        make_append_only(op, table)
    op.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, seq, entry_hash) VALUES (1, 0, :genesis)"
        ).bindparams(genesis="0" * 64)
    )


def downgrade() -> None:
    raise RuntimeError("the kernel schema is never downgraded: GxP data is never dropped")
