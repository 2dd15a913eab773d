"""What a nonconformance's printed report shows beyond its fields: the lot it holds and the
record it was raised from."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.sections import Section, report_section
from pharmaqms.kernel.reports.trail import TrailReader
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.platform.masterdata.models import Lot


@report_section("nonconforming_product")
def lot_and_source(session: Session, record: GxPRecord) -> list[Section]:
    assert isinstance(record, NonconformingProduct)
    lot = session.get(Lot, record.lot_id)
    source = TrailReader(session).type_label(record.source_type)
    return [
        Section(
            "Lot and source",
            [
                ["Lot", lot.audit_label() if lot else "—"],
                ["Raised from", f"{source} {record.source_label}"],
            ],
        )
    ]
