"""Where data came from and what happened to it: source systems, import runs, the quarantine
of rejected rows (never dropped), and the lineage of every corrected value."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord, SealedData, Versioned


class SourceKind(StrEnum):
    LIMS = "lims"
    MES = "mes"
    EPCIS = "epcis"
    GS1 = "gs1"
    FAERS = "faers"
    SENSORS = "sensors"


class DataSource(Audited, Versioned, Base):
    """A source system (e.g. "LabWare LIMS, Leiden QC lab") and how its files map onto the
    canonical entities (a column mapping per source)."""

    __tablename__ = "data_sources"
    __audit_type__ = "data_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"source {self.code}"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return "mapping" in changed


class RunStatus(StrEnum):
    RECEIVED = "received"
    COMPLETED = "completed"
    REFUSED = "refused"


class ImportRun(GxPRecord, Base):
    """One delivery of data: a file, an HTTP push, a batch of MQTT messages. Itself a record:
    who, when, from where, the file's hash and the counts."""

    __tablename__ = "import_runs"
    __audit_type__ = "import_run"
    __number_prefix__ = "IMP"
    __draft_states__ = frozenset({RunStatus.RECEIVED.value})

    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The entities the connector delivers, e.g. "batch,material_consumption,process_reading".
    entity: Mapped[str] = mapped_column(String(120), nullable=False)
    filename: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column()
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_corrected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    # Data-quality figures: filled vs expected required fields (completeness) and how late the
    # data arrived (received − measured time, median and maximum, for timeliness).
    fields_expected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    fields_present: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    delay_p50_seconds: Mapped[float | None] = mapped_column()
    max_delay_seconds: Mapped[float | None] = mapped_column()


class QuarantineStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"  # corrected by a person and accepted
    DISCARDED = "discarded"  # judged not to be data (a test message...), kept with the reason


class QuarantinedRow(Audited, Versioned, Base):
    """A rejected row, kept with its source and the reasons. A person may correct and replay
    it (audited) or discard it with a reason; it is never deleted."""

    __tablename__ = "quarantined_rows"
    __audit_type__ = "quarantined_row"
    __table_args__ = (Index("ix_quarantined_rows_source_status", "source_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), nullable=False, index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), nullable=False)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    position: Mapped[str] = mapped_column(String(100), nullable=False)
    raw: Mapped[Any] = mapped_column(JSONText, nullable=False)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSONText, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    corrected: Mapped[Any | None] = mapped_column(JSONText)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replay_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    created_at: Mapped[datetime] = mapped_column(nullable=False)

    def audit_label(self) -> str:
        return f"quarantined {self.entity} row {self.position} (run {self.run_id})"

    def reason_required_for(self, changed: set[str], previous_status: str | None) -> bool:
        return True


class Lineage(SealedData, Base):
    """A value that governance changed: the original, the new value and the rule. Append-only."""

    __tablename__ = "data_lineage"
    __table_args__ = (Index("ix_data_lineage_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), nullable=False, index=True)
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str] = mapped_column(String(60), nullable=False)
    original: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(100), nullable=False)
