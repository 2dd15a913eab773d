"""Three deviations moved through their workflow by the real services on a frozen clock, so
every stay and every task has a known length (days after T0 = 2 March 2026, 09:00 UTC):

- A: reported 0 → investigation 2 → pending approval 5 → approved 6 (still there at 10);
- B: reported 1 → investigation 4 → cancelled 8 (an end state: not counted);
- C: reported 2, still reported at 10.

Tasks: classify (qa) A 0→2, B 1→4, C 2→open; investigate (a named person) A 2→5, B 4→8;
approve (qa) A 5→6; close (qa) A 6→open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.quality.quality_steps import user_id
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.deviations import service as deviations

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
DAY = 24.0


@dataclass(frozen=True)
class Deviations:
    a: int
    b: int
    c: int


def _report(db: Database, people: Any, title: str) -> int:
    with unit_of_work(db) as session:
        return deviations.report_deviation(
            session,
            actor=people.operator,
            title=title,
            description="The upper punch of station 12 broke during compression.",
            area="Production",
            occurred_at=clock.now() - timedelta(hours=2),
            discovered_at=clock.now() - timedelta(hours=1),
            immediate_actions="Press stopped.",
        ).id


def _classify(db: Database, people: Any, deviation_id: int) -> None:
    with unit_of_work(db) as session:
        deviations.classify_deviation(
            session,
            actor=people.qa,
            deviation_id=deviation_id,
            classification="minor",
            severity=2,
            probability=2,
            detectability=2,
            severity_basis="No product impact.",
            probability_basis="First time.",
            detectability_basis="Seen at once.",
            investigator_id=user_id(db, "qc"),
        )


def _investigate_and_submit(db: Database, people: Any, deviation_id: int) -> None:
    with unit_of_work(db) as session:
        deviations.record_investigation(
            session,
            actor=people.qc,
            deviation_id=deviation_id,
            root_cause="Punch used beyond its qualified life.",
            root_cause_category="machine",
            why_chain=["The punch broke.", "It was fatigued."],
            fishbone={"machine": ["punch fatigue"]},
        )
        deviations.decide_no_capa(
            session, actor=people.qc, deviation_id=deviation_id, rationale="One-off, cause removed."
        )
        deviations.transition(session, actor=people.qc, deviation_id=deviation_id, name="submit")


def three_deviations(db: Database, people: Any) -> Deviations:
    """Builds the data set above; leaves the clock frozen at NOW for the caller's context."""
    with clock.frozen_at(T0) as moment:
        a = _report(db, people, "Punch broke (A)")
        moment.advance(days=1)
        b = _report(db, people, "Punch broke (B)")
        moment.advance(days=1)  # day 2
        c = _report(db, people, "Punch broke (C)")
        _classify(db, people, a)
        moment.advance(days=2)  # day 4
        _classify(db, people, b)
        moment.advance(days=1)  # day 5
        _investigate_and_submit(db, people, a)
        moment.advance(days=1)  # day 6
        with unit_of_work(db) as session:
            deviations.transition(
                session, actor=people.qa2, deviation_id=a, name="approve", password=PASSWORD
            )
        moment.advance(days=2)  # day 8
        with unit_of_work(db) as session:
            deviations.transition(
                session, actor=people.qa, deviation_id=b, name="cancel", reason="Not a deviation."
            )
    return Deviations(a, b, c)
