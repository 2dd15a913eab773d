"""The tables of controlled configuration: one row per version of a configuration key (a GxP
record: drafted, tested on a sandbox copy, approved with a signature, in force from a date),
and the append-only record of which version an action ran under; and the sandbox copies a
draft is tried on (the register of copies and what was done on them, kept in the live database,
and the mark a copy carries)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import GxPRecord, SealedData


class ConfigStatus(StrEnum):
    DRAFT = "draft"
    # The sandbox run passed: validated and evaluated against the current records.
    TESTED = "tested"
    # Signed by QA; in force from ``effective_from`` until a later approved version's date.
    APPROVED = "approved"
    CANCELLED = "cancelled"


class ConfigVersion(GxPRecord, Base):
    __tablename__ = "config_versions"
    __audit_type__ = "config_version"
    __number_prefix__ = "CFG"
    __draft_states__ = frozenset({ConfigStatus.DRAFT.value})
    # What the approval signature covers: the definition and when and under which change it
    # applies — not the sandbox summary, which is evidence, not the definition.
    __signed_fields__ = (
        "key",
        "version_no",
        "content",
        "content_sha256",
        "effective_from",
        "change_number",
        "rationale",
    )

    key: Mapped[str] = mapped_column(String(120), nullable=False)
    version_no: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[Any] = mapped_column(JSONText, nullable=False)
    # SHA-256 of the canonical JSON of ``content``: what an action that ran under it records.
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    effective_from: Mapped[datetime] = mapped_column(nullable=False)
    # The change control it is made under (kept as id and number: the kernel doesn't know the
    # change control module that owns them). Empty for the code's built-in first version.
    change_id: Mapped[int | None] = mapped_column(Integer)
    change_number: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    rationale: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The sandbox run's findings, kept as the test evidence shown at approval.
    test_summary: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    tested_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("key", "version_no"),
        Index("ix_config_versions_key_status_from", "key", "status", "effective_from"),
    )

    def audit_label(self) -> str:
        return f"{self.key} v{self.version_no}"


class ConfigUse(SealedData, Base):
    """That an action on a record ran under a configuration version: the deviation's due date
    under ``quality.deviation_due_days`` v2, a signed approval under the deviation workflow's
    signature rules v1. Append-only, so an old record keeps showing the rule it ran under."""

    __tablename__ = "config_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(60), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    version_no: Mapped[int] = mapped_column(Integer, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    used_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("ix_config_uses_record", "record_type", "record_id"),)


class SandboxCopy(SealedData, Base):
    """In the live database: a copy of it made to try a configuration draft on (Veeva's
    sandbox vault, on the engines we have): which draft, with which content, made by whom,
    when, holding the live trail up to which entry, and where (its URL without a password).
    The copy holds this row too: that is how a copy is matched to its register entry."""

    __tablename__ = "config_sandbox_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config_version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    config_number: Mapped[str] = mapped_column(String(60), nullable=False)
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    version_no: Mapped[int] = mapped_column(Integer, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    made_by_id: Mapped[int] = mapped_column(Integer, nullable=False)
    made_by: Mapped[str] = mapped_column(String(120), nullable=False)
    made_at: Mapped[datetime] = mapped_column(nullable=False)
    # The live trail's last entry when the copy was registered: the copy holds at least that.
    source_last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    target: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_config_sandbox_copies_version", "config_version_id"),)


class SandboxMark(SealedData, Base):
    """In a copy only: this database is the sandbox copy ``copy_id``, and the draft it was made
    for is in force in it from ``made_at``, with the content it had then (a draft revised in
    the copy does not change what the copy tries). A live database has no row here; a database
    with one holds back its mail and deliveries and shows a banner on every page."""

    __tablename__ = "config_sandbox_mark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(Integer, nullable=False)
    config_version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    config_number: Mapped[str] = mapped_column(String(60), nullable=False)
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    version_no: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[Any] = mapped_column(JSONText, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    made_at: Mapped[datetime] = mapped_column(nullable=False)
    # The copy's last audit entry before this mark: later entries were made in the sandbox.
    copied_last_seq: Mapped[int] = mapped_column(Integer, nullable=False)


class SandboxEvidence(SealedData, Base):
    """In the live database: what was done on a sandbox copy, read back from it — its trail
    checked, the actions taken in it after the copy was made, and the ones that ran under the
    draft. The draft's test run cites it."""

    __tablename__ = "config_sandbox_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(Integer, nullable=False)
    collected_by_id: Mapped[int] = mapped_column(Integer, nullable=False)
    collected_by: Mapped[str] = mapped_column(String(120), nullable=False)
    collected_at: Mapped[datetime] = mapped_column(nullable=False)
    trail_intact: Mapped[bool] = mapped_column(Boolean, nullable=False)
    actions: Mapped[int] = mapped_column(Integer, nullable=False)
    uses_of_draft: Mapped[int] = mapped_column(Integer, nullable=False)
    findings: Mapped[list[str]] = mapped_column(JSONText, nullable=False)

    __table_args__ = (Index("ix_config_sandbox_evidence_copy", "copy_id"),)


class SandboxDisposal(SealedData, Base):
    """In the live database: that a sandbox copy was removed (its database dropped or its file
    deleted, with the key file copied beside it), by whom and when — the copies of GxP data
    made for testing are accounted for until they are gone."""

    __tablename__ = "config_sandbox_disposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    removed_by_id: Mapped[int] = mapped_column(Integer, nullable=False)
    removed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    removed_at: Mapped[datetime] = mapped_column(nullable=False)
    how: Mapped[str] = mapped_column(Text, nullable=False)
