"""API shapes of batch-level signals and the lot safety review."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, Field

from pharmaqms.kernel.schemas import Strict
from pharmaqms.lifecycle.use.lots.service import LotSafety, LotSignal
from pharmaqms.quality.schemas import LinkOut, LinksOut


class LotRateOut(BaseModel):
    lot_id: int
    lot_number: str
    cases: int = Field(description="a: valid or open cases citing the lot (suspect/interacting)")
    units_distributed: float | None = Field(
        description="n₁: quantity shipped (inventory movements on shipments); null = not known"
    )
    unit: str | None
    other_cases: int | None = Field(description="b: cases citing the product's other lots")
    other_units: float | None = Field(description="n₀: units of the other lots")
    expected: float | None = Field(description="E = (a + b)·n₁/(n₁ + n₀)")
    rate_ratio: float | None = Field(description="(a/n₁)/(b/n₀); null when b = 0 (unbounded)")
    p_value: float | None = Field(description="exact conditional test: P(X ≥ a), X ~ Bin(a+b, p)")
    threshold: float | None = Field(description="flag needs p below 0.05 / lots compared")
    flagged: bool
    reason: str


class LotFactOut(BaseModel):
    kind: str
    key: str
    label: str
    relation: str
    time: datetime | None
    url: str | None
    detail: str


class FactSectionOut(BaseModel):
    kind: str
    heading: str
    facts: list[LotFactOut]


class CaseRefOut(BaseModel):
    id: int
    number: str
    status: str
    url: str


class LotSafetyOut(BaseModel):
    lot_id: int
    lot_number: str
    item_code: str
    status: str
    product: str | None
    signal: LotRateOut | None
    cases: list[CaseRefOut]
    sections: list[FactSectionOut]
    links: LinksOut


class LotCapaIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    owner_id: int = Field(ge=1, le=2**31 - 1)
    due_at: datetime


class LotCapaOut(BaseModel):
    capa_id: int
    number: str
    url: str
    linked_cases: list[str]


def rate_out(signal: LotSignal) -> LotRateOut:
    rate = signal.rate
    ratio = rate.rate_ratio
    return LotRateOut(
        lot_id=signal.lot.id,
        lot_number=signal.lot.lot_number,
        cases=rate.cases,
        units_distributed=rate.units,
        unit=signal.unit,
        other_cases=rate.other_cases,
        other_units=rate.other_units,
        expected=rate.expected,
        rate_ratio=None if ratio is None or math.isinf(ratio) else ratio,
        p_value=rate.p_value,
        threshold=rate.threshold,
        flagged=rate.flagged,
        reason=rate.reason,
    )


def safety_out(safety: LotSafety) -> LotSafetyOut:
    lot = safety.lot
    return LotSafetyOut(
        lot_id=lot.id,
        lot_number=lot.lot_number,
        item_code=lot.item_code,
        status=lot.status,
        product=safety.product.name if safety.product else None,
        signal=rate_out(safety.signal) if safety.signal else None,
        cases=[
            CaseRefOut(id=c.id, number=c.number, status=c.status, url=f"/pv/cases/{c.id}")
            for c in safety.cases
        ],
        sections=[
            FactSectionOut(
                kind=kind,
                heading=heading,
                facts=[
                    LotFactOut(
                        kind=f.kind,
                        key=f.key,
                        label=f.label,
                        relation=f.relation,
                        time=f.time,
                        url=f.url,
                        detail=f.detail,
                    )
                    for f in facts
                ],
            )
            for kind, heading, facts in safety.sections
        ],
        links=LinksOut(
            raised_from=[LinkOut.model_validate(x.as_dict()) for x in safety.links.raised_from],
            led_to=[LinkOut.model_validate(x.as_dict()) for x in safety.links.led_to],
        ),
    )
