"""Signal detection counts MedDRA-coded events at Preferred Term level, on the hand-made FAKE
release (tests/…/cases/fake_meddra: invented codes and terms, never real MedDRA): two LLTs of
one PT in one case are one event of that case, LLTs of one PT in different cases add up, the
PT's name is what the pages show, and an event coded before the release was loaded counts under
its PT too. Uncoded events still count by their verbatim term."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.support import browser_login

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import meddra
from pharmaqms.lifecycle.use.cases import service as case_service
from pharmaqms.lifecycle.use.cases.intake import EventReport, ProductReport
from pharmaqms.lifecycle.use.signals import casebase, detection, service
from pharmaqms.lifecycle.use.signals.models import PVSignal, SignalSource
from pharmaqms.lifecycle.use.signals.scan import Method

pytestmark = pytest.mark.postgres
FAKE = Path(__file__).resolve().parents[1] / "cases" / "fake_meddra" / "hier"
PT = "99400001"  # FAKE Zorblic rash; its LLTs: 99400001 (the PT's own) and 99500001
RASH = EventReport("FAKE Zorblic rash", PT, date(2026, 2, 27))
SKIN_RASH = EventReport("itchy skin rash", "99500001", date(2026, 2, 27))
HEADACHE = EventReport("Headache")


@pytest.fixture(autouse=True)
def _clock(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """Cases are received on 1 March 2026, the tests run on 2 March."""


def take_in(db: Any, people: Any, cases: list[tuple[str, tuple[EventReport, ...]]]) -> list[int]:
    ids = []
    with unit_of_work(db) as session:
        for product, events in cases:
            report = staff_report(products=(ProductReport(product, ""),), events=events)
            case = case_service.record_case(session, actor=people.pv, report=report)
            session.flush()
            ids.append(int(case.id))
    return ids


def load_release(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        meddra.load_release(session, actor=people.pv, directory=FAKE)


def case_base(db: Any, people: Any) -> list[int]:
    """Drug X: the PT through one LLT, through the other, through both in one case, and two
    headaches; Drug Y: the PT once (coded before the release was loaded) and ten headaches."""
    ids = take_in(db, people, [("Drug Y", (SKIN_RASH,))])
    load_release(db, people)
    ids += take_in(
        db,
        people,
        [
            ("Drug X", (RASH,)),
            ("Drug X", (SKIN_RASH,)),
            ("Drug X", (RASH, SKIN_RASH)),
            ("Drug X", (HEADACHE,)),
            ("Drug X", (HEADACHE,)),
            *[("Drug Y", (HEADACHE,))] * 10,
        ],
    )
    return ids


def test_two_llts_of_one_pt_in_a_case_count_once_and_the_prr_is_the_pts(
    db: Any, people: Any
) -> None:
    ids = case_base(db, people)
    with unit_of_work(db, write=False) as session:
        base = casebase.load(session)
        found = detection.scan_case_base(session, methods=(Method.PRR,))
    assert found.result is not None
    # One event key per PT: no row for the LLT 99500001, and the case naming both LLTs is
    # one row, not two.
    assert sorted(set(base.rows["event"].to_list())) == [PT, "headache"]
    assert base.rows.height == 16
    assert base.terms[PT] == ("FAKE Zorblic rash", PT)
    assert base.cases_of("Drug X", PT) == ids[1:4]
    assert base.cases_of("Drug Y", PT) == ids[:1]  # coded through the release loaded later

    [pair] = [r for r in found.rows() if (r["drug"], r["event"]) == ("Drug X", PT)]
    # a = 3 reports (not 4: the case with both LLTs counts once), n_drug = 5, n_event = 4,
    # N = 16: PRR = (3/5)/(1/11) = 6.6, χ² = 16·(3·10 − 2·1)²/(5·11·4·12) = 4.7515…
    assert (pair["a"], pair["b"], pair["c"], pair["d"]) == (3, 2, 1, 10)
    assert pair["PRR"] == pytest.approx(6.6)
    assert pair["chi2"] == pytest.approx(16 * 28**2 / (5 * 11 * 4 * 12))
    assert (pair["event_term"], pair["meddra_code"]) == ("FAKE Zorblic rash", PT)
    assert pair["flagged_by"] == ["prr"]
    # Counted per LLT, the same reports would give a = 2 for each LLT (PRR 4.4 and no
    # signal at n ≥ 3): the PT is what crosses the threshold.


def test_detection_opens_the_signal_on_the_pt_and_the_pages_name_it(
    db: Any, people: Any, app: Any
) -> None:
    case_base(db, people)
    with unit_of_work(db) as session:
        outcome = detection.run_detection(session, actor=people.pv, methods=(Method.PRR,))
        session.flush()
    # Drug Y / headache (10 of Drug Y's 11 cases) is flagged too; no signal on an LLT.
    assert sorted((s.product, s.event_key) for s in outcome.opened) == [
        ("Drug X", PT),
        ("Drug Y", "headache"),
    ]
    with unit_of_work(db, write=False) as session:
        signal = session.scalars(select(PVSignal).where(PVSignal.product == "Drug X")).one()
        assert (signal.product, signal.event_key, signal.event_term, signal.meddra_code) == (
            "Drug X",
            PT,
            "FAKE Zorblic rash",
            PT,
        )
        assert (signal.table_a, signal.table_b, signal.table_c, signal.table_d) == (3, 2, 1, 10)
        signal_id = signal.id
    client = TestClient(app)
    assert browser_login(client, "pv").status_code == 303
    page = client.get(f"/pv/signals/{signal_id}")
    assert page.status_code == 200
    assert "Drug X / FAKE Zorblic rash" in page.text
    assert f"MedDRA PT {PT}" in page.text
    dashboard = client.get("/pv/signals")
    assert f'FAKE Zorblic rash <span class="muted">PT {PT}</span>' in dashboard.text
    assert "itchy skin rash" not in dashboard.text


def test_a_signal_raised_by_hand_on_an_llt_is_the_pts_signal(db: Any, people: Any) -> None:
    case_base(db, people)
    with unit_of_work(db) as session:
        signal = service.register_manual(
            session,
            actor=people.pv,
            product="Drug X",
            event_term="itchy skin rash",
            meddra_code="99500001",
            basis="three reports in a month",
        )
        session.flush()
        assert (signal.event_key, signal.meddra_code, signal.table_a) == (PT, PT, 3)


def test_without_a_release_codes_and_verbatim_terms_count_as_before(db: Any, people: Any) -> None:
    first, second = take_in(
        db,
        people,
        [("Drug X", (RASH, SKIN_RASH)), ("Drug X", (EventReport("HEADACHE "), HEADACHE))],
    )
    with unit_of_work(db, write=False) as session:
        base = casebase.load(session)
    assert base.rows.rows() == [
        (first, "Drug X", PT),
        (first, "Drug X", "99500001"),
        (second, "Drug X", "headache"),
    ]
    assert base.terms["99500001"] == ("itchy skin rash", "99500001")


def test_a_signal_opened_on_an_llt_before_is_refreshed_not_doubled(db: Any, people: Any) -> None:
    # Before detection counted at PT level, a signal on coded events named their LLT code.
    case_base(db, people)
    with unit_of_work(db) as session:
        older = service.open_signal(
            session,
            actor=people.pv,
            product="Drug X",
            event_key="99500001",
            event_term="itchy skin rash",
            meddra_code="99500001",
            source=SignalSource.DISPROPORTIONALITY,
            figures={"a": 2, "b": 3, "c": 0, "d": 11},
            basis="counted per LLT",
            case_ids=[],
        )
        session.flush()
        older_id = older.id
    with unit_of_work(db) as session:
        outcome = detection.run_detection(session, actor=people.pv, methods=(Method.PRR,))
        session.flush()
        assert [s.id for s in outcome.refreshed] == [older_id]
        assert [(s.product, s.event_key) for s in outcome.opened] == [("Drug Y", "headache")]
        signal = session.get(PVSignal, older_id)
        assert signal is not None and signal.latest_figures["a"] == 3
