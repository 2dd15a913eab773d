"""The audit chain is keyed: the head records from which entry on links are HMACs under the
key file's audit key, which key that is, and its own MAC (kernel/chain.py).

Revision ID: 0002_kernel_keyed_chain
Revises: 0001_kernel
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_kernel_keyed_chain"
down_revision: str | None = "0001_kernel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keyed_from", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    # Entries written so far keep their plain links; keying starts after them (pharmaqms init
    # keys the chain, at the head as it then stands).
    op.execute("UPDATE audit_chain_head SET keyed_from = seq + 1")


def downgrade() -> None:
    raise RuntimeError("the audit trail is never unkeyed")
