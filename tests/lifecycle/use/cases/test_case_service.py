"""Cases through their services on both databases: intake with findings, follow-up versions,
validation with day 0 and the clocks in the inbox, the quality event for a serious case on a
released lot, assessment, medical review and QA sign-off; refusals change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import counts, released_lot, staff_report
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service
from pharmaqms.lifecycle.use.cases.intake import EventReport, ProductReport
from pharmaqms.lifecycle.use.cases.models import PVCaseProduct, PVCaseVersion
from pharmaqms.quality import events
from pharmaqms.quality.complaints.models import Complaint

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


def test_a_staff_report_becomes_a_received_case_with_its_findings(db: Any, people: Any) -> None:
    report = staff_report(
        patient_age="-67",
        events=(EventReport("dizziness", onset=date(2026, 4, 1)),),
    )
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=report)
        session.flush()
        assert (case.number, case.status, case.case_version) == ("PV-2026-0001", "received", 1)
        assert case.patient_age_years is None
        assert case.findings == [
            {
                "field": "patient_age",
                "value": "-67",
                "message": "an age of -67 years is not possible: not taken",
            },
            {
                "field": "events[1].onset",
                "value": "2026-04-01",
                "message": "an onset on 2026-04-01 is in the future: not taken",
            },
        ]
        [event] = service.facts.events_of(session, case)
        assert (event.verbatim, event.onset) == ("dizziness", None)
        tasks = session.scalars(select(Task.title).where(Task.record_type == "pv_case")).all()
        assert tasks == ["Triage PV-2026-0001: check the four minimum criteria"]


def test_a_year_before_1900_is_a_finding_in_an_onset_and_a_refusal_in_a_receipt(
    db: Any, people: Any
) -> None:
    report = staff_report(events=(EventReport("dizziness", onset=date(544, 4, 1)),))
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=report)
        session.flush()
        assert case.findings[-1]["message"] == (
            "an onset in the year 544 is before 1900: not taken"
        )
    before = counts(db)
    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as session:
        service.record_case(
            session,
            actor=people.pv,
            report=staff_report(received_at=datetime(544, 3, 1, tzinfo=UTC)),
        )
    assert (refused.value.field, refused.value.detail) == (
        "received_at",
        "a receipt in the year 544 is before 1900: check the year",
    )
    assert counts(db) == before


def test_a_report_with_a_script_is_refused_and_changes_nothing(db: Any, people: Any) -> None:
    before = counts(db)
    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as session:
        service.record_case(
            session,
            actor=people.pv,
            report=staff_report(narrative="<script>alert(1)</script>"),
        )
    assert (refused.value.field, refused.value.detail) == (
        "narrative",
        "the narrative may not contain markup or scripts",
    )
    assert counts(db) == before


def test_only_pv_takes_reports_in(db: Any, people: Any) -> None:
    before = counts(db)
    with (
        pytest.raises(PermissionDenied, match="may not take in adverse event reports"),
        unit_of_work(db) as session,
    ):
        service.record_case(session, actor=people.qc, report=staff_report())
    assert counts(db) == before


def test_a_follow_up_is_a_new_version_that_stores_what_changed(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(session, actor=people.pv, report=staff_report()).id
    with unit_of_work(db) as session:
        case = service.record_follow_up(
            session,
            actor=people.pv,
            case_id=case_id,
            report=staff_report(
                patient_age="55",
                events=(
                    EventReport("skin rash", "10037844", date(2026, 2, 27), ("hospitalisation",)),
                ),
            ),
        )
        assert case.case_version == 2
        version = session.scalars(
            select(PVCaseVersion).where(PVCaseVersion.case_version == 2)
        ).one()
        assert sorted(version.changes) == ["events", "patient_age_years"]
        assert version.changes["patient_age_years"] == ["54.00", "55.00"]
        assert [e.seriousness for e in service.facts.events_of(session, case)] == [
            ["hospitalisation"]
        ]


def test_validation_sets_day_zero_and_puts_each_clock_in_the_inbox(db: Any, people: Any) -> None:
    serious = (EventReport("anaphylaxis", seriousness=("life_threatening",)),)
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=staff_report(events=serious))
        case_id = case.id
    with unit_of_work(db) as session:
        case = service.validate_case(session, actor=people.pv, case_id=case_id)
        assert (case.status, case.day_zero) == ("valid", date(2026, 3, 1))
        clocks = {(c.code, c.due_on) for c in service.clocks_of(session, case)}
        assert clocks == {
            ("eu_serious_15", date(2026, 3, 16)),
            ("us_alert_15", date(2026, 3, 16)),
            ("cn_serious_15", date(2026, 3, 16)),
        }
        titles = session.scalars(
            select(Task.title).where(Task.kind == "report", Task.status == "open")
        ).all()
        assert sorted(titles) == [
            "PV-2026-0001: 15-day Alert report (serious and unexpected) to FDA (US) due 2026-03-16",
            "PV-2026-0001: Serious ADR to NMPA within 15 days (CN) due 2026-03-16",
            "PV-2026-0001: Serious ICSR to EudraVigilance within 15 days (EU) due 2026-03-16",
        ]


def test_a_case_missing_a_criterion_is_not_validated_and_nothing_changes(
    db: Any, people: Any
) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(
            session,
            actor=people.pv,
            report=staff_report(patient_initials="", patient_age=None, patient_sex=None),
        ).id
    before = counts(db)
    with pytest.raises(TransitionNotAllowed) as refused, unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
    assert refused.value.reasons == ["no initials, age or sex: the patient is not identifiable"]
    assert counts(db) == before


def test_day_zero_is_the_receipt_that_first_made_the_case_valid(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(
            session, actor=people.pv, report=staff_report(reporter_type=None)
        ).id
    later = staff_report(received_at=clock.now().replace(hour=8))
    with unit_of_work(db) as session:
        service.record_follow_up(session, actor=people.pv, case_id=case_id, report=later)
        case = service.validate_case(session, actor=people.pv, case_id=case_id)
        assert case.day_zero == date(2026, 3, 2)


def test_a_serious_valid_case_on_a_released_lot_raises_a_quality_event(
    db: Any, people: Any
) -> None:
    lot_id = released_lot(db, people)
    serious = (EventReport("liver failure", seriousness=("hospitalisation",)),)
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=staff_report(events=serious))
        case_id = case.id
        [product] = session.scalars(select(PVCaseProduct)).all()
        assert product.lot_id == lot_id
    with unit_of_work(db) as session:
        assert session.scalars(select(Complaint)).all() == []  # nothing before it is valid
    with unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
    with unit_of_work(db, write=False) as session:
        [complaint] = session.scalars(select(Complaint)).all()
        assert (complaint.number, complaint.lot, complaint.status) == (
            "CMP-2026-0001",
            "L2403-117",
            "received",
        )
        led_to = events.links_of(session, "pv_case", case_id).led_to
        assert [(link.label, link.url) for link in led_to] == [
            ("CMP-2026-0001", f"/complaints/{complaint.id}")
        ]
        raised_from = events.links_of(session, "complaint", complaint.id).raised_from
        assert [link.label for link in raised_from] == ["PV-2026-0001"]


def test_a_non_serious_case_or_a_lot_in_quarantine_raises_nothing(db: Any, people: Any) -> None:
    released_lot(db, people, status="quarantine")
    serious = (EventReport("liver failure", seriousness=("hospitalisation",)),)
    with unit_of_work(db) as session:
        case_id = service.record_case(
            session, actor=people.pv, report=staff_report(events=serious)
        ).id
    with unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
    with unit_of_work(db, write=False) as session:
        assert session.scalars(select(Complaint)).all() == []


def test_assessment_review_and_sign_off_are_signed_by_two_people(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        service.set_reference_safety_information(
            session,
            actor=people.pv,
            product="Paracetamol 500 mg tablets",
            document_reference="SmPC-PARA-4.8 v3",
            expected_terms=["Skin rash", "nausea"],
        )
        case_id = service.record_case(session, actor=people.pv, report=staff_report()).id
    with unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
        case = service.record_assessment(
            session,
            actor=people.pv,
            case_id=case_id,
            causality="probable",
            reasoning="Onset two days after the first dose; resolved on withdrawal.",
        )
        assert (case.expectedness, case.expectedness_basis) == (
            "expected",
            "Paracetamol 500 mg tablets / skin rash: listed in SmPC-PARA-4.8 v3",
        )
        [non_serious] = service.clocks_of(session, case)[:1]
        assert (non_serious.code, non_serious.due_on) == ("eu_non_serious_90", date(2026, 5, 30))
        service.medical_review(session, actor=people.pv, case_id=case_id, password=PASSWORD)
        # The review closes the review task, not the reporting clocks: they run until sign-off.
        open_reports = session.scalars(
            select(Task.title).where(Task.kind == "report", Task.status == "open")
        ).all()
        assert sorted(open_reports) == [
            "PV-2026-0001: Non-serious ADR to NMPA within 30 days (CN) due 2026-03-31",
            "PV-2026-0001: Non-serious ICSR to EudraVigilance within 90 days (EU) due 2026-05-30",
        ]
    with pytest.raises(PermissionDenied) as refused, unit_of_work(db) as session:
        service.qa_sign_off(session, actor=people.pv, case_id=case_id, password=PASSWORD)
    assert refused.value.reasons[-1] == (
        "who signed PV-2026-0001 as Reviewed may not 'QA sign-off' it"
    )
    with unit_of_work(db) as session:
        case = service.qa_sign_off(session, actor=people.qa, case_id=case_id, password=PASSWORD)
        assert case.status == "closed"
        meanings = [s.meaning for s in signatures_of(session, case)]
        assert meanings == ["Reviewed", "Approved"]
        still_open = session.scalars(
            select(Task).where(Task.record_type == "pv_case", Task.status == "open")
        ).all()
        assert still_open == []


def test_a_follow_up_after_review_sends_the_case_back_to_assessment(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(session, actor=people.pv, report=staff_report()).id
    with unit_of_work(db) as session:
        service.validate_case(session, actor=people.pv, case_id=case_id)
        service.record_assessment(
            session, actor=people.pv, case_id=case_id, causality="possible", reasoning="Timing."
        )
        service.medical_review(session, actor=people.pv, case_id=case_id, password=PASSWORD)
    with unit_of_work(db) as session:
        case = service.record_follow_up(
            session,
            actor=people.pv,
            case_id=case_id,
            report=staff_report(products=(ProductReport("Paracetamol 500 mg tablets", "X1"),)),
        )
        assert (case.status, case.case_version) == ("valid", 2)
