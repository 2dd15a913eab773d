"""What the compliance API answers with."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class ControlOut(BaseModel):
    kind: str
    reference: str
    note: str


class RequirementOut(BaseModel):
    id: int
    clause: str
    summary: str
    applies_to: list[str]
    controls: list[ControlOut]
    covered: bool


class RegulationOut(BaseModel):
    id: int
    number: str
    status: str
    code: str
    title: str
    issuer: str
    jurisdiction: str
    edition: str
    effective_on: date | None
    source_url: str
    superseded_by_id: int | None
    requirements_count: int
    covered_count: int
    coverage_pct: float
    requirements: list[RequirementOut] | None = None
