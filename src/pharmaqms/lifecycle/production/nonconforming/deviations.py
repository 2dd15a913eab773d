"""The bridge from critical deviations to nonconforming product.

A deviation classified critical opens its records through the deviation module's
classification hook (``quality.deviations.hooks.on_classified``), in the same transaction;
``open_for_deviation`` does it for one deviation by hand, and ``open_for_critical_deviations``
catches up on any missed (a daily job, or by hand).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.nonconforming.service import (
    DeviationFacts,
    DeviationOutcome,
    open_for_critical_deviation,
)
from pharmaqms.quality.deviations.hooks import on_classified
from pharmaqms.quality.deviations.models import Deviation


def deviation_facts(session: Session, deviation_id: int) -> DeviationFacts:
    from pharmaqms.quality.deviations.models import Deviation

    deviation = session.get(Deviation, deviation_id)
    if deviation is None:
        raise NotFound(f"no deviation with id {deviation_id}")
    return DeviationFacts(
        id=deviation.id,
        number=deviation.number,
        title=deviation.title,
        classification=deviation.classification,
        batch_ids=tuple(b.batch_id for b in deviation.batches),
    )


def open_for_deviation(session: Session, *, actor: Actor, deviation_id: int) -> DeviationOutcome:
    """Open the nonconforming product records of one critical deviation (idempotent)."""
    actor.require("nonconformance.report", "open nonconforming product records")
    return open_for_critical_deviation(
        session, actor=actor, deviation=deviation_facts(session, deviation_id)
    )


def open_for_critical_deviations(session: Session, *, actor: Actor) -> list[DeviationOutcome]:
    """Every open critical deviation whose batches have no record yet (a catch-up sweep)."""
    from pharmaqms.quality.deviations.models import OPEN_STATUSES, Deviation

    actor.require("nonconformance.report", "open nonconforming product records")
    ids = session.scalars(
        select(Deviation.id).where(
            Deviation.classification == "critical",
            Deviation.status.in_([s.value for s in OPEN_STATUSES]),
        )
    ).all()
    outcomes = []
    for deviation_id in ids:
        outcome = open_for_critical_deviation(
            session, actor=actor, deviation=deviation_facts(session, deviation_id)
        )
        if outcome.opened or outcome.unknown_batches:
            outcomes.append(outcome)
    return outcomes


@on_classified
def _critical_deviation_holds_its_batches(
    session: Session, actor: Actor, deviation: Deviation
) -> None:
    """A deviation classified critical opens the nonconforming product record of each of its
    batches at once, in the classifying transaction (EU GMP: product affected by a critical
    deviation is held until its disposition)."""
    if deviation.classification == "critical" and deviation.batches:
        open_for_critical_deviation(
            session, actor=actor, deviation=deviation_facts(session, deviation.id)
        )
