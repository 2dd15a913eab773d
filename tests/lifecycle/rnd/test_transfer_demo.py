"""The demo's technology transfer: the tablet's recipe is approved, its change approved and
implemented, production holds the two drafts made from it, and the change cannot close until
they are in force; the tablet's risk register holds a product and a process FMEA."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.demo_support import demo_copy, demo_template

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.quality.changes.closure import closure_conditions_met
from pharmaqms.quality.risk.register import risk_register


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


def test_the_demo_tablet_is_in_transfer_with_its_drafts_waiting_in_production(
    template: Path, tmp_path: Path
) -> None:
    database = demo_copy(template, tmp_path / "transfer.db")
    try:
        with unit_of_work(database, write=False) as s:
            (recipe,) = service.recipes(s)
            assert (recipe.product_code, recipe.status) == ("PARA500", "approved")
            (transfer,) = service.transfers(s, recipe_id=recipe.id)
            view = service.transfer_view(s, transfer)
            assert (view.change.status, view.stage) == ("implementation", "drafts in production")
            assert [d.kind for d in view.drafts] == ["master_batch_record", "specification"]
            assert "master batch record MBR-" in view.change.description  # the one in force
            reasons = closure_conditions_met(view.change)
            assert len(reasons) >= 2
            assert all(r.startswith(f"Technology transfer of {recipe.number}: ") for r in reasons)
            rows = risk_register(s, recipe.product_id)
            assert [r.kind for r in rows] == ["product", "process"]
            assert [len(r.open_actions) for r in rows] == [1, 0]
    finally:
        database.dispose()
