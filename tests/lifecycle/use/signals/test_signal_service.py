"""Signals through their services: detection over the case base opens one signal per flagged
pair and never a second; a re-run notes new figures as an audited refresh; the lifecycle
detected → validated → assessed → action (a CAPA raised from the signal) → closed with its
signatures; refusals change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from tests.lifecycle.use.signals.signal_steps import add_qppv, counts, take_in
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import (
    AuthenticationFailed,
    PermissionDenied,
    QMSError,
    TransitionNotAllowed,
)
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.signals import detection, service
from pharmaqms.lifecycle.use.signals.models import PVSignal
from pharmaqms.lifecycle.use.signals.scan import Method, Thresholds
from pharmaqms.quality import events

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database is made on real time; the tests then run on 2 March 2026."""


def detect(db: Any, people: Any) -> detection.DetectionOutcome:
    with unit_of_work(db) as session:
        outcome = detection.run_detection(session, actor=people.pv)
        session.flush()
        return outcome


def the_signal(db: Any) -> PVSignal:
    with unit_of_work(db, write=False) as session:
        [signal] = session.scalars(select(PVSignal)).all()
        session.expunge(signal)
        return signal


def test_detection_opens_one_signal_with_its_frozen_table_and_evidence(
    db: Any, people: Any
) -> None:
    case_ids = take_in(db, people)
    outcome = detect(db, people)
    assert (outcome.pairs, outcome.flagged, len(outcome.opened)) == (
        3,
        1,
        1,
    )  # the pairs with a ≥ 3
    with unit_of_work(db, write=False) as session:
        [signal] = session.scalars(select(PVSignal)).all()
        assert (signal.number, signal.status, signal.product, signal.event_term) == (
            "SIG-2026-0001",
            "detected",
            "Drug X",
            "hepatitis",
        )
        assert (signal.table_a, signal.table_b, signal.table_c, signal.table_d) == (4, 1, 1, 10)
        assert signal.figures["PRR"] == pytest.approx(8.8)
        assert signal.figures["signal_prr"] is True
        assert signal.figures["thresholds"]["prr_min"] == 2.0
        assert "PRR 8.80" in signal.detection_basis
        # 30 days after detection (2 March 2026) by default.
        assert signal.validation_due.isoformat() == "2026-04-01"
        assert [c.id for c in service.evidence_of(session, signal)] == case_ids[:4]
        task = session.scalars(select(Task).where(Task.record_type == "pv_signal")).one()
        assert task.title == "Validate SIG-2026-0001: Drug X / hepatitis"


def test_a_rerun_never_duplicates_and_notes_new_figures_as_an_audited_refresh(
    db: Any, people: Any
) -> None:
    take_in(db, people)
    detect(db, people)
    before = counts(db)
    again = detect(db, people)
    assert (len(again.opened), len(again.refreshed), len(again.unchanged)) == (0, 0, 1)
    assert counts(db) == before  # the same figures: nothing written

    new_case = take_in(db, people, [("Drug X", "hepatitis")])
    third = detect(db, people)
    assert (len(third.opened), len(third.refreshed)) == (0, 1)
    with unit_of_work(db, write=False) as session:
        [signal] = session.scalars(select(PVSignal)).all()
        assert signal.table_a == 4  # frozen at detection
        assert signal.latest_figures["a"] == 5
        assert signal.refreshed_at is not None
        assert new_case[0] in [c.id for c in service.evidence_of(session, signal)]
        reasons = session.scalars(
            select(AuditEntry.reason).where(
                AuditEntry.record_type == "pv_signal", AuditEntry.record_id == signal.id
            )
        ).all()
        assert "detection re-run: new figures" in reasons


def test_the_lifecycle_with_signatures_and_a_capa_linked_both_ways(db: Any, people: Any) -> None:
    take_in(db, people)
    detect(db, people)
    add_qppv(db)
    signal_id = the_signal(db).id
    with unit_of_work(db) as session:
        service.validate_signal(session, actor=people.pv, signal_id=signal_id, password=PASSWORD)
        service.record_assessment(
            session,
            actor=people.pv,
            signal_id=signal_id,
            assessment="Four cases with positive dechallenge; plausible mechanism.",
            conclusion="confirmed",
            risk="important_potential_risk",
        )
        action = service.take_action(
            session,
            actor=people.pv,
            signal_id=signal_id,
            kind="capa",
            title="Hepatic monitoring advice",
            description="Add liver function monitoring to the risk management plan.",
            owner_id=people.pv.user_id,
            due_at=datetime(2026, 6, 1, tzinfo=UTC),
        )
        assert action.record_type == "capa"
        capa_number = action.record_number
    with unit_of_work(db) as session:
        signal = service.close_signal(
            session, actor=people.qppv, signal_id=signal_id, password=PASSWORD
        )
        assert signal.status == "closed"
        assert [(s.meaning, s.signer_username) for s in signatures_of(session, signal)] == [
            ("Reviewed", "pv"),
            ("Closed", "qppv"),
        ]
        led_to = events.links_of(session, "pv_signal", signal_id).led_to
        assert [link.label for link in led_to] == [capa_number]
        capa_id = led_to[0].record_id
        assert capa_id is not None
        raised_from = events.links_of(session, "capa", capa_id).raised_from
        assert [link.label for link in raised_from] == [signal.number]


def test_refuting_at_validation_keeps_the_signed_reason(db: Any, people: Any) -> None:
    take_in(db, people)
    detect(db, people)
    signal_id = the_signal(db).id
    with unit_of_work(db) as session:
        signal = service.refute_signal(
            session,
            actor=people.pv,
            signal_id=signal_id,
            reason="All four cases are one cluster reported by the same study site.",
            password=PASSWORD,
        )
        assert signal.status == "not_a_signal"
        assert signal.refutation_reason.startswith("All four cases")
        [signature] = signatures_of(session, signal)
        assert signature.meaning == "Rejected"
    # The same evidence is not raised again; more evidence is.
    again = detect(db, people)
    assert (len(again.opened), again.already_decided) == (0, [("Drug X", "hepatitis")])
    take_in(db, people, [("Drug X", "hepatitis")])
    assert len(detect(db, people).opened) == 1


def signal_entries(db: Any) -> int:
    with unit_of_work(db, write=False) as session:
        return len(
            session.scalars(
                select(AuditEntry.id).where(AuditEntry.record_type == "pv_signal")
            ).all()
        )


def refused(
    db: Any, error: type[Exception], step: Any, *, attempt_logged: bool = False
) -> QMSError | Exception:
    """The step is refused and nothing changed. A failed signature is itself recorded (the
    lockout counter of the signer's account, Part 11 §11.300(d)): then only that is new."""
    before, on_signal = counts(db), signal_entries(db)
    with pytest.raises(error) as caught, unit_of_work(db) as session:
        step(session)
    after = counts(db)
    if attempt_logged:
        assert after.pop("audit") > before.pop("audit")
    assert after == before
    assert signal_entries(db) == on_signal
    return caught.value


def test_refusals_change_nothing(db: Any, people: Any) -> None:
    take_in(db, people)
    detect(db, people)
    add_qppv(db)
    signal_id = the_signal(db).id
    # Closing before validation and assessment.
    refused(
        db,
        TransitionNotAllowed,
        lambda s: service.close_signal(
            s, actor=people.qppv, signal_id=signal_id, password=PASSWORD
        ),
    )
    # A wrong password.
    refused(
        db,
        AuthenticationFailed,
        lambda s: service.validate_signal(
            s, actor=people.pv, signal_id=signal_id, password="not-my-password"
        ),
        attempt_logged=True,
    )
    # The wrong role: QA neither validates nor assesses signals.
    refused(
        db,
        PermissionDenied,
        lambda s: service.validate_signal(
            s, actor=people.qa, signal_id=signal_id, password=PASSWORD
        ),
    )
    with unit_of_work(db) as session:
        service.validate_signal(session, actor=people.pv, signal_id=signal_id, password=PASSWORD)
    # Validating twice.
    refused(
        db,
        TransitionNotAllowed,
        lambda s: service.validate_signal(
            s, actor=people.pv, signal_id=signal_id, password=PASSWORD
        ),
    )
    # Closing a validated signal that was never assessed.
    refused(
        db,
        TransitionNotAllowed,
        lambda s: service.close_signal(
            s, actor=people.qppv, signal_id=signal_id, password=PASSWORD
        ),
    )
    # An assessment without its conclusion.
    error = refused(
        db,
        QMSError,
        lambda s: service.record_assessment(
            s,
            actor=people.pv,
            signal_id=signal_id,
            assessment="Plausible.",
            conclusion="maybe",
            risk="potential_risk",
        ),
    )
    assert getattr(error, "field", None) == "conclusion"
    with unit_of_work(db) as session:
        service.record_assessment(
            session,
            actor=people.pv,
            signal_id=signal_id,
            assessment="Plausible mechanism, four cases.",
            conclusion="confirmed",
            risk="identified_risk",
        )
    # A confirmed signal is not closed without an action; and the PV officer does not close.
    refused(
        db,
        TransitionNotAllowed,
        lambda s: service.close_signal(
            s, actor=people.qppv, signal_id=signal_id, password=PASSWORD
        ),
    )
    refused(
        db,
        PermissionDenied,
        lambda s: service.close_signal(s, actor=people.pv, signal_id=signal_id, password=PASSWORD),
    )


def test_a_signal_still_detected_after_its_due_date_is_overdue(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    take_in(db, people)
    detect(db, people)
    with unit_of_work(db, write=False) as session:
        [row] = service.register_rows(session)[0]
        assert row.overdue is False
    frozen_clock.advance(days=31)
    with unit_of_work(db, write=False) as session:
        [row] = service.register_rows(session)[0]
        assert (row.overdue, row.cases) == (True, 4)


def test_the_thresholds_are_the_users(db: Any, people: Any) -> None:
    take_in(db, people)
    before = counts(db)
    with unit_of_work(db) as session:
        strict = detection.run_detection(
            session,
            actor=people.pv,
            methods=(Method.PRR,),
            thresholds=Thresholds(prr_min=10.0),  # Drug X / hepatitis has PRR 8.8
        )
        assert (strict.flagged, strict.opened) == (0, [])
    assert counts(db) == before
    with unit_of_work(db) as session:
        loose = detection.run_detection(
            session, actor=people.pv, methods=(Method.PRR,), thresholds=Thresholds(prr_min=8.0)
        )
        assert [s.figures["thresholds"]["prr_min"] for s in loose.opened] == [8.0]


def test_only_pv_runs_detection(db: Any, people: Any) -> None:
    take_in(db, people)
    refused(db, PermissionDenied, lambda s: detection.run_detection(s, actor=people.qa))
