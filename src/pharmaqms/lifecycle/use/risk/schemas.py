"""API shapes of a risk-factor analysis: the odds ratios and the counts behind them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pharmaqms.lifecycle.use.risk.analysis import RiskAnalysis


class OddsRowOut(BaseModel):
    factor: str
    level: str
    reference: str
    cases: int
    events: int
    odds_ratio: float
    ci_low: float
    ci_high: float
    ci_method: str = Field(description="profile (penalised likelihood) or Wald")
    p_value: float = Field(description="penalised likelihood-ratio test of OR = 1")
    reading: str


class LevelCountOut(BaseModel):
    factor: str
    level: str
    reference: bool
    cases: int
    events: int


class RiskOut(BaseModel):
    product: str
    method: str
    outcome: str
    cases: int
    events: int
    odds_ratios: list[OddsRowOut]
    evidence: list[LevelCountOut]
    dropped: list[str]
    not_held: list[str]
    caution: str


METHOD = (
    "Firth's penalised logistic regression (Heinze & Schemper 2002); profile penalised-"
    "likelihood 95 % intervals; penalised likelihood-ratio p-values"
)


def risk_out(product: str, found: RiskAnalysis) -> RiskOut:
    return RiskOut(
        product=product,
        method=METHOD,
        outcome=found.outcome,
        cases=found.cases,
        events=found.events,
        odds_ratios=[
            OddsRowOut(
                factor=r.factor,
                level=r.level,
                reference=r.reference,
                cases=r.cases,
                events=r.events,
                odds_ratio=r.odds_ratio,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                ci_method=r.ci_method,
                p_value=r.p_value,
                reading=r.reading,
            )
            for r in found.rows
        ],
        evidence=[
            LevelCountOut(
                factor=e.factor,
                level=e.level,
                reference=e.reference,
                cases=e.cases,
                events=e.events,
            )
            for e in found.evidence
        ],
        dropped=found.dropped,
        not_held=list(found.not_held),
        caution=found.caution,
    )
