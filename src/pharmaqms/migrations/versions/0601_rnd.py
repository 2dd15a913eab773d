"""R&D: the electronic lab notebook. Projects with their wrapped data keys, experiment
templates, experiments, entries and raw data files (encrypted columns end in ``_ct``); the
files' encrypted bytes are append-only.

Revision ID: 0601_rnd
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pharmaqms.kernel.db
from pharmaqms.kernel.migrate import make_append_only

revision: str = "0601_rnd"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rnd",)
depends_on: str | Sequence[str] | None = ["0001_kernel"]


def upgrade() -> None:
    op.create_table(
        "rnd_file_blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_uid", sa.String(length=32), nullable=False),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_file_blobs")),
        sa.UniqueConstraint("file_uid", name=op.f("uq_rnd_file_blobs_file_uid")),
    )
    op.create_table(
        "rnd_projects",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_projects_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["users.id"], name=op.f("fk_rnd_projects_lead_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_projects_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_rnd_projects_code")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_projects_number")),
    )
    op.create_table(
        "rnd_templates",
        sa.Column("experiment_type", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sections", pharmaqms.kernel.db.JSONText(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_templates_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_templates_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_templates")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_templates_number")),
    )
    op.create_table(
        "rnd_data_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("master_key_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("wrapped_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["rnd_projects.id"],
            name=op.f("fk_rnd_data_keys_project_id_rnd_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_data_keys")),
        sa.UniqueConstraint("project_id", name=op.f("uq_rnd_data_keys_project_id")),
    )
    op.create_table(
        "rnd_experiments",
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("protocol_ct", sa.LargeBinary(), nullable=False),
        sa.Column("materials_ct", sa.LargeBinary(), nullable=False),
        sa.Column("equipment_ct", sa.LargeBinary(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_experiments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["rnd_projects.id"],
            name=op.f("fk_rnd_experiments_project_id_rnd_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["rnd_templates.id"],
            name=op.f("fk_rnd_experiments_template_id_rnd_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_experiments_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_experiments")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_experiments_number")),
        sa.UniqueConstraint("uid", name=op.f("uq_rnd_experiments_uid")),
    )
    op.create_index(
        op.f("ix_rnd_experiments_project_id"), "rnd_experiments", ["project_id"], unique=False
    )

    op.create_table(
        "rnd_entries",
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("content_ct", sa.LargeBinary(), nullable=False),
        sa.Column("fields_ct", sa.LargeBinary(), nullable=False),
        sa.Column("results_ct", sa.LargeBinary(), nullable=False),
        sa.Column("conclusions_ct", sa.LargeBinary(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=True),
        sa.Column("ed25519_signature", sa.String(length=128), nullable=True),
        sa.Column("signing_key_id", sa.String(length=40), nullable=True),
        sa.Column("signing_public_key", sa.String(length=64), nullable=True),
        sa.Column("signed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=True),
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
            ["amends_id"], ["rnd_entries.id"], name=op.f("fk_rnd_entries_amends_id_rnd_entries")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rnd_entries_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["rnd_experiments.id"],
            name=op.f("fk_rnd_entries_experiment_id_rnd_experiments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rnd_entries_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_entries")),
        sa.UniqueConstraint("experiment_id", "seq", name=op.f("uq_rnd_entries_experiment_id_seq")),
        sa.UniqueConstraint("number", name=op.f("uq_rnd_entries_number")),
        sa.UniqueConstraint("uid", name=op.f("uq_rnd_entries_uid")),
    )
    op.create_index(
        op.f("ix_rnd_entries_experiment_id"), "rnd_entries", ["experiment_id"], unique=False
    )

    op.create_table(
        "rnd_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.Integer(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["rnd_file_blobs.id"], name=op.f("fk_rnd_files_blob_id_rnd_file_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["rnd_entries.id"], name=op.f("fk_rnd_files_entry_id_rnd_entries")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_rnd_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_files")),
        sa.UniqueConstraint("uid", name=op.f("uq_rnd_files_uid")),
    )
    op.create_index(op.f("ix_rnd_files_entry_id"), "rnd_files", ["entry_id"], unique=False)

    op.create_table(
        "rnd_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("meaning", sa.String(length=40), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", pharmaqms.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ed25519_signature", sa.String(length=128), nullable=False),
        sa.Column("signing_key_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["rnd_entries.id"], name=op.f("fk_rnd_attestations_entry_id_rnd_entries")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signatures.id"],
            name=op.f("fk_rnd_attestations_signature_id_electronic_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rnd_attestations")),
        sa.UniqueConstraint("signature_id", name=op.f("uq_rnd_attestations_signature_id")),
    )
    op.create_index(
        op.f("ix_rnd_attestations_entry_id"), "rnd_attestations", ["entry_id"], unique=False
    )
    make_append_only(op, "rnd_file_blobs")


def downgrade() -> None:
    raise RuntimeError("GxP records are never dropped")
