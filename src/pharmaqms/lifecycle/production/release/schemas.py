"""API shapes of the release checklist and the QP's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict


class RuleOut(BaseModel):
    code: str
    title: str
    basis: str
    passed: bool
    findings: list[str]
    evidence: list[str]


class DecisionOut(BaseModel):
    id: int
    number: str
    status: str
    decision: str
    decided_at: datetime | None
    manufacturing_ended_at: datetime | None
    cycle_time_hours: float | None
    evaluation_hash: str
    evaluation: list[dict[str, Any]]
    signatures: list[SignatureOut]


class ReleaseOut(BaseModel):
    lot_id: int
    lot_number: str
    product_code: str
    lot_status: str
    batch_record_id: int | None
    batch_record_number: str | None
    manufacturing_ended_at: datetime | None
    evaluated_at: datetime
    passed: bool
    failing_rules: list[str]
    evaluation_hash: str
    took_ms: float
    product_family: str
    product_family_title: str = Field(
        description="the family's title in the rule set the checklist ran under"
    )
    rule_set: str = Field(description="the configuration version the checklist ran under")
    rules: list[RuleOut]
    decision: DecisionOut | None = None


class ReleaseRequest(Strict):
    password: str = Field(min_length=1, max_length=256)
    comment: str | None = Field(default=None, max_length=2000)
    # The checklist's hash as shown: a checklist that changed since is refused, not signed.
    evaluation_hash: str | None = Field(default=None, min_length=64, max_length=64)


class RejectRequest(Strict):
    password: str = Field(min_length=1, max_length=256)
    reason: str = Field(min_length=1, max_length=2000)
    comment: str | None = Field(default=None, max_length=2000)


class QueueItemOut(BaseModel):
    lot_id: int
    lot_number: str
    product_code: str
    batch_record_number: str
    manufacturing_ended_at: datetime | None
    passed: bool
    failing_rules: list[str]
