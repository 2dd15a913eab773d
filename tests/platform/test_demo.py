from __future__ import annotations

from collections import Counter
from datetime import date
from random import Random

import pytest
from sqlalchemy import select
from tests.platform.company import count

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform import demo_records as records
from pharmaqms.platform.demo import DemoActors, demo_plant, generate
from pharmaqms.platform.ingest.models import DataSource, ImportRun, QuarantinedRow
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption
from pharmaqms.platform.timeseries.models import ProcessReading
from pharmaqms.platform.timeseries.models import TestResult as QCResult
from pharmaqms.platform.traceability.models import AdverseEventLot
from pharmaqms.platform.traceability.scans import Gs1Scan


def _actors(people) -> DemoActors:  # type: ignore[no-untyped-def]
    return DemoActors(
        admin=people.admin,
        qa=people.qa,
        qc=people.qc,
        production=people.supervisor,
        pv=people.pv,
        logistics=people.logistics,
    )


def test_the_same_seed_plans_the_same_year_and_scale_multiplies_the_batches() -> None:
    def plan(seed: int, scale: float) -> list[tuple[str, str, float, str]]:
        rng = Random(seed)
        start, end = date(2025, 2, 28), date(2026, 2, 28)
        materials = records.plan_material_lots(rng, start, end)
        return [
            (b.product, b.lot_number, b.readings[0].value, b.decision)
            for b in records.plan_year(rng, start, end, scale, materials)
        ]

    once, again, bigger = plan(7, 1.0), plan(7, 1.0), plan(7, 4.0)

    assert once == again
    assert Counter(p for p, *_ in once) == {"PARA500": 51, "VAXFLU": 24}
    assert Counter(p for p, *_ in bigger) == {"PARA500": 204, "VAXFLU": 95}
    assert Counter(d for *_, d in once) == {
        "released": 71,
        "rejected": 1,
        "on_hold": 1,
        "pending": 2,
    }
    assert plan(8, 1.0) != once


@pytest.mark.postgres
def test_the_demo_company_arrives_through_the_connectors_with_a_real_years_quarantine(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        plant = generate(s, actors=_actors(people), rng=Random(7), scale=0.5)

    with unit_of_work(db, write=False) as s:
        runs = Counter(
            (code, status)
            for code, status in s.execute(
                select(DataSource.code, ImportRun.status).join(
                    DataSource, DataSource.id == ImportRun.source_id
                )
            )
        )
        held = Counter(
            (row.status, row.reasons[0]["code"]) for row in s.scalars(select(QuarantinedRow))
        )
        statuses = Counter(
            lot.status for lot in s.scalars(select(Lot).where(Lot.kind == "finished"))
        )
        links = Counter(link.lot_id is not None for link in s.scalars(select(AdverseEventLot)))
    assert runs == {
        ("mes-leiden", "completed"): 13 + 1,  # a month each, and the replayed hardness reading
        ("lims-leiden-qc", "completed"): 13 + 1,  # a month each, one sent twice
        ("faers-default", "completed"): 4,  # a quarter each
        ("gs1-default", "completed"): 1,
    }
    assert held == {
        ("replayed", "bad_unit"): 1,
        ("discarded", "unknown_entity"): 1,
        ("open", "no_time_zone"): 1,
        ("open", "unknown_lot"): 2,  # the LIMS typo; the scan without its separator
        ("open", "bad_date"): 1,
        ("open", "bad_check_digit"): 1,
    }
    assert statuses == {"released": 34, "rejected": 1, "on_hold": 1, "quarantine": 2}
    assert links == {True: 13, False: 1}
    assert count(db, ProcessReading) > 1500
    assert count(db, QCResult) == 5 * 26 + 4 * 12 - 1
    assert count(db, MaterialConsumption) == 4 * 26 + 3 * 12
    assert count(db, Gs1Scan) == 6
    assert [loc.code for loc in plant.customers] == [
        "HOSP-CHILDREN",
        "HOSP-GENERAL",
        "PHARM-CENTRAL",
        "PHARM-HARBOUR",
        "PHARM-MARKET",
    ]
    assert plant.products == {"PARA500": "09506000134369", "VAXFLU": "09506000134352"}
    with unit_of_work(db, write=False) as s:
        assert demo_plant(s) == plant
    assert all(lot.expires_on is not None for lot in plant.released("VAXFLU"))
