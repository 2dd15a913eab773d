"""Production as the provider of batch analyses (``quality.batch_results``): each finished batch
of a product with its valid QC results and the criterion each was judged against. An
invalidated result (a documented OOS decision) is left out; its retest is shown."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.qc.models import QcResult, ResultStatus
from pharmaqms.platform.masterdata.models import Lot, LotKind
from pharmaqms.quality.batch_results import (
    AnalysisResult,
    BatchAnalysis,
    register_batch_results,
)


def _criterion(result: QcResult) -> str:
    # One judgement per approved specification listing the test; the first is the one the
    # result is shown against (markets sharing a test share the criterion as a rule).
    return str(result.evaluations[0].get("criterion", "")) if result.evaluations else ""


class ProductionBatchResults:
    def batches(self, session: Session, product_code: str) -> list[BatchAnalysis]:
        lots = session.scalars(
            select(Lot)
            .where(Lot.kind == LotKind.FINISHED, Lot.item_code == product_code)
            .order_by(Lot.manufactured_on, Lot.lot_number)
        ).all()
        if not lots:
            return []
        found: dict[int, list[AnalysisResult]] = {lot.id: [] for lot in lots}
        rows = session.scalars(
            select(QcResult)
            .where(
                QcResult.lot_id.in_(sorted(found)),
                QcResult.status == ResultStatus.VALID.value,
            )
            .order_by(QcResult.test_code, QcResult.tested_at, QcResult.id)
        )
        for r in rows:
            found[r.lot_id].append(
                AnalysisResult(
                    r.test_code, r.test_name, r.shown_value, _criterion(r), r.outcome, r.tested_at
                )
            )
        return [
            BatchAnalysis(lot.lot_number, lot.status, lot.manufactured_on, tuple(found[lot.id]))
            for lot in lots
        ]


register_batch_results(ProductionBatchResults())
