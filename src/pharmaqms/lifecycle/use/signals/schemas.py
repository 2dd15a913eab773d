"""API shapes of pharmacovigilance signals and the detection run."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import LinksOut


class ThresholdsIn(Strict):
    """When each method flags a pair (defaults: Evans for PRR, ROR₀₂.₅ > 1, IC025 > 0,
    EB05 ≥ 2)."""

    prr_min: float = Field(default=2.0, gt=0, le=1000)
    chi2_min: float = Field(default=4.0, ge=0, le=1e6)
    prr_min_count: int = Field(default=3, ge=1, le=1_000_000)
    ror_lower_min: float = Field(default=1.0, ge=0, le=1000)
    ror_min_count: int = Field(default=3, ge=1, le=1_000_000)
    ic025_min: float = Field(default=0.0, ge=-20, le=20)
    eb05_min: float = Field(default=2.0, gt=0, le=1000)


class DetectionIn(Strict):
    methods: list[str] = Field(
        default_factory=lambda: ["prr", "ror", "ic", "ebgm"], min_length=1, max_length=4
    )
    min_count: int = Field(default=3, ge=1, le=1_000_000)
    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)


class SignalSummary(BaseModel):
    id: int
    number: str
    status: str
    product: str
    event_term: str
    meddra_code: str
    lot_number: str
    source: str
    detected_at: datetime
    validation_due: date
    overdue: bool
    cases: int
    conclusion: str | None
    risk: str | None


class DetectionOut(BaseModel):
    pairs: int
    flagged: int
    opened: list[SignalSummary]
    refreshed: list[SignalSummary]
    unchanged: list[SignalSummary]


class ManualSignalIn(Strict):
    product: str = Field(min_length=1, max_length=200)
    event_term: str = Field(min_length=1, max_length=500)
    meddra_code: str = Field(default="", max_length=8)
    basis: str = Field(min_length=1, max_length=20_000)
    case_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=1000
    )


class LotSignalIn(Strict):
    lot_id: int = Field(ge=1, le=2**31 - 1)


class SignedStepIn(Strict):
    """A signed step names the version of the signal the signer reviewed (Part 11 §11.50)."""

    password: str = Field(min_length=1, max_length=256)
    expected_version: int = Field(ge=1, le=2**31 - 1)
    comment: str = Field(default="", max_length=4000)


class RefuteIn(SignedStepIn):
    reason: str = Field(min_length=1, max_length=4000)


class SignalAssessmentIn(Strict):
    assessment: str = Field(min_length=1, max_length=20_000)
    conclusion: str = Field(max_length=20)
    risk: str = Field(max_length=40)
    expected_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ActionIn(Strict):
    kind: str = Field(max_length=20)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    owner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    due_at: datetime | None = None


class ActionOut(BaseModel):
    kind: str
    title: str
    description: str
    record_type: str
    record_id: int | None
    record_number: str
    recorded_at: datetime


class EvidenceOut(BaseModel):
    case_id: int
    number: str
    status: str


class SignalOut(SignalSummary):
    version: int
    event_key: str
    detection_basis: str
    table: dict[str, int | None]
    figures: dict[str, Any]
    latest_figures: dict[str, Any]
    refreshed_at: datetime | None
    refutation_reason: str
    assessment: str
    evidence: list[EvidenceOut]
    actions: list[ActionOut]
    signatures: list[SignatureOut]
    links: LinksOut


class PairOut(BaseModel):
    """One row of the disproportionality table of the case base."""

    product: str
    event_key: str
    event_term: str
    meddra_code: str
    figures: dict[str, Any]
    flagged_by: list[str]
    signal_id: int | None
    signal_number: str | None
