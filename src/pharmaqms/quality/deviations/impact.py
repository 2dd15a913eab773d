"""The batches a deviation affects: linked by their lot or batch identifier, put on hold, assessed
during the investigation and given a disposition before the deviation closes.

Batches are named by their lot number, free text: a deviation may concern a lot the data
platform does not know (a supplier's lot, a batch made before the platform). The hold goes
through a hook, ``on_batch_impact``: by default the platform's lot service puts a lot it knows on
hold (the hold's reason starts with the deviation's number, as every holder's does). A lot the
platform does not know, or cannot hold, is linked as ``hold_requested`` — the hold has to be
placed by hand — so nobody mistakes a batch for being held when no system has held it. The
hold is not lifted when the deviation closes: releasing the lot is the disposition decision of
QA or the QP, on the lot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.masterdata.service import LOT_STATUS_MOVES, set_lot_status
from pharmaqms.quality import common
from pharmaqms.quality.deviations.models import (
    BatchDisposition,
    Deviation,
    DeviationBatch,
    DeviationStatus,
    HoldStatus,
)

BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")


@dataclass(frozen=True)
class BatchImpact:
    """What the batch platform is told when a deviation names a batch."""

    batch_id: str
    product: str
    deviation_id: int
    deviation_number: str
    reason: str


# Returns True when the batch is now on hold. Raises a QMSError to refuse the link (an
# unknown batch, say): the deviation's transaction then rolls back whole.
BatchImpactHook = Callable[[Session, BatchImpact, Actor], bool]


def hold_on_the_platform(session: Session, batch: BatchImpact, actor: Actor) -> bool:
    """Put the lot on hold with the platform's lot service, when the platform knows it by that
    number (and only one item has a lot so numbered) and it can be held."""
    lots = list(session.scalars(select(Lot).where(Lot.lot_number == batch.batch_id)))
    if len(lots) != 1:
        return False
    lot = lots[0]
    if lot.status == LotStatus.ON_HOLD:
        return True
    if LotStatus.ON_HOLD not in LOT_STATUS_MOVES[LotStatus(lot.status)]:
        return False
    set_lot_status(
        session,
        lot,
        LotStatus.ON_HOLD,
        actor=actor,
        reason=f"{batch.deviation_number}: {batch.reason}",
        holder=batch.deviation_number,
    )
    return True


_hook: BatchImpactHook | None = hold_on_the_platform


def on_batch_impact(hook: BatchImpactHook | None) -> None:
    """Connect the function that holds batches (``None`` disconnects holding altogether;
    ``hold_on_the_platform`` is the default)."""
    global _hook
    _hook = hook


def _batch_ref(deviation: Deviation, batch_ref_id: int) -> DeviationBatch:
    for batch in deviation.batches:
        if batch.id == batch_ref_id:
            return batch
    raise NotFound(f"{deviation.number} has no batch link {batch_ref_id}")


def add_batch(
    session: Session,
    *,
    actor: Actor,
    deviation: Deviation,
    batch_id: str,
    product: str = "",
    reason: str | None = None,
) -> DeviationBatch:
    common.require_status(
        deviation,
        (DeviationStatus.REPORTED, DeviationStatus.INVESTIGATION),
        "naming affected batches",
    )
    batch_id = (batch_id or "").strip()
    if not BATCH_ID.match(batch_id):
        raise InvalidInput(
            f"{batch_id!r} is not a lot or batch identifier (letters, digits, . _ / -; "
            "at most 60 characters)",
            field="batch_id",
        )
    if any(b.batch_id == batch_id for b in deviation.batches):
        raise Conflict(f"batch {batch_id} is already linked to {deviation.number}")
    product = common.optional_text(product or deviation.product, "product", max_length=200)
    why = (reason or "").strip() or "affected by the deviation"
    on_hold = False
    if _hook is not None:
        session.flush()
        on_hold = _hook(
            session, BatchImpact(batch_id, product, deviation.id, deviation.number, why), actor
        )
    batch = DeviationBatch(
        batch_id=batch_id,
        product=product,
        hold_status=(HoldStatus.ON_HOLD if on_hold else HoldStatus.HOLD_REQUESTED).value,
        impact_assessment="",
        disposition_note="",
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"{deviation.number}: {why}", action="link"):
        deviation.batches.append(batch)
    return batch


def link_batch(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    batch_id: str,
    product: str = "",
    reason: str | None = None,
) -> DeviationBatch:
    actor.require("deviations.report", "name batches affected by deviations")
    deviation = common.get_or_404(session, Deviation, deviation_id, "deviation")
    return add_batch(
        session, actor=actor, deviation=deviation, batch_id=batch_id, product=product, reason=reason
    )


def assess_batch(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    batch_ref_id: int,
    impact_assessment: str,
) -> DeviationBatch:
    """The investigation's conclusion on one batch: is its quality affected, and why (not)."""
    actor.require("deviations.investigate", "assess batch impact")
    deviation = common.get_or_404(session, Deviation, deviation_id, "deviation")
    common.require_status(deviation, (DeviationStatus.INVESTIGATION,), "assessing batch impact")
    if deviation.investigator_id != actor.user_id and not actor.can("deviations.manage"):
        raise PermissionDenied(
            f"only the investigator of {deviation.number} or QA may assess its batches"
        )
    batch = _batch_ref(deviation, batch_ref_id)
    text = common.required_text(
        impact_assessment, "impact_assessment", "the impact assessment", max_length=20_000
    )
    with audit.changes(session, actor=actor, reason=f"impact on batch {batch.batch_id}"):
        batch.impact_assessment = text
    return batch


def record_disposition(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    batch_ref_id: int,
    disposition: str,
    note: str,
) -> DeviationBatch:
    """QA's or the QP's decision on what the deviation means for a batch."""
    actor.require("deviations.disposition", "decide on batch dispositions")
    deviation = common.get_or_404(session, Deviation, deviation_id, "deviation")
    common.require_status(deviation, (DeviationStatus.APPROVED,), "a batch disposition")
    batch = _batch_ref(deviation, batch_ref_id)
    decision = common.choice(
        disposition, "disposition", [d.value for d in BatchDisposition], "the disposition"
    )
    text = common.required_text(note, "note", "the justification of the disposition")
    with audit.changes(
        session, actor=actor, reason=f"batch {batch.batch_id}: {decision.replace('_', ' ')}"
    ):
        batch.disposition = decision
        batch.disposition_note = text
        batch.disposition_by_id = actor.user_id
        batch.disposition_at = clock.now()
    return batch
