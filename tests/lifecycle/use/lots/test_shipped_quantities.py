"""Recording the quantity of a lot that left on a shipment: the platform verb the lot rates are
divided by. Bad input is refused by field and records nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.use.lots.lot_steps import shipped_lots

from pharmaqms.kernel.errors import InvalidInput, NotFound, PermissionDenied, QMSError
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.genealogy.facts import units_distributed
from pharmaqms.platform.traceability import shipments
from pharmaqms.platform.traceability.models import InventoryMovement

WHEN = datetime(2026, 2, 2, tzinfo=UTC)


def _rows(db: Any) -> tuple[int, int]:
    with unit_of_work(db, write=False) as s:
        return (
            int(s.scalar(select(func.count()).select_from(InventoryMovement)) or 0),
            int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"quantity": 0}, InvalidInput, "quantity"),
        ({"quantity": -5}, InvalidInput, "quantity"),
        ({"unit": " "}, InvalidInput, "unit"),
        ({"reference": ""}, InvalidInput, "reference"),
        ({"moved_at": datetime(2026, 2, 2)}, InvalidInput, "moved_at"),
        ({"shipment_code": "SH-NONE"}, NotFound, None),
        ({"lot_id": 999_999}, NotFound, None),
    ],
)
def test_a_bad_shipped_quantity_is_refused_and_records_nothing(
    db: Any, people: Any, change: dict[str, Any], error: type[QMSError], field: str | None
) -> None:
    ids = shipped_lots(db, people)
    before = _rows(db)
    values: dict[str, Any] = {
        "shipment_code": "SH-L1",
        "lot_id": ids["L1"],
        "quantity": 10.0,
        "unit": "tablet",
        "moved_at": WHEN,
        "reference": "DN-2",
        **change,
    }

    with pytest.raises(error) as refused, unit_of_work(db) as s:
        shipments.load_lot(s, actor=people.logistics, **values)

    if field is not None:
        assert refused.value.field == field
    assert _rows(db) == before


def test_only_data_ingest_may_record_shipped_quantities(db: Any, people: Any) -> None:
    ids = shipped_lots(db, people)
    before = _rows(db)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        shipments.load_lot(
            s,
            actor=people.auditor,
            shipment_code="SH-L1",
            lot_id=ids["L1"],
            quantity=1.0,
            unit="tablet",
            moved_at=WHEN,
            reference="DN-3",
        )
    assert _rows(db) == before


def test_units_in_two_units_of_measure_are_not_added_up(db: Any, people: Any) -> None:
    ids = shipped_lots(db, people)
    with unit_of_work(db) as s:
        shipments.load_lot(
            s,
            actor=people.logistics,
            shipment_code="SH-L2",
            lot_id=ids["L2"],
            quantity=3.0,
            unit="carton",
            moved_at=WHEN,
            reference="DN-4",
        )
    with unit_of_work(db, write=False) as s:
        found = units_distributed(s, [ids["L1"], ids["L2"]])
    assert found[ids["L1"]].quantity == 10_000 and found[ids["L1"]].unit == "tablet"
    assert ids["L2"] not in found  # tablets and cartons: unknown, never summed
