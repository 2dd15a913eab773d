"""The complaint → adverse event handover as a real case link: QA's triage opens the case,
the link shows on both records, PV's validation acknowledges the handover with the case; a
complaint QA registered from a serious case leads back to that case, never to a second one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import released_lot, staff_report
from tests.quality.quality_steps import user_id

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import facts, service
from pharmaqms.lifecycle.use.cases.intake import EventReport
from pharmaqms.lifecycle.use.cases.models import PVCase
from pharmaqms.quality import events
from pharmaqms.quality.complaints import service as complaints
from pharmaqms.quality.complaints.models import Complaint

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


def _complaint(db: Any, people: Any, complainant_type: str = "pharmacist") -> int:
    with unit_of_work(db) as session:
        complaint = complaints.register_complaint(
            session,
            actor=people.qa,
            product="Paracetamol 500 mg tablets",
            lot="L2403-117",
            complainant_name="Apotheek De Roos",
            complainant_type=complainant_type,
            received_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
            description="The patient fainted <twice> after a dose.",
        )
        session.flush()
        return int(complaint.id)


def _triage(db: Any, people: Any, complaint_id: int) -> None:
    with unit_of_work(db) as session:
        complaints.triage_complaint(
            session,
            actor=people.qa,
            complaint_id=complaint_id,
            category="adverse_event",
            criticality="major",
            rationale="Fainting after a dose.",
            investigator_id=user_id(db, "qc"),
        )


def test_triage_opens_a_linked_case_and_validation_acknowledges_it(db: Any, people: Any) -> None:
    complaint_id = _complaint(db, people)

    _triage(db, people, complaint_id)

    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert (case.number, case.source, case.source_reference, case.reporter_type) == (
            "PV-2026-0001",
            "complaint",
            "CMP-2026-0001",
            "hcp",
        )
        assert case.first_received_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        assert [e.verbatim for e in facts.events_of(session, case)] == [
            "The patient fainted ‹twice› after a dose."
        ]
        assert (complaint.pv_reference, complaint.pv_handover_status) == ("PV-2026-0001", "pending")
        led_to = events.links_of(session, "complaint", complaint_id).led_to
        raised_from = events.links_of(session, "pv_case", case.id).raised_from
        assert [(link.label, link.url) for link in led_to] == [("PV-2026-0001", "/pv/cases/1")]
        assert [(link.label, link.url) for link in raised_from] == [
            ("CMP-2026-0001", f"/complaints/{complaint_id}")
        ]
        case_id = case.id

    with unit_of_work(db) as session:
        # The pharmacist, called back, gives what identifies the patient: a follow-up.
        service.record_follow_up(
            session,
            actor=people.pv,
            case_id=case_id,
            report=staff_report(received_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        )
        case = service.validate_case(session, actor=people.pv, case_id=case_id)
        assert case.day_zero == datetime(2026, 3, 2, tzinfo=UTC).date()

    with unit_of_work(db, write=False) as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert (complaint.pv_handover_status, complaint.pv_reference) == (
            "acknowledged",
            "PV-2026-0001",
        )
        waiting = session.scalars(
            select(Task).where(Task.kind == "pv_handover", Task.status == "open")
        ).all()
        assert waiting == []
        # QA holds the complaint already: no second quality event for the same report.
        assert session.scalars(select(Complaint)).all() == [complaint]


def test_a_complaint_raised_from_a_case_leads_back_to_it(db: Any, people: Any) -> None:
    released_lot(db, people)
    serious = (EventReport("liver failure", seriousness=("hospitalisation",)),)
    with unit_of_work(db) as session:
        case_id = service.record_case(
            session, actor=people.pv, report=staff_report(events=serious)
        ).id
    with unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
        [complaint] = session.scalars(select(Complaint)).all()
        complaint_id = complaint.id

    _triage(db, people, complaint_id)

    with unit_of_work(db, write=False) as session:
        assert [c.number for c in session.scalars(select(PVCase))] == ["PV-2026-0001"]
        led_to = events.links_of(session, "complaint", complaint_id).led_to
        assert [link.label for link in led_to] == ["PV-2026-0001"]


def test_both_pages_show_the_link(app: Any, db: Any, people: Any) -> None:
    from tests.web.conftest import UiClient

    complaint_id = _complaint(db, people)
    _triage(db, people, complaint_id)
    pv = UiClient(app)
    pv.login("pv")

    case_page = pv.get("/pv/cases/1").text
    complaint_page = pv.get(f"/complaints/{complaint_id}").text

    assert f'href="/complaints/{complaint_id}"' in case_page
    assert 'href="/pv/cases/1"' in complaint_page
    assert 'name="pv_reference" required maxlength="100" value="PV-2026-0001"' in complaint_page
