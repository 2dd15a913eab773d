"""R&D stage gates: development plans (a notebook project and the platform product it
develops, with each phase's planned dates), the gates that close the phases, their evidence
and the functions' signed approvals.

Its own branch label, beside the notebook's branch: it needs the notebook's projects and
experiments and the platform's products.

Revision ID: 0610_rnd_gates
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db

revision: str = "0610_rnd_gates"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rnd_gates",)
depends_on: str | Sequence[str] | None = ["0601_rnd", "0201_platform"]


def upgrade() -> None:
    op.create_table(
        "rnd_development_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("current_phase", sa.String(length=30), nullable=True),
        sa.Column("started_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rnd_development_plans_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_rnd_development_plans_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["rnd_projects.id"],
            name=op.f("fk_rnd_development_plans_project_id_rnd_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_development_plans")),
        sa.UniqueConstraint("project_id", name=op.f("uq_rnd_development_plans_project_id")),
    )
    op.create_table(
        "rnd_gates",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_gates_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["rnd_projects.id"], name=op.f("fk_rnd_gates_project_id_rnd_projects")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_rnd_gates_submitted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_gates_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_gates")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_gates_number")),
        sa.UniqueConstraint("project_id", "phase", name=op.f("uq_rnd_gates_project_id_phase")),
    )
    with op.batch_alter_table("rnd_gates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rnd_gates_project_id"), ["project_id"], unique=False)

    op.create_table(
        "rnd_gate_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gate_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(length=30), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("decided_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["users.id"], name=op.f("fk_rnd_gate_approvals_approver_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["gate_id"], ["rnd_gates.id"], name=op.f("fk_rnd_gate_approvals_gate_id_rnd_gates")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signatures.id"],
            name=op.f("fk_rnd_gate_approvals_signature_id_electronic_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_gate_approvals")),
        sa.UniqueConstraint(
            "gate_id",
            "round",
            "function",
            name=op.f("uq_rnd_gate_approvals_gate_id_round_function"),
        ),
    )
    with op.batch_alter_table("rnd_gate_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rnd_gate_approvals_gate_id"), ["gate_id"], unique=False
        )

    op.create_table(
        "rnd_gate_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gate_id", sa.Integer(), nullable=False),
        sa.Column("deliverable", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_rnd_gate_evidence_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["rnd_experiments.id"],
            name=op.f("fk_rnd_gate_evidence_experiment_id_rnd_experiments"),
        ),
        sa.ForeignKeyConstraint(
            ["gate_id"], ["rnd_gates.id"], name=op.f("fk_rnd_gate_evidence_gate_id_rnd_gates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_gate_evidence")),
    )
    with op.batch_alter_table("rnd_gate_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rnd_gate_evidence_gate_id"), ["gate_id"], unique=False)

    op.create_table(
        "rnd_phase_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=30), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["rnd_development_plans.id"],
            name=op.f("fk_rnd_phase_plans_plan_id_rnd_development_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_phase_plans")),
        sa.UniqueConstraint("plan_id", "phase", name=op.f("uq_rnd_phase_plans_plan_id_phase")),
    )


def downgrade() -> None:
    op.drop_table("rnd_phase_plans")
    with op.batch_alter_table("rnd_gate_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rnd_gate_evidence_gate_id"))

    op.drop_table("rnd_gate_evidence")
    with op.batch_alter_table("rnd_gate_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rnd_gate_approvals_gate_id"))

    op.drop_table("rnd_gate_approvals")
    with op.batch_alter_table("rnd_gates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rnd_gates_project_id"))

    op.drop_table("rnd_gates")
    op.drop_table("rnd_development_plans")
