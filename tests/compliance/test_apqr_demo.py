"""The annual product quality review of the demo's tablet, as the demo loads it: every section
present, its figures equal to the registers' own counts (counted here independently, with
plain queries), the review effective with its two signatures, and its PDF carrying every
section and the signers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.compliance.apqr_steps import pdf_text
from tests.compliance.test_apqr_workflow import SECTIONS
from tests.demo_support import demo_copy, demo_template

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.figures import section
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.monitoring.models import MonitoredParameter
from pharmaqms.lifecycle.production.qc.models import QcResult
from pharmaqms.lifecycle.rnd.stability.models import StabilityResult, StabilityStudy
from pharmaqms.lifecycle.use.psur import service as psur
from pharmaqms.platform.demo_records import TABLET
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption, Product
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations.models import Deviation, DeviationBatch


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


@pytest.fixture
def demo(template: Path, tmp_path: Path) -> Iterator[Database]:
    database = demo_copy(template, tmp_path / "apqr.db")
    set_database(database)
    yield database
    set_database(None)
    database.dispose()


def test_the_demo_review_counts_what_the_registers_hold(demo: Database) -> None:
    with unit_of_work(demo, write=False) as s:
        (review,) = service.reviews(s, product_code=TABLET)
        assert review.status == "effective"
        assert [x.meaning for x in service.signatures_of(s, review)] == ["Authored", "Approved"]
        figures = review.figures
        year = figures["year"]
        first, last = date(year, 1, 1), date(year, 12, 31)
        start = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime.fromisoformat(figures["data_cut_off"])
        product = s.scalars(select(Product).where(Product.code == TABLET)).one()
        lots = s.execute(
            select(Lot.id, Lot.lot_number, Lot.status).where(
                Lot.kind == "finished",
                Lot.item_code == TABLET,
                Lot.manufactured_on >= first,
                Lot.manufactured_on <= last,
            )
        ).all()
        ids, numbers = [lot.id for lot in lots], [lot.lot_number for lot in lots]
        first_results = s.execute(
            select(QcResult.outcome, QcResult.trend_status).where(
                QcResult.lot_id.in_(ids),
                QcResult.retest_of_id.is_(None),
                QcResult.outcome.in_(["pass", "fail"]),
            )
        ).all()
        on_batches = select(DeviationBatch.deviation_id).where(DeviationBatch.batch_id.in_(numbers))
        deviations = s.scalar(
            select(func.count())
            .select_from(Deviation)
            .where(
                Deviation.discovered_at >= start,
                Deviation.discovered_at < end,
                Deviation.id.in_(on_batches)
                | func.lower(Deviation.product).in_([TABLET.lower(), product.name.lower()]),
            )
        )
        complaints = s.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(
                Complaint.received_at >= start,
                Complaint.received_at < end,
                Complaint.lot.in_(numbers)
                | func.lower(Complaint.product).in_([TABLET.lower(), product.name.lower()]),
            )
        )
        parameters = s.scalars(
            select(MonitoredParameter.number)
            .where(MonitoredParameter.product_code == TABLET, MonitoredParameter.status == "active")
            .order_by(MonitoredParameter.number)
        ).all()
        material_lots = select(MaterialConsumption.material_lot_id).where(
            MaterialConsumption.batch_id.in_(ids)
        )
        pairs = s.execute(
            select(Lot.material_id, Lot.supplier_id)
            .where(Lot.id.in_(material_lots), Lot.supplier_id.is_not(None))
            .distinct()
        ).all()
        cases = psur.summary(s, TABLET, first, min(last, end.date())).figures["totals"]
        studies = s.scalars(
            select(StabilityStudy.id).where(StabilityStudy.product_code == TABLET)
        ).all()
        stability_results = s.scalars(
            select(StabilityResult.oos).where(
                StabilityResult.study_id.in_(studies),
                StabilityResult.recorded_at >= start,
                StabilityResult.recorded_at < end,
            )
        ).all()
        text = pdf_text(service.stored_pdf(s, review))

    assert [x["key"] for x in figures["sections"]] == SECTIONS
    assert all(x["empty"] is None or x["empty"].strip() for x in figures["sections"])
    batches = section(figures, "batches")
    assert batches["made"] == len(lots) > 0
    statuses = [lot.status for lot in lots]
    released = sum(statuses.count(x) for x in ("released", "recalled", "expired"))
    assert batches["released"] == released
    assert batches["rejected"] == statuses.count("rejected")
    results = section(figures, "oos_oot")
    assert results["evaluated"] == len(first_results)
    assert results["oos"] == sum(1 for r in first_results if r.outcome == "fail")
    assert results["oot"] == sum(1 for r in first_results if r.trend_status != "none")
    assert section(figures, "deviations").get("total", 0) == deviations
    assert section(figures, "complaints").get("total", 0) == complaints
    capability = section(figures, "capability")
    assert [p["parameter"] for p in capability.get("parameters", [])] == list(parameters)
    for p in capability.get("parameters", []):
        assert len(p["months"]) == 12 or figures["interim"]
    suppliers = section(figures, "suppliers")
    assert len(suppliers.get("rows", [])) == len(pairs)
    assert section(figures, "adverse_events").get("cases", 0) == cases["interval"]["cases"]
    stability = section(figures, "stability")
    assert stability["studies"] == len(studies) > 0, "the demo holds a stability study"
    assert stability["results_in_year"] == len(stability_results)
    assert stability["oos_in_year"] == sum(stability_results)
    # one row per attribute at each long-term condition of each study
    assert stability["rows"] and all(row["study"].startswith("STB-") for row in stability["rows"])
    flat = " ".join(text.split())
    for part in figures["sections"]:
        assert part["title"] in flat
        if part["empty"]:
            assert " ".join(part["empty"].split()) in flat
    assert "Authored by Quinn Okafor" in flat and "Approved by Peter Novak" in flat
    assert "DRAFT" not in flat


def test_the_demo_register_flags_what_is_due(demo: Database) -> None:
    with unit_of_work(demo, write=False) as s:
        rows = {(r.product_code, r.year): r for r in service.register(s)}
        (review,) = service.reviews(s, product_code=TABLET)
        year = review.year
    assert rows[(TABLET, year)].state == "effective" and not rows[(TABLET, year)].overdue
    today = datetime.now(UTC).date()
    for row in rows.values():
        assert row.overdue == (row.state != "effective" and today > row.due_on)
