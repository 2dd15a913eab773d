"""A case's page lists the signals it belongs to — as evidence, through the lot it cites, or
through its product–event pair — and the signal's page links back to its cases."""

from __future__ import annotations

from typing import Any

from tests.lifecycle.use.lots.lot_steps import cases_citing, concentrated
from tests.lifecycle.use.signals.signal_steps import take_in
from tests.web.conftest import UiClient

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as case_service
from pharmaqms.lifecycle.use.lots import service as lot_service
from pharmaqms.lifecycle.use.signals import service


def test_a_case_lists_the_pair_signal_it_belongs_to_and_only_that(
    db: Any, people: Any, app: Any, frozen_clock: Any
) -> None:
    ids = take_in(db, people)  # cases 1–4: Drug X / hepatitis; 5: Drug X / rash
    with unit_of_work(db) as session:
        signal = service.register_manual(
            session,
            actor=people.pv,
            product="drug x",
            event_term="Hepatitis",
            basis="Four reports of hepatitis in a month.",
            case_ids=[ids[0]],
        )
        session.flush()
        number, signal_id = signal.number, signal.id
    with unit_of_work(db, write=False) as session:
        found = {
            i: [
                (s.signal.number, s.why)
                for s in service.signals_of_case(session, case_service.get_case(session, i))
            ]
            for i in ids[:5]
        }
    assert found == {
        ids[0]: [(number, "one of its cases")],
        ids[1]: [(number, "same product and event")],
        ids[2]: [(number, "same product and event")],
        ids[3]: [(number, "same product and event")],
        ids[4]: [],  # Drug X, but rash
    }

    reader = UiClient(app)
    reader.login("qa")
    page = reader.get(f"/pv/cases/{ids[1]}").text
    assert f'<a href="/pv/signals/{signal_id}" data-testid="case-signal-link">{number}</a>' in page
    assert "same product and event" in page
    assert "No signal cites this case" in reader.get(f"/pv/cases/{ids[4]}").text
    back = reader.get(f"/pv/signals/{signal_id}").text
    assert f'<a href="/pv/cases/{ids[0]}">' in back


def test_a_case_citing_a_flagged_lot_lists_the_lot_signal(
    db: Any, people: Any, frozen_clock: Any
) -> None:
    lots = concentrated(db, people)
    with unit_of_work(db) as session:
        signal = service.raise_from_lot(session, actor=people.pv, lot_id=lots["L3"])
        session.flush()
        number = signal.number
    cases_citing(db, people, "L3", 1)  # a report on the lot after the signal was raised
    with unit_of_work(db, write=False) as session:
        on_l3 = lot_service.cases_citing(session, lots["L3"])
        assert [(s.signal.number, s.why) for s in service.signals_of_case(session, on_l3[-1])] == [
            (number, "cites lot L3")
        ]
        on_l1 = lot_service.cases_citing(session, lots["L1"])
        assert on_l3 and on_l1
        assert [(s.signal.number, s.why) for s in service.signals_of_case(session, on_l3[0])] == [
            (number, "one of its cases")
        ]
        assert service.signals_of_case(session, on_l1[0]) == []
