"""API input and output of recalls."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pharmaqms.kernel.schemas import Strict
from pharmaqms.lifecycle.distribution.recalls.models import Recall


class RecallIn(Strict):
    subjects: list[str] = Field(min_length=1, max_length=50)
    classification: str = Field(max_length=3)
    depth: str = Field(max_length=20)
    reason: str = Field(min_length=1, max_length=4000)
    target_pct: float = Field(default=100.0, ge=0, le=100)
    mock: bool = False


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)


class CloseIn(SignIn):
    justification: str | None = Field(default=None, max_length=4000)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AcknowledgementIn(Strict):
    acknowledged_by: str = Field(min_length=1, max_length=200)
    how: str = Field(max_length=20)
    acknowledged_at: datetime | None = None


class ReturnIn(Strict):
    quantity: int = Field(ge=1, le=2_000_000_000)


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    place: str
    place_code: str | None
    place_name: str
    place_kind: str
    is_customer: bool
    quantity_shipped: int
    first_shipped_at: datetime | None
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_how: str | None
    quantity_returned: int
    outstanding: int = 0


class RecallOut(BaseModel):
    id: int
    number: str
    status: str
    mock: bool
    subjects: list[str]
    lots: list[str]
    classification: str
    depth: str
    reason: str
    target_pct: float
    scope_started_at: datetime
    scope_completed_at: datetime
    scope_seconds: float
    scope_events: int
    closure_justification: str | None
    effectiveness: dict[str, Any]
    notifications: list[NotificationOut] | None = None

    @classmethod
    def of(cls, recall: Recall, effectiveness: dict[str, Any]) -> RecallOut:
        return cls(
            id=recall.id,
            number=recall.number,
            status=recall.status,
            mock=recall.mock,
            subjects=json.loads(recall.subjects),
            lots=json.loads(recall.lots),
            classification=recall.classification,
            depth=recall.depth,
            reason=recall.reason,
            target_pct=recall.target_pct,
            scope_started_at=recall.scope_started_at,
            scope_completed_at=recall.scope_completed_at,
            scope_seconds=recall.scope_seconds,
            scope_events=recall.scope_events,
            closure_justification=recall.closure_justification,
            effectiveness=effectiveness,
        )
