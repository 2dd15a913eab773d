"""Demo case processing, so the reporting clocks have a history: the PV officer validates and
assesses a handful of the cases the platform demo's openFDA/FAERS deliveries made, reviews them
with her signature, and QA signs them off — each step at the time it would have happened, some
well inside their clocks, some late (a backlog in the summer), so the outcome dashboard's
reporting-clock compliance reads as a year of work does. The other cases stay received, as an
intake queue does.

A case that is not valid (no identifiable patient, reporter, suspect product or event) is left
as received: the demo never forces a case through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use.cases import rules, service
from pharmaqms.lifecycle.use.cases.facts import of_case
from pharmaqms.lifecycle.use.cases.models import CaseStatus, PVCase

PV_OFFICER = "vera.pv"
QA = "quinn.qa"
# Days from receipt to QA sign-off, case by case: most in time for a 15-day clock, a few
# after a 30-day one, one after everything but a 90-day clock.
SIGN_OFF_AFTER = (6, 11, 34, 9, 41, 12)


def load(session: Session, context: DemoContext) -> None:
    officer, qa = context.people.get(PV_OFFICER), context.people.get(QA)
    if officer is None or qa is None:
        return
    now = clock.now()
    received = session.scalars(
        select(PVCase)
        .where(
            PVCase.status == CaseStatus.RECEIVED,
            PVCase.first_received_at >= now - timedelta(days=330),
        )
        .order_by(PVCase.first_received_at, PVCase.id)
    ).all()
    processed = 0
    for case in received:
        if processed == len(SIGN_OFF_AFTER):
            break
        if not rules.is_valid(of_case(session, case)):
            continue
        start = case.first_received_at.astimezone(UTC)
        sign_off = start + timedelta(days=SIGN_OFF_AFTER[processed], hours=4)
        if sign_off >= now:
            continue
        _process(session, context, case.id, start, sign_off, officer, qa)
        processed += 1


def _process(
    session: Session,
    context: DemoContext,
    case_id: int,
    start: datetime,
    sign_off: datetime,
    officer: Actor,
    qa: Actor,
) -> None:
    review = start + (sign_off - start) * 0.7
    with clock.frozen_at(start + timedelta(hours=20)):
        service.validate_case(session, actor=officer, case_id=case_id)
        service.record_assessment(
            session,
            actor=officer,
            case_id=case_id,
            causality="possible",
            reasoning="Plausible time to onset; other causes not excluded from the report.",
        )
    with clock.frozen_at(review):
        service.medical_review(
            session,
            actor=officer,
            case_id=case_id,
            password=context.password,
        )
    with clock.frozen_at(sign_off):
        service.qa_sign_off(session, actor=qa, case_id=case_id, password=context.password)


register("pharmacovigilance: case processing", load)
