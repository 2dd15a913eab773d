"""What the monitoring tests share: a tablet product with batches, readings delivered through the
platform's MES ingest (so the live path runs exactly as in production: after the delivery's
commit), a monitored parameter, and limits estimated from a reference batch and approved."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.lifecycle.production.setup import gtin
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.monitoring import limits, service
from pharmaqms.lifecycle.production.monitoring.workflow import (
    GROUP_LIMITS_WORKFLOW,
    LIMITS_WORKFLOW,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata

PRODUCT = "P-TAB100"
STEP = {"unit_procedure": "Tableting", "operation": "Compression", "phase": "Main compression"}
# 2/√π: the exact d2 of a moving range. Reference readings 10 ± D2/2 alternate, so every moving
# range is D2 and the estimated sigma is 1: the chart's zones lie at 10 ± 1, 2, 3.
D2 = 2.0 / math.sqrt(math.pi)
REFERENCE = [10.0 + (D2 / 2 if i % 2 == 0 else -D2 / 2) for i in range(20)]


def seed(db: Database, people: Any, *batches: str) -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin=gtin("0501234599990"),
            code=PRODUCT,
            name="Testolol 100 mg tablets",
        )
        for number in batches:
            add_batch(s, people, number)


def add_batch(session: Any, people: Any, number: str) -> None:
    masterdata.add_lot(
        session,
        actor=people.admin,
        kind="finished",
        item_code=PRODUCT,
        lot_number=number,
        expires_on=date(2029, 1, 31),
    )


def reading(
    batch: str, parameter: str, value: float, at: datetime, unit: str = "kN", **step: str
) -> dict[str, Any]:
    return {
        "lot_number": batch,
        "item_code": PRODUCT,
        **(step or STEP),
        "parameter": parameter,
        "value": value,
        "unit": unit,
        "measured_at": at.isoformat(),
    }


def deliver(db: Database, people: Any, rows: Sequence[dict[str, Any]]) -> None:
    """One MES delivery, committed: the live monitoring evaluates it after the commit."""
    content = json.dumps({"process_reading": list(rows)}).encode()
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.supervisor, kind="mes", content=content)
        assert run.rows_quarantined == 0, run.number


def series(
    batch: str, values: Sequence[float], start: datetime, parameter: str = "compression_force"
) -> list[dict[str, Any]]:
    return [
        reading(batch, parameter, v, start + timedelta(minutes=i)) for i, v in enumerate(values)
    ]


def monitor(db: Database, people: Any, **options: Any) -> int:
    settings: dict[str, Any] = {
        "product_code": PRODUCT,
        **STEP,
        "parameter": "compression_force",
        "unit": "kN",
        "classification": "CPP",
        "chart_kind": "I-MR",
        "alert_roles": ["production_supervisor", "qa"],
        **options,
    }
    with unit_of_work(db) as s:
        parameter = service.define_parameter(s, actor=people.supervisor, **settings)
        s.flush()
        return parameter.id


def approve_limits(db: Database, people: Any, parameter_id: int, batches: list[str]) -> int:
    """Estimated by the supervisor, approved by QA with their signature."""
    with unit_of_work(db) as s:
        draft = limits.estimate_limits(
            s, actor=people.supervisor, parameter_id=parameter_id, batches=batches
        )
        perform(s, LIMITS_WORKFLOW, draft, "approve", actor=people.qa, password=PASSWORD)
        return draft.id


def approve_group_limits(db: Database, people: Any, group_id: int, batches: list[str]) -> int:
    with unit_of_work(db) as s:
        draft = limits.estimate_group_limits(
            s, actor=people.supervisor, group_id=group_id, batches=batches
        )
        perform(s, GROUP_LIMITS_WORKFLOW, draft, "approve", actor=people.qa, password=PASSWORD)
        return draft.id


# The constructed series of the live tests (centre 10, σ 1; see test_live for its violations).
SERIES = [
    10.5, 9.4, 10.8, 9.2, 11.5, 10.2, 13.5, 9.6, 12.4, 12.6, 9.1, 8.5, 8.9, 9.3, 9.7, 10.1,
    10.5, 10.9, 10.2, 10.4, 10.1, 10.6, 10.3, 10.5, 10.2, 10.7, 10.4, 8.7, 8.6, 9.5, 8.4, 8.8,
]  # fmt: skip
EXPECTED = [
    ("nelson", 1, 6, 13.5, "B-1"),
    ("dispersion", 1, 7, 3.9, "B-1"),  # the moving range 13.5 → 9.6, above the MR UCL 3.686
    ("nelson", 5, 8, 12.4, "B-1"),
    ("nelson", 3, 16, 10.5, "B-2"),
    ("nelson", 2, 23, 10.5, "B-2"),
    ("nelson", 6, 31, 8.8, "B-2"),
]
MONITORED_FROM = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)


def rows(values: list[float], first: int = 0) -> list[dict[str, Any]]:
    """Readings of the constructed series from index ``first`` on: B-1 holds 0–15, B-2 the rest."""
    found = []
    for offset, value in enumerate(values):
        index = first + offset
        at = MONITORED_FROM + timedelta(minutes=index)
        found.append(reading("B-1" if index < 16 else "B-2", "compression_force", value, at))
    return found
