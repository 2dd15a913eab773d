"""The lot page gathers what production and distribution know about the lot through the
platform's fact providers, each item linking to its record; use imports neither module. The
facts are seeded through each module's own services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.distribution.alarms.setup import START, deliver, seed
from tests.lifecycle.production.setup import (
    MATERIAL,
    PRODUCT,
    SUPPLIER,
    add_batch,
    approved_specification,
    seed_master_data,
)
from tests.support import browser_login

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import excursions
from pharmaqms.lifecycle.distribution.models import Excursion
from pharmaqms.lifecycle.production.monitoring.alerts import AlertDraft, raise_alerts
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata


def _page(app: Any, url: str) -> str:
    browser = TestClient(app)
    assert browser_login(browser, "pv").status_code in (302, 303)
    page = browser.get(url)
    assert page.status_code == 200, page.text
    return page.text


def _sections(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {s["kind"]: s["facts"] for s in body["sections"]}


@pytest.mark.postgres
def test_production_facts_reach_the_lot_page(
    app: Any, db: Any, people: Any, api: Any, frozen_clock: Any
) -> None:
    seed_master_data(db, people)
    qc, qa = api("qc"), api("qa")
    approved_specification(qc, qa, item_code=PRODUCT)
    lot_id = add_batch(db, people, "B-100")
    with unit_of_work(db) as s:
        masterdata.add_lot(
            s,
            actor=people.admin,
            kind="material",
            item_code=MATERIAL,
            lot_number="API-7",
            supplier_code=SUPPLIER,
            supplier_lot="ACME-55",
        )
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s,
            actor=people.supervisor,
            kind="mes",
            content=(
                "record_type,item_code,lot_number,material_code,material_lot,quantity,unit,step,"
                "consumed_at\n"
                f"material_consumption,{PRODUCT},B-100,{MATERIAL},API-7,12,kg,Dispensing,"
                "2026-03-01T09:00:00+00:00\n"
            ).encode(),
            filename="mes.csv",
        )
        assert (run.rows_accepted, run.rows_quarantined) == (1, 0)
    # An out-of-specification assay opens its investigation (QC's own service behind the API).
    oos = qc.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": lot_id,
            "sample_id": "S-1",
            "test_code": "ASSAY",
            "tested_at": "2026-03-02T08:00:00Z",
            "value": 91.0,
            "unit": "%",
        },
    )
    assert oos.status_code == 201, oos.text
    with unit_of_work(db) as s:
        [alert] = raise_alerts(
            s,
            actor=people.supervisor,
            drafts=[
                AlertDraft(
                    dedupe_key=f"test:{lot_id}:1",
                    subject="Granulation power",
                    batch_id=lot_id,
                    reading_id=None,
                    measured_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
                    rule_set="nelson",
                    rule=1,
                    rule_name="One point beyond 3σ",
                    point_index=4,
                    value=13.1,
                    ucl=12.0,
                    roles=("qa",),
                    center=10.0,
                    lcl=8.0,
                    sigma=0.66,
                )
            ],
        )
        alert_id = alert.id

    body = api("pv").get(f"/api/v1/pv/lots/{lot_id}")

    assert body.status_code == 200, body.text
    sections = _sections(body.json())
    [raw] = sections["raw_material"]
    assert raw["label"] == f"{MATERIAL} / API-7"
    assert "Acme Fine Chemicals" in raw["detail"] and "ACME-55" in raw["detail"]
    [investigation] = sections["oos"]
    assert investigation["label"].startswith("OOS-") and "ASSAY" in investigation["detail"]
    assert investigation["url"].startswith("/production/qc/investigations/")
    [spc] = sections["spc_alert"]
    assert spc["url"] == f"/production/monitoring/alerts/{alert_id}"
    assert "One point beyond 3σ" in spc["detail"]
    assert sections["batch_exception"] == []  # no batch record kept for this batch
    page = _page(app, f"/pv/lots/{lot_id}")
    assert f'href="/production/monitoring/alerts/{alert_id}"' in page
    assert f'href="{investigation["url"]}"' in page


def test_distribution_facts_reach_the_lot_page(
    app: Any, db: Any, people: Any, api: Any, frozen_clock: Any
) -> None:
    seed(db, people)
    with unit_of_work(db) as s:
        lot = masterdata.add_lot(
            s,
            actor=people.admin,
            kind="finished",
            item_code="VAX01",
            lot_number="V-9",
            status="released",
        )
        s.flush()
        lot_id = lot.id
    deliver(db, people, [5.0, 5.0, *[9.0] * 8, 5.0], start=START)
    with unit_of_work(db) as s:
        excursion = s.scalars(select(Excursion)).one()
        excursions.name_affected_lot(
            s, actor=people.qa, excursion_id=excursion.id, lot_number="V-9", item_code="VAX01"
        )
        number = excursion.number
        excursion_id = excursion.id

    body = api("pv").get(f"/api/v1/pv/lots/{lot_id}")

    assert body.status_code == 200, body.text
    sections = _sections(body.json())
    [found] = sections["excursion"]
    assert found["label"] == number
    assert found["url"] == f"/api/v1/distribution/excursions/{excursion_id}"
    [budget] = sections["stability_budget"]
    assert budget["label"] == "after 1 excursion(s)"
    # The cold-chain test product has no stability budget entered: the page says so.
    assert "no stability budget entered" in budget["detail"]
    assert f'href="/api/v1/distribution/excursions/{excursion_id}">{number}<' in _page(
        app, f"/pv/lots/{lot_id}"
    )
