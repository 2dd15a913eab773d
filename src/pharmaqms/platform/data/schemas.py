"""API input and output of the data services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.platform.ingest.models import ImportRun


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSummary(BaseModel):
    id: int
    number: str
    status: str
    source: str
    kind: str
    filename: str
    received_at: datetime
    rows_total: int
    accepted: int
    corrected: int
    duplicate: int
    quarantined: int
    refused_reason: str | None

    @classmethod
    def of(cls, run: ImportRun, source_code: str) -> RunSummary:
        return cls(
            id=run.id,
            number=run.number,
            status=run.status,
            source=source_code,
            kind=run.kind,
            filename=run.filename,
            received_at=run.received_at,
            rows_total=run.rows_total,
            accepted=run.rows_accepted,
            corrected=run.rows_corrected,
            duplicate=run.rows_duplicate,
            quarantined=run.rows_quarantined,
            refused_reason=run.refused_reason,
        )


class RunList(BaseModel):
    runs: list[RunSummary]


class Replay(Strict):
    values: dict[str, Any] = Field(description="The row's fields as corrected.")
    reason: str = Field(min_length=1, max_length=1000)


class Discard(Strict):
    reason: str = Field(min_length=1, max_length=1000)


class SourceCreate(Strict):
    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=20)
    mapping: dict[str, Any] = Field(default_factory=dict)


class QuarantinedOut(BaseModel):
    id: int
    source: str
    import_run: str
    entity: str
    position: str
    status: str
    raw: Any
    reasons: list[dict[str, str]]
    corrected: Any | None
    fields: list[str] = Field(description="The fields the entity has, for a correction form.")
    created_at: datetime
    resolved_at: datetime | None
    replay_run: str | None


class Relinked(BaseModel):
    linked: int
