"""Deviations naming a batch and complaints about a lot appear in that lot's genealogy (the
graph, ``trace`` and the recall decision see them), and only from when they existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.service import genealogy
from pharmaqms.platform.masterdata.models import LotKind
from pharmaqms.platform.masterdata.service import add_lot, add_product
from pharmaqms.quality.complaints.service import register_complaint
from pharmaqms.quality.deviations.service import report_deviation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_deviations_and_complaints_hang_on_the_lot_they_name(db: Database, people: Any) -> None:
    with clock.frozen_at(T0), unit_of_work(db) as s:
        add_product(
            s, actor=people.admin, gtin="09506000134352", code="PARA500", name="Paracetamol"
        )
        add_lot(s, actor=people.admin, kind=LotKind.FINISHED, item_code="PARA500",
                lot_number="P2603-01")  # fmt: skip
        add_lot(s, actor=people.admin, kind=LotKind.FINISHED, item_code="PARA500",
                lot_number="P2603-02")  # fmt: skip
        deviation = report_deviation(
            s,
            actor=people.operator,
            title="Tablet press stopped during compression",
            description="Punch jam at 10:40; 12 minutes stop.",
            area="Compression",
            occurred_at=T0 - timedelta(hours=2),
            discovered_at=T0 - timedelta(hours=1),
            product="Paracetamol",
            batch_ids=["P2603-01", "OTHER-99"],
        )
        deviation_id, deviation_number = deviation.id, deviation.number
    with clock.frozen_at(T0 + timedelta(days=10)), unit_of_work(db) as s:
        complaint = register_complaint(
            s,
            actor=people.qa,
            product="Paracetamol",
            lot="P2603-01",
            complainant_name="Pharmacy Adler",
            complainant_type="pharmacist",
            received_at=T0 + timedelta(days=10),
            description="Broken tablets in two blisters.",
        )
        complaint_id, complaint_number = complaint.id, complaint.number

    with unit_of_work(db, write=False) as s:
        now = genealogy(s, "PARA500/P2603-01", "both")
        before_complaint = genealogy(s, "PARA500/P2603-01", "both", at=T0 + timedelta(days=1))
        other = genealogy(s, "PARA500/P2603-02", "both")

    node = now.nodes[f"deviation:{deviation_id}"]
    assert (node.label, node.url, node.layer) == (
        deviation_number,
        f"/deviations/{deviation_id}",
        "record",
    )
    assert now.nodes[f"complaint:{complaint_id}"].label == complaint_number
    assert f"deviation:{deviation_id}" in before_complaint.nodes
    assert f"complaint:{complaint_id}" not in before_complaint.nodes
    assert not any(key.startswith(("deviation:", "complaint:")) for key in other.nodes)
