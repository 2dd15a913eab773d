"""Distribution, public product page: a product names its patient leaflet (the number of a
controlled document of type patient leaflet), so the page a patient reaches by scanning the
pack can link the version in force.

Revision ID: 0411_distribution_product_page
Revises: 0410_distribution_serials
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0411_distribution_product_page"
down_revision: str | None = "0410_distribution_serials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("leaflet_document_number", sa.String(length=40)))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("leaflet_document_number")
