"""Use: what a case says about the dose, the route and the patient's weight.

Its own branch label on the use branch's first revision, beside the signals (0510) and the
periodic reports (0520).

Revision ID: 0530_use_case_details
Revises: 0501_use
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0530_use_case_details"
down_revision: str | None = "0501_use"
branch_labels: str | Sequence[str] | None = ("use_case_details",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("patient_weight_kg", sa.Numeric(precision=6, scale=2), nullable=True)
        )
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dose_value", sa.Numeric(precision=18, scale=6), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dose_unit", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("route", sa.String(length=3), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("pv_case_products", schema=None) as batch_op:
        batch_op.drop_column("route")
        batch_op.drop_column("dose_unit")
        batch_op.drop_column("dose_value")
    with op.batch_alter_table("pv_cases", schema=None) as batch_op:
        batch_op.drop_column("patient_weight_kg")
