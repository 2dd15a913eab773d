"""Reporting-clock compliance: of the reporting clocks that fell due, how many were met.

A case's reporting clocks (``rules.CLOCK_RULES``: 15-day serious, 7-day fatal SUSAR, 90-day
non-serious… per region) start at its day 0. This system ends a clock at the case's QA
sign-off — the step after which the report goes out and the one that closes the case's
"report" tasks — so a clock is **met** when the sign-off signature is dated on or before the
clock's due date (the whole day counts, UTC), and **missed** when it came later or has not come
by a due date already past. A clock not yet due on a case still open is pending and not
counted. The transmission to the authority itself (the gateway's acknowledgement) is not
recorded here; when it is, it should end the clock instead.

Reads only. ``clock_outcomes`` is what an outcome dashboard calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.lifecycle.use.cases.models import CaseStatus, PVCase
from pharmaqms.lifecycle.use.cases.service import clocks_of

SIGN_OFF = "sign_off"

DEFINITION = (
    "Reporting-clock compliance: reporting clocks met / reporting clocks due, by the month of "
    "the due date. A clock runs from the case's day 0 (first receipt of a valid case) for its "
    "regulatory period (EU, US, China); it is met when QA signs the case off — after which "
    "the report is sent — on or before the due date, missed when the sign-off came later or "
    "has not come by a due date already past. Clocks not yet due are not counted."
)


@dataclass(frozen=True)
class ClockOutcome:
    case_id: int
    case_number: str
    region: str
    title: str
    due_on: date
    signed_off_at: datetime | None

    @property
    def met(self) -> bool:
        if self.signed_off_at is None:
            return False
        return self.signed_off_at <= datetime.combine(self.due_on, time.max, tzinfo=UTC)


def clock_outcomes(session: Session, *, since: date) -> list[ClockOutcome]:
    """Every reporting clock due from ``since`` up to today, met or missed, by due date."""
    today = clock.now().astimezone(UTC).date()
    cases = session.scalars(
        select(PVCase).where(
            PVCase.day_zero.is_not(None),
            PVCase.status.not_in([CaseStatus.INVALID, CaseStatus.DUPLICATE]),
        )
    ).all()
    signed_off = {
        record_id: signed_at
        for record_id, signed_at in session.execute(
            select(ElectronicSignature.record_id, ElectronicSignature.signed_at)
            .where(
                ElectronicSignature.record_type == PVCase.__audit_type__,
                ElectronicSignature.transition == SIGN_OFF,
            )
            .order_by(ElectronicSignature.signed_at)
        )
    }
    found: list[ClockOutcome] = []
    for case in cases:
        at = signed_off.get(case.id)
        for c in clocks_of(session, case):
            # Due dates from ``since`` on; a clock still running (due in the future, not
            # signed off) has no outcome yet.
            if c.due_on < since or (c.due_on >= today and at is None):
                continue
            found.append(ClockOutcome(case.id, case.number, c.region, c.title, c.due_on, at))
    return sorted(found, key=lambda o: (o.due_on, o.case_id, o.region, o.title))
