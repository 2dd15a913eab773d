"""What an OOS investigation's printed report shows beyond its fields: the result that was out
of specification with every retest of it (the phases' evidence), and the lot and
nonconformance it concerns."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.sections import Section, cells, report_section
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.qc.models import OosInvestigation, QcResult
from pharmaqms.platform.masterdata.models import Lot


def _value(result: QcResult) -> str:
    if result.value is not None:
        return f"{result.value:g} {result.unit}".strip()
    return result.text_value or "—"


@report_section("oos_investigation")
def oos_results(session: Session, record: GxPRecord) -> list[Section]:
    assert isinstance(record, OosInvestigation)
    results = session.scalars(
        select(QcResult)
        .where(or_(QcResult.id == record.result_id, QcResult.retest_of_id == record.result_id))
        .order_by(QcResult.tested_at, QcResult.id)
    )
    rows = [
        [
            "original" if r.id == record.result_id else "retest",
            r.test_name or r.test_code,
            r.sample_id,
            _value(r),
            r.outcome.replace("_", " "),
            r.status + (f": {r.invalidated_reason}" if r.invalidated_reason else ""),
            *cells(r.tested_at, r.analyst),
        ]
        for r in results
    ]
    lot = session.get(Lot, record.lot_id)
    related = [["Lot", lot.audit_label() if lot else "—"]]
    if record.nonconformance_id is not None:
        nc = session.get(NonconformingProduct, record.nonconformance_id)
        related.append(["Nonconformance", nc.number if nc else "—"])
    return [
        Section(
            "Results investigated",
            rows,
            columns=("Result", "Test", "Sample", "Value", "Outcome", "Status", "Tested", "Analyst"),
            widths=(12, 22, 16, 14, 14, 22, 20, 16),
            note="" if rows else "The investigated result is not on file.",
        ),
        Section("Lot and nonconformance", related),
    ]
