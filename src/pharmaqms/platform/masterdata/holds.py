"""Reading and writing lot holds. ``set_lot_status`` (masterdata) writes the placing hold and
lifts the open ones; ``join_hold`` records a further holder of a lot already on hold."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.hold_models import LotHold
from pharmaqms.platform.masterdata.models import Lot, LotStatus


def open_holds(session: Session, lot_id: int) -> list[LotHold]:
    """The holds not lifted yet, oldest first."""
    session.flush()
    return list(
        session.scalars(
            select(LotHold)
            .where(LotHold.lot_id == lot_id, LotHold.lifted_at.is_(None))
            .order_by(LotHold.placed_at, LotHold.id)
        )
    )


def placing_hold(session: Session, lot_id: int) -> LotHold | None:
    """The open hold that moved the lot to on hold (None when the lot is not held)."""
    for hold in open_holds(session, lot_id):
        if hold.previous_status != LotStatus.ON_HOLD:
            return hold
    return None


def record_placed(
    session: Session, lot: Lot, *, actor: Actor, holder: str, reason: str, previous: str
) -> LotHold:
    """Called by ``set_lot_status`` when it moves a lot to on hold."""
    hold = LotHold(
        lot_id=lot.id,
        holder=holder.strip()[:60],
        reason=reason,
        previous_status=previous,
        placed_at=clock.now(),
        placed_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=reason, action="place"):
        session.add(hold)
    return hold


def lift_all(session: Session, lot: Lot, *, actor: Actor, reason: str) -> list[LotHold]:
    """Called by ``set_lot_status`` when a lot leaves on hold: every open hold ends with it."""
    holds = open_holds(session, lot.id)
    if holds:
        with audit.changes(session, actor=actor, reason=reason, action="lift"):
            for hold in holds:
                hold.lifted_at = clock.now()
                hold.lifted_by_id = actor.user_id
                hold.lift_reason = reason
    return holds


def join_hold(session: Session, lot: Lot, *, actor: Actor, holder: str, reason: str) -> LotHold:
    """Another record holds a lot that is on hold already: recorded, so that the lot is not
    freed while this record is still open."""
    if lot.status != LotStatus.ON_HOLD:
        raise Conflict(f"{lot.audit_label()} is {lot.status}, not on hold: place the hold")
    if not holder.strip() or not reason.strip():
        raise InvalidInput("a hold names its record and its reason", field="holder")
    for hold in open_holds(session, lot.id):
        if hold.holder == holder.strip():
            return hold
    return record_placed(
        session, lot, actor=actor, holder=holder, reason=reason, previous=LotStatus.ON_HOLD
    )


def release_holder(
    session: Session, lot: Lot, *, actor: Actor, holder: str, reason: str
) -> list[LotHold]:
    """A record that joined a hold no longer holds the lot (its hold is lifted; the lot stays
    on hold: its status is decided by whoever placed the hold or by a disposition)."""
    mine = [h for h in open_holds(session, lot.id) if h.holder == holder]
    if mine:
        with audit.changes(session, actor=actor, reason=reason, action="lift"):
            for hold in mine:
                hold.lifted_at = clock.now()
                hold.lifted_by_id = actor.user_id
                hold.lift_reason = reason
    return mine
