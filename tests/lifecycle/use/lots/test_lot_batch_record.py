"""A batch made on the electronic batch record with a value out of its limits: the lot page
shows the batch record's exception and the material lot dispensed into it, with its supplier,
both contributed by production and the platform through the fact providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle.production.ebr_setup import Plant, build_plant, make_batch, plant_database
from tests.lifecycle.production.setup import MATERIAL

from pharmaqms.kernel.db import Database


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def p(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Plant:
    return built[1].rebind(db, people, api)


def test_the_batch_record_exception_and_the_dispensed_lot_reach_the_lot_page(
    p: Plant, api: Any
) -> None:
    record_id, lot_id, _steps = make_batch(p, "B-200", impeller_speed=170)

    body = api("pv").get(f"/api/v1/pv/lots/{lot_id}")

    assert body.status_code == 200, body.text
    sections = {s["kind"]: s["facts"] for s in body.json()["sections"]}
    [exception] = sections["batch_exception"]
    assert exception["label"].startswith("BRX-")
    assert exception["detail"].startswith("out_of_limit")
    assert exception["url"] == f"/production/batch-records/{record_id}"
    [material] = sections["raw_material"]
    assert material["label"] == f"{MATERIAL} / {p.material_lot}"
    assert "Acme Fine Chemicals" in material["detail"]
