"""A record holding a negative zero (a storage range of "-0 °C") verifies intact on both
databases, and after a restore into the other one: SQLite stores the zero without its sign."""

from __future__ import annotations

import pytest
from tests.conftest import People

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.platform.masterdata import service as masterdata


@pytest.mark.postgres
def test_a_product_stored_at_minus_zero_degrees_verifies_intact(
    db: Database, people: People
) -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin="05012345678900",
            code="VAX01",
            name="Influenza vaccine",
            storage_min_c=-0.0,
            storage_max_c=8.0,
        )

    with unit_of_work(db, write=False) as s:
        report = verify(s)

    assert report.findings == []
