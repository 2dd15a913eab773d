"""Production KPIs from the records: six batches over two months — one released right first
time, one released after a reviewed exception, one rejected after an OOS, one made in March and
rejected in April, one released in April and one still in quarantine — give exact failure rates
and right-first-time rates (both over the batches dispositioned in the month: released or
rejected, quarantine left out), release cycle times (median, 90th percentile), OOS rates per
test, and the page draws them with their definitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.production.ebr_setup import (
    Plant,
    build_plant,
    make_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.setup import ASSAY
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import exceptions
from pharmaqms.lifecycle.production.kpi.service import last_months, percentile


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


def release(qp: Any, lot_id: int) -> None:
    done = qp.post(f"/api/v1/production/batches/{lot_id}/release", json={"password": PASSWORD})
    assert done.status_code == 200, done.text


def rates(rows: list[dict[str, Any]]) -> list[tuple[int, int, float | None]]:
    return [(r["numerator"], r["denominator"], r["rate"]) for r in rows]


def test_the_kpis_of_two_months_of_batches(
    built: tuple[Path, Plant], db: Database, people: Any, api: Any, app: Any, frozen_clock: Any
) -> None:
    p = built[1].rebind(db, people, api)
    qp = api("qp")
    # March: B9001 right first time, released 2 h after manufacture
    _, first, _ = make_batch(p, "B9001")
    pass_qc(p, first)
    frozen_clock.advance(hours=2)
    release(qp, first)
    # B9002: an out-of-limit value, reviewed by QA; released 6 h after manufacture
    record, second, _ = make_batch(p, "B9002", impeller_speed=155)
    with unit_of_work(db, write=False) as s:
        [found] = exceptions.exceptions_of(s, record)
        exception_id = found.id
    with unit_of_work(db) as s:
        exceptions.review_exception(
            s,
            actor=people.qa,
            exception_id=exception_id,
            decision="accept",
            reason="no impact",
            password=PASSWORD,
        )
    pass_qc(p, second)
    frozen_clock.advance(hours=6)
    release(qp, second)
    # B9003: assay out of specification; the QP rejects it
    _, third, _ = make_batch(p, "B9003")
    oos = p.qc.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": third,
            "sample_id": "B9003-1",
            "test_code": "ASSAY",
            "tested_at": "2026-03-02T17:00:00Z",
            "value": 90.0,
            "unit": ASSAY["unit"],
        },
    )
    assert oos.status_code == 201, oos.text
    rejected = qp.post(
        f"/api/v1/production/batches/{third}/reject",
        json={"password": PASSWORD, "reason": "assay 90 %"},
    )
    assert rejected.status_code == 200, rejected.text
    # B9006: made in March, still in quarantine when March ends
    _, sixth, _ = make_batch(p, "B9006")
    # April: B9004, released 10 h after manufacture; B9006 rejected; B9005 still in quarantine
    frozen_clock.advance(days=30)
    for client, username in ((p.qc, "qc"), (p.qa, "qa"), (qp, "qp")):
        client.login(username)
    _, fourth, _ = make_batch(p, "B9004")
    pass_qc(p, fourth)
    frozen_clock.advance(hours=10)
    release(qp, fourth)
    rejected = qp.post(
        f"/api/v1/production/batches/{sixth}/reject",
        json={"password": PASSWORD, "reason": "tablet weight variation found at review"},
    )
    assert rejected.status_code == 200, rejected.text
    make_batch(p, "B9005")

    kpis = qp.get("/api/v1/production/kpi", params={"product": "P-PARA500", "months": 2})

    assert kpis.status_code == 200, kpis.text
    body = kpis.json()
    assert body["months"] == ["2026-03-01", "2026-04-01"]
    # Dispositioned in March: B9001, B9002 released, B9003 rejected (B9006 in quarantine then).
    # In April: B9004 released, B9006 rejected (B9005 in quarantine, not counted).
    assert rates(body["failure_rate"]) == [(1, 3, 1 / 3), (1, 2, 0.5)]
    # Right first time: released with no exception, deviation or nonconformance, of the same
    # batches — B9001 of three in March, B9004 of two in April.
    assert rates(body["right_first_time"]) == [(1, 3, 1 / 3), (1, 2, 0.5)]
    assert [
        (c["releases"], c["median_hours"], round(c["p90_hours"], 6)) for c in body["cycle_time"]
    ] == [(2, 4.0, 5.6), (1, 10.0, 10.0)]
    # By the month tested: the shared QC helper dates every conforming result on 2 March.
    assert {t["test_code"]: rates(t["months"]) for t in body["oos"]} == {
        "APPEARANCE": [(0, 3, 0.0), (0, 0, None)],
        "ASSAY": [(1, 4, 0.25), (0, 0, None)],
    }
    assert body["capability"] == []

    page = UiClient(app)
    assert page.login("qp").status_code == 303
    shown = page.get("/production/kpi?product=P-PARA500&months=2")
    assert shown.status_code == 200
    assert shown.text.count("<svg") == 5
    assert "<td>2026-03</td><td>1 / 3</td><td>33.3 %</td>" in shown.text
    assert "<td>2026-03</td><td>2</td><td>4.0 h</td><td>5.6 h</td>" in shown.text
    assert "<td>2026-04</td><td>1 / 2</td><td>50.0 %</td>" in shown.text
    assert (
        "Batch failure rate: batches rejected / batches released or rejected in the month "
        "(by the date of the decision; batches still in quarantine or on hold are not counted)."
        in shown.text
    )
    assert (
        "Right first time: batches released without any batch record exception, deviation or "
        "nonconforming product record (rework, reprocess, concession) / batches released or "
        "rejected in the month (a rejected batch counts against the rate)." in shown.text
    )


def test_months_and_percentiles() -> None:
    from datetime import date

    assert last_months(3, until=date(2026, 2, 14)) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert percentile([], 90) is None
    assert percentile([2.0, 6.0], 90) == pytest.approx(5.6)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
