"""Kernel: on PostgreSQL, audit entries, sensor and process readings and EPCIS events become
tables partitioned by month on their time column (kernel/partitions.py says what that changes
and why); SQLite is left as it is.

Each table's existing rows stay where they are, as the partition of everything before a
month boundary; a DEFAULT partition takes any row no month is ready for; this month and the
next three get their partitions, and ``pharmaqms_ensure_partitions`` (SECURITY DEFINER, so
the application role's daily job can run it without owning a table) creates later ones. On a
large database run ``pharmaqms db partitions prepare`` first (docs/deploy.md): then this
migration only renames and attaches, and holds its locks for moments.

Runs after every migration that created, changed or pointed at these tables (kernel,
platform, production, distribution).

Revision ID: 0050_kernel_partitions
Revises: -
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from pharmaqms.kernel import partitions

revision: str = "0050_kernel_partitions"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("kernel_partitions",)
depends_on: str | Sequence[str] | None = [
    "0005_kernel_time_zones",
    "0217_platform_location_geo",
    "0321_production_sealed",
    "0330_production_loops",
    "0411_distribution_product_page",
    "0440_distribution_routes",
]

MONTHS_AHEAD = 3


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # Every lock the conversion needs, first and in one order: taken as it goes, a writer
    # deadlocked with it (docs/benchmarks.md, "Converting … to partitions").
    partitions.lock_for_conversion(conn, list(partitions.MONTHLY))
    for table in partitions.MONTHLY:
        partitions.convert(conn, table)
    op.execute(partitions.ENSURE_FUNCTION)
    partitions.ensure(conn, MONTHS_AHEAD)


def downgrade() -> None:
    raise RuntimeError("GxP data is never made editable")
