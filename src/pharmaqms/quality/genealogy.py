"""Quality records in a lot's genealogy: the deviations that name a batch and the complaints
about a lot hang on that lot in the graph and in ``trace``, so that a recall decision sees them
beside the test results and adverse-event reports.

Deviations and complaints name lots by their number as people write them (the record may be
raised before the lot reaches the platform, or about a supplier's lot); they join the graph
where that number is the lot number of a lot in it. A record is shown only if it existed at the
time the trace is asked ``--at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform.genealogy.facts import register_fact_provider
from pharmaqms.platform.genealogy.providers import LinkedRecord, register_link_provider
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations.models import Deviation, DeviationBatch


def _lot_ids_by_number(session: Session, lot_ids: Sequence[int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for lot_id, number in session.execute(
        select(Lot.id, Lot.lot_number).where(Lot.id.in_(lot_ids))
    ):
        found.setdefault(number, []).append(lot_id)
    return found


def deviations_of(
    session: Session, lot_ids: Sequence[int], at: datetime | None
) -> list[LinkedRecord]:
    numbers = _lot_ids_by_number(session, lot_ids)
    if not numbers:
        return []
    rows = session.execute(
        select(DeviationBatch.batch_id, Deviation)
        .join(Deviation, Deviation.id == DeviationBatch.deviation_id)
        .where(DeviationBatch.batch_id.in_(numbers))
        .order_by(Deviation.id)
    )
    return [
        LinkedRecord(
            lot_id=lot_id,
            kind="deviation",
            key=f"deviation:{deviation.id}",
            label=deviation.number,
            relation="deviation",
            time=deviation.discovered_at,
            url=f"/deviations/{deviation.id}",
            detail=" · ".join(
                part
                for part in (deviation.classification, deviation.status, deviation.title)
                if part
            ),
        )
        for batch_id, deviation in rows
        if at is None or deviation.created_at <= at
        for lot_id in numbers[batch_id]
    ]


def complaints_of(
    session: Session, lot_ids: Sequence[int], at: datetime | None
) -> list[LinkedRecord]:
    numbers = _lot_ids_by_number(session, lot_ids)
    if not numbers:
        return []
    rows = session.scalars(
        select(Complaint).where(Complaint.lot.in_(numbers)).order_by(Complaint.id)
    )
    return [
        LinkedRecord(
            lot_id=lot_id,
            kind="complaint",
            key=f"complaint:{complaint.id}",
            label=complaint.number,
            relation="complaint",
            time=complaint.received_at,
            url=f"/complaints/{complaint.id}",
            detail=complaint.status,
        )
        for complaint in rows
        if at is None or complaint.created_at <= at
        for lot_id in numbers[complaint.lot]
    ]


register_link_provider("quality.deviations", deviations_of)
register_link_provider("quality.complaints", complaints_of)
# The same records are facts on a lot's lifecycle page.
register_fact_provider("quality.deviations", deviations_of)
register_fact_provider("quality.complaints", complaints_of)
