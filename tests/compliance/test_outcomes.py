"""The outcome dashboard: reporting clocks met, missed and pending on cases built here with
known dates; every figure of the demo checked against counts made here with plain queries;
the page with its definitions, a month drilled down to its records, and bad requests refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.demo_support import demo_instance, demo_template
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.support import PASSWORD, app_for
from tests.web.conftest import UiClient

from pharmaqms.cli.demo import DEMO_PASSWORD
from pharmaqms.compliance.outcomes import figures
from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution.models import Excursion
from pharmaqms.lifecycle.production.kpi import service as production_kpi
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.cases.clock_compliance import clock_outcomes
from pharmaqms.platform.traceability.models import Shipment
from pharmaqms.quality.capa.models import Capa


def _signed_off_case(db: Database, people: Any, received: datetime) -> int:
    with unit_of_work(db) as session:
        case_id = cases.record_case(
            session, actor=people.pv, report=staff_report(received_at=received)
        ).id
    with unit_of_work(db) as session:
        cases.validate_case(session, actor=people.pv, case_id=case_id)
        cases.record_assessment(
            session, actor=people.pv, case_id=case_id, causality="possible", reasoning="Timing."
        )
        cases.medical_review(session, actor=people.pv, case_id=case_id, password=PASSWORD)
    return case_id


def test_a_clock_is_met_by_a_sign_off_on_time_missed_late_and_pending_until_due(
    db: Database, people: Any
) -> None:
    # Non-serious cases received on 1 March: China's 30-day clock falls due on 31 March, the
    # EU's 90-day clock on 30 May.
    with clock.frozen_at(datetime(2026, 3, 1, 15, 0, tzinfo=UTC)) as now:
        signed = _signed_off_case(db, people, datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
        waiting = _signed_off_case(db, people, datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
        now.advance(days=45)  # 15 April: after China's due date, before the EU's
        with unit_of_work(db) as session:
            cases.qa_sign_off(session, actor=people.qa, case_id=signed, password=PASSWORD)
        with unit_of_work(db, write=False) as session:
            found = clock_outcomes(session, since=date(2026, 1, 1))

    seen = {(o.case_id, o.region, o.due_on, o.met) for o in found}
    assert seen == {
        # Signed off on 15 April: too late for China, in time for the EU.
        (signed, "CN", date(2026, 3, 31), False),
        (signed, "EU", date(2026, 5, 30), True),
        # Not signed off: China's clock is missed; the EU's still runs and is not counted.
        (waiting, "CN", date(2026, 3, 31), False),
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


@pytest.fixture
def demo(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    yield from demo_instance(template, tmp_path / "outcomes.db", monkeypatch)


def _by_month(figure: figures.Figure) -> dict[str, tuple[int, int]]:
    return {
        f"{m.month:%Y-%m}": (m.numerator, m.denominator) for m in figure.months if m.denominator
    }


def test_the_demo_figures_equal_counts_made_with_plain_queries(demo: Database) -> None:
    with unit_of_work(demo, write=False) as s:
        found = {f.key: f for f in figures.outcome_figures(s)}
        window_start = found["capa-on-time"].months[0].month
        start = datetime.combine(window_start, datetime.min.time(), tzinfo=UTC)

        assert list(found) == [
            "time-to-launch",
            "batch-failure",
            "right-first-time",
            "release-cycle-time",
            "oos-rate",
            "excursion-rate",
            "capa-on-time",
            "reporting-clocks",
        ]
        for figure in found.values():
            assert len(figure.months) == 12
            for m in figure.months:
                # What a month shows is what it lists.
                assert m.denominator == len(m.records)
                if figure.unit == "%":
                    assert m.numerator == sum(r.hit for r in m.records)
                    assert m.value == (m.numerator / m.denominator if m.denominator else None)

        # CAPA: closed in the window, on time when closed by the due date.
        closed: Counter[str] = Counter()
        on_time: Counter[str] = Counter()
        for closed_at, due_at in s.execute(
            select(Capa.closed_at, Capa.due_at).where(Capa.status == "closed")
        ):
            if closed_at is not None and closed_at >= start:
                closed[f"{closed_at:%Y-%m}"] += 1
                on_time[f"{closed_at:%Y-%m}"] += closed_at <= due_at
        assert closed, "the demo closes CAPAs in the last twelve months"
        assert _by_month(found["capa-on-time"]) == {m: (on_time[m], closed[m]) for m in closed}

        # Shipments: shipped in the window, with an excursion or not.
        excursions = set(s.scalars(select(Excursion.shipment_id)))
        shipped: Counter[str] = Counter()
        hit: Counter[str] = Counter()
        for shipment_id, shipped_at in s.execute(select(Shipment.id, Shipment.shipped_at)):
            if shipped_at is not None and shipped_at >= start:
                shipped[f"{shipped_at:%Y-%m}"] += 1
                hit[f"{shipped_at:%Y-%m}"] += shipment_id in excursions
        # (The small demo of the tests registers no shipments; the equality still holds.)
        assert _by_month(found["excursion-rate"]) == {m: (hit[m], shipped[m]) for m in shipped}

        # Reporting clocks: the demo processes cases over the year; a clock counted as met
        # has the case's QA sign-off signed by the end of its due date.
        clocks = [r for m in found["reporting-clocks"].months for r in m.records]
        assert clocks, "the demo signs cases off in the last twelve months"
        signed_off = dict(
            s.execute(
                select(ElectronicSignature.record_label, ElectronicSignature.signed_at).where(
                    ElectronicSignature.record_type == "pv_case",
                    ElectronicSignature.transition == "sign_off",
                )
            ).all()
        )
        for record in clocks:
            case_number = record.label.split(" · ")[0]
            due = date.fromisoformat(record.detail.rsplit("due ", 1)[1])
            at = signed_off.get(case_number)
            assert record.hit == (at is not None and at.date() <= due), record

        # Batches: the company's failure rate is the sum of each product's.
        per_product: Counter[str] = Counter()
        decided: Counter[str] = Counter()
        for code, _name in production_kpi.products_made(s):
            for r in production_kpi.production_kpis(s, code).failure_rate:
                per_product[f"{r.month:%Y-%m}"] += r.numerator
                decided[f"{r.month:%Y-%m}"] += r.denominator
        assert sum(decided.values()) > 0, "the demo decides batches in the last twelve months"
        assert _by_month(found["batch-failure"]) == {
            m: (per_product[m], decided[m]) for m in decided if decided[m]
        }


def test_the_page_states_each_definition_and_a_month_opens_its_records(demo: Database) -> None:

    client = UiClient(app_for(demo))
    assert client.login("quinn.qa", DEMO_PASSWORD).status_code == 303
    page = client.get("/compliance/outcomes")
    assert page.status_code == 200, page.text[:500]
    with unit_of_work(demo, write=False) as s:
        capa = figures.figure_by_key(s, "capa-on-time")
    for key in ("time-to-launch", "batch-failure", "excursion-rate", "reporting-clocks"):
        assert f'data-testid="outcome-{key}-definition"' in page.text
    busiest = max(capa.months, key=lambda m: m.denominator)
    link = f"/compliance/outcomes/capa-on-time?month={busiest.month:%Y-%m}"
    assert link in page.text

    month = client.get(link)
    assert month.status_code == 200
    assert f"{busiest.numerator} of {busiest.denominator} counted" in month.text
    for record in busiest.records:
        assert f'href="{record.url}"' in month.text

    bad = client.get("/compliance/outcomes/capa-on-time?month=2026-13")
    assert bad.status_code in (400, 422)
    assert "2026-13" in bad.text and "is not YYYY-MM" in bad.text
    assert client.get("/compliance/outcomes/no-such-figure?month=2026-01").status_code == 404
