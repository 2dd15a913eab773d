"""The demo's stage gates: the tablet project passed every gate over the past months and is
launched, its time to launch counted to the demo's first tablet batch released after its
registration gate — a plausible two-odd years, not hours; the vaccine project is still in
formulation and not launched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.demo_support import demo_copy, demo_template

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.lifecycle.rnd.gates import launch, service
from pharmaqms.lifecycle.rnd.gates.progress import progress
from pharmaqms.platform.masterdata.models import Lot


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


def test_the_demo_projects_have_months_of_gates_and_a_plausible_time_to_launch(
    template: Path, tmp_path: Path
) -> None:
    database = demo_copy(template, tmp_path / "gates.db")
    try:
        with unit_of_work(database, write=False) as s:
            vaccine, tablet = launch.launch_times(s)
            assert (vaccine.project_code, tablet.project_code) == (
                "DEV-FLUVAX-MDV",
                "DEV-PARA500",
            )
            assert tablet.launched and tablet.months is not None
            assert 26 < tablet.months < 30
            assert tablet.registration_approved_at is not None
            assert tablet.first_batch_released_at is not None
            assert tablet.first_batch_released_at >= tablet.registration_approved_at
            # The first commercial batch is a released tablet lot of the demo, and no tablet
            # lot was released between the registration gate and it.
            lot = s.scalars(
                select(Lot).where(Lot.item_code == "PARA500", Lot.lot_number == tablet.first_batch)
            ).one()
            assert lot.kind == "finished" and lot.status == "released"
            earlier = [
                m
                for m in launch.release_moments(s, "PARA500")
                if tablet.registration_approved_at <= m[0] < tablet.first_batch_released_at
            ]
            assert earlier == []
            assert progress(s, tablet.project_id).passed == 6
            gaps = [
                r.actual_end - r.actual_start
                for r in progress(s, tablet.project_id).rows
                if r.actual_end and r.actual_start
            ]
            assert min(gaps) > timedelta(days=60)  # phases of months

            assert not vaccine.launched and vaccine.running_months is not None
            assert 6 < vaccine.running_months < 7
            (_, formulation) = service.gates_of(s, vaccine.project_id)
            assert (formulation.phase, formulation.status) == ("formulation", "submitted")
            assert service.get_plan(s, vaccine.project_id).current_phase == "formulation"
            report = verify(s)
            assert report.intact, report.findings
    finally:
        database.dispose()
