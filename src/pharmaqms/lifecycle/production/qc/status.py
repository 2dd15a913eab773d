"""Where a lot stands in QC: every test its approved specifications call for, the valid results
of each, and what is still open. The batch-release rules read this (``qc_status_of_lot``); it
fails closed — a test without a valid result, a result not evaluated, an open investigation or
an unassessed trend all keep a lot from "passed". Open nonconforming product records are listed
beside the verdict, not in it: a critical deviation makes a batch nonconforming without any QC
result failing, and release checks both."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.nonconforming.models import (
    OPEN_NONCONFORMANCE_STATUSES,
    NonconformingProduct,
)
from pharmaqms.lifecycle.production.qc.models import (
    OPEN_INVESTIGATION_STATUSES,
    CertificateOfAnalysis,
    CertificateStatus,
    OosInvestigation,
    QcResult,
    ResultOutcome,
    ResultStatus,
    TrendStatus,
)
from pharmaqms.lifecycle.production.qc.results import get_lot
from pharmaqms.lifecycle.production.qc.specifications import approved_specifications


class QcVerdict(StrEnum):
    PASSED = "passed"
    PENDING = "pending"  # tests without a valid result, results not evaluated, trends open
    FAILED = "failed"  # a valid out-of-specification result stands
    UNDER_INVESTIGATION = "under_investigation"  # an OOS investigation is open
    NO_SPECIFICATION = "no_specification"


MISSING = "missing"


@dataclass(frozen=True)
class TestLine:
    test_code: str
    test_name: str
    criteria: tuple[str, ...]  # "EU (QSPEC-2026-0001 r2): 95 – 105 %"
    results: tuple[QcResult, ...]  # the valid ones, oldest first
    outcome: str  # pass, fail, not_evaluated or missing

    @property
    def shown(self) -> str:
        return ", ".join(r.shown_value for r in self.results) or "—"


@dataclass(frozen=True)
class LotQcStatus:
    lot_id: int
    lot_label: str
    item_code: str
    lot_status: str
    verdict: QcVerdict
    tests: tuple[TestLine, ...]
    specifications: tuple[str, ...]
    open_investigations: tuple[str, ...]
    open_nonconformances: tuple[str, ...]
    open_trends: tuple[str, ...]
    approved_certificates: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.verdict == QcVerdict.PASSED


def _line_outcome(results: list[QcResult]) -> str:
    if not results:
        return MISSING
    outcomes = {r.outcome for r in results}
    if ResultOutcome.FAIL in outcomes:
        return ResultOutcome.FAIL.value
    if ResultOutcome.NOT_EVALUATED in outcomes:
        return ResultOutcome.NOT_EVALUATED.value
    return ResultOutcome.PASS.value


def qc_status_of_lot(session: Session, lot_id: int) -> LotQcStatus:
    """The QC standing of a lot (batch or material lot) now."""
    lot = get_lot(session, lot_id)
    specs = approved_specifications(session, lot.item_code)
    valid = list(
        session.scalars(
            select(QcResult)
            .where(QcResult.lot_id == lot.id, QcResult.status == ResultStatus.VALID)
            .order_by(QcResult.tested_at, QcResult.id)
        )
    )
    criteria: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for spec in specs:
        for test in spec.tests:
            criteria.setdefault(test.test_code, []).append(
                f"{spec.market} ({spec.number}): {test.criterion_text}"
            )
            names.setdefault(test.test_code, test.test_name)
    lines = []
    for code, shown in criteria.items():
        results = [r for r in valid if r.test_code == code]
        lines.append(
            TestLine(code, names[code], tuple(shown), tuple(results), _line_outcome(results))
        )
    open_oos = tuple(
        session.scalars(
            select(OosInvestigation.number).where(
                OosInvestigation.lot_id == lot.id,
                OosInvestigation.status.in_([s.value for s in OPEN_INVESTIGATION_STATUSES]),
            )
        )
    )
    open_ncs = tuple(
        session.scalars(
            select(NonconformingProduct.number).where(
                NonconformingProduct.lot_id == lot.id,
                NonconformingProduct.status.in_([s.value for s in OPEN_NONCONFORMANCE_STATUSES]),
            )
        )
    )
    trends = tuple(r.audit_label() for r in valid if r.trend_status == TrendStatus.OPEN)
    certificates = tuple(
        session.scalars(
            select(CertificateOfAnalysis.number).where(
                CertificateOfAnalysis.lot_id == lot.id,
                CertificateOfAnalysis.status == CertificateStatus.APPROVED,
            )
        )
    )
    reasons: list[str] = []
    if not specs:
        reasons.append(f"no approved specification for {lot.item_code}")
    reasons.extend(f"OOS investigation {n} is open" for n in open_oos)
    for line in lines:
        if line.outcome == ResultOutcome.FAIL:
            reasons.append(f"{line.test_code}: out of specification ({line.shown})")
        elif line.outcome == ResultOutcome.NOT_EVALUATED:
            reasons.append(f"{line.test_code}: a result could not be evaluated ({line.shown})")
        elif line.outcome == MISSING:
            reasons.append(f"{line.test_code}: no valid result")
    reasons.extend(f"out-of-trend result not assessed: {t}" for t in trends)
    if not specs:
        verdict = QcVerdict.NO_SPECIFICATION
    elif open_oos:
        verdict = QcVerdict.UNDER_INVESTIGATION
    elif any(line.outcome == ResultOutcome.FAIL for line in lines):
        verdict = QcVerdict.FAILED
    elif any(line.outcome != ResultOutcome.PASS for line in lines) or trends:
        verdict = QcVerdict.PENDING
    else:
        verdict = QcVerdict.PASSED
    return LotQcStatus(
        lot_id=lot.id,
        lot_label=lot.audit_label(),
        item_code=lot.item_code,
        lot_status=lot.status,
        verdict=verdict,
        tests=tuple(lines),
        specifications=tuple(s.number for s in specs),
        open_investigations=open_oos,
        open_nonconformances=open_ncs,
        open_trends=trends,
        approved_certificates=certificates,
        reasons=tuple(reasons),
    )
