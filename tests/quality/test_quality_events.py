"""The quality events API as other modules call it: inside their own unit of work, naming the
source record, with the link visible from both sides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.quality.quality_steps import counts, user_id

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality import events
from pharmaqms.quality.deviations.models import Deviation


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see test_deviations_api)."""


def excursion_deviation(db: Any, actor: Any, **overrides: Any) -> int:
    now = clock.now()
    fields: dict[str, Any] = {
        "source_type": "excursion",
        "source_id": 42,
        "source_label": "EXC-2026-0042",
        "title": "Shipper at 11.4 °C for 95 minutes",
        "description": "Data logger of shipment SH-881 recorded 11.4 °C peak.",
        "area": "Distribution",
        "occurred_at": now - timedelta(hours=30),
        "discovered_at": now - timedelta(hours=2),
        "product": "Insulin glargine 100 U/ml",
        "batch_ids": ["IG-2402-07"],
        **overrides,
    }
    with unit_of_work(db) as session:
        deviation = events.raise_deviation(session, actor=actor, **fields)
        session.flush()
        return deviation.id


@pytest.mark.postgres
def test_an_excursion_raises_a_deviation_linked_back_to_it(db: Any, people: Any) -> None:
    system_like = people.logistics

    did = excursion_deviation(db, system_like)

    with unit_of_work(db, write=False) as session:
        deviation = session.get(Deviation, did)
        assert deviation is not None
        assert (deviation.number, deviation.status) == ("DEV-2026-0001", "reported")
        found = events.links_of(session, "deviation", did)
        assert [(r.record_type, r.record_id, r.label, r.reason) for r in found.raised_from] == [
            ("excursion", 42, "EXC-2026-0042", "raised from EXC-2026-0042")
        ]
        assert found.led_to == []
        upstream = events.links_of(session, "excursion", 42)
        assert [(r.record_type, r.label, r.status) for r in upstream.led_to] == [
            ("deviation", "DEV-2026-0001", "reported")
        ]


def test_a_capa_linked_to_a_deviation_becomes_its_capa_decision(db: Any, people: Any) -> None:
    did = excursion_deviation(db, people.logistics)
    qa = people.qa
    with unit_of_work(db) as session:
        capa = events.open_capa(
            session,
            actor=qa,
            source_type="audit_finding",
            source_id=None,
            source_label="GDP audit 2026-02, finding 3",
            title="Qualify summer shipping lanes",
            problem_statement="Passive shippers are not qualified for summer profiles.",
            owner_id=user_id(db, "logistics"),
            due_at=clock.now() + timedelta(days=90),
        )
        session.flush()
        capa_id = capa.id

    with unit_of_work(db) as session:
        events.link_records(
            session,
            actor=qa,
            source_type="deviation",
            source_id=did,
            source_label=None,
            target_type="capa",
            target_id=capa_id,
            reason="recurrence of the summer lane problem",
        )

    with unit_of_work(db, write=False) as session:
        deviation = session.get(Deviation, did)
        assert deviation is not None
        assert deviation.capa_decision == "capa"
        raised_from = events.links_of(session, "capa", capa_id).raised_from
        assert [(r.record_type, r.record_id, r.label) for r in raised_from] == [
            ("audit_finding", None, "GDP audit 2026-02, finding 3"),
            ("deviation", did, "DEV-2026-0001"),
        ]


def test_the_same_link_twice_is_refused(db: Any, people: Any) -> None:
    did = excursion_deviation(db, people.logistics)
    with unit_of_work(db) as session:
        change = events.request_change(
            session,
            actor=people.qa,
            source_type="deviation",
            source_id=did,
            source_label=None,
            title="Summer packing configuration",
            description="Use the 96-hour shipper from May to September.",
            justification="Excursions on summer lanes.",
        )
        session.flush()
        change_id = change.id
    before = counts(db)

    with pytest.raises(Conflict) as refused, unit_of_work(db) as session:
        events.link_records(
            session,
            actor=people.qa,
            source_type="deviation",
            source_id=did,
            source_label=None,
            target_type="change_request",
            target_id=change_id,
            reason="again",
        )

    assert refused.value.detail == "DEV-2026-0001 is already linked to CC-2026-0001"
    assert counts(db) == before


@pytest.mark.parametrize(
    ("source", "error", "field"),
    [
        (
            {"source_type": "deviation", "source_id": None, "source_label": ""},
            InvalidInput,
            "source_id",
        ),
        ({"source_type": "deviation", "source_id": 999, "source_label": ""}, NotFound, None),
        (
            {"source_type": "Excursion!", "source_id": 1, "source_label": "x"},
            InvalidInput,
            "source_type",
        ),
        (
            {"source_type": "oos_result", "source_id": 7, "source_label": " "},
            InvalidInput,
            "source_label",
        ),
    ],
)
def test_a_bad_source_is_refused_and_nothing_is_created(
    db: Any, people: Any, source: dict[str, Any], error: type[Exception], field: str | None
) -> None:
    qa = people.qa
    before = counts(db)

    with pytest.raises(error) as refused, unit_of_work(db) as session:
        events.register_complaint(
            session,
            actor=qa,
            product="Paracetamol 500 mg tablets",
            lot="L2403-117",
            complainant_name="A. Patient",
            complainant_type="patient",
            received_at=clock.now() - timedelta(hours=1),
            description="Tablets taste bitter.",
            **source,
        )

    assert getattr(refused.value, "field", None) == field
    assert counts(db) == before


def test_links_lead_only_to_quality_records_and_need_a_quality_role(db: Any, people: Any) -> None:
    did = excursion_deviation(db, people.logistics)
    before = counts(db)

    with pytest.raises(InvalidInput) as wrong_target, unit_of_work(db) as session:
        events.link_records(
            session,
            actor=people.qa,
            source_type="deviation",
            source_id=did,
            source_label=None,
            target_type="user",
            target_id=1,
            reason="x",
        )
    assert wrong_target.value.field == "target_type"
    with pytest.raises(PermissionDenied), unit_of_work(db) as session:
        events.link_records(
            session,
            actor=people.operator,
            source_type="excursion",
            source_id=1,
            source_label="EXC-1",
            target_type="deviation",
            target_id=did,
            reason="x",
        )
    assert counts(db) == before
