"""Holding a lot while a quality record about it is open, and lifting the hold when the last one
closes. An OOS investigation and a nonconforming product record both hold their lot; the lot
goes back to the status it had before the hold only when neither kind has an open record left,
so closing one record never frees a lot another record still holds. Who placed a hold, and the
status before it, are read from the platform's ``lot_holds`` table; a hold another module
joined (a cold-chain excursion assessment) keeps the lot held as well."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.holds import open_holds, placing_hold
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.masterdata.service import LOT_STATUS_MOVES, set_lot_status

# Statuses from which a hold is meaningless or impossible: the lot can't be used anyway.
NOT_HOLDABLE = frozenset({LotStatus.REJECTED, LotStatus.EXPIRED, LotStatus.RECALLED})


def hold_lot(session: Session, lot: Lot, *, actor: Actor, by: str, why: str) -> str:
    """Put ``lot`` on hold for the record ``by`` (its number, recorded as the hold's holder).
    Returns the status the lot had before, or ''
    when this record placed no hold (already held, or unusable anyway)."""
    if lot.status == LotStatus.ON_HOLD or lot.status in NOT_HOLDABLE:
        return ""
    previous = lot.status
    set_lot_status(session, lot, LotStatus.ON_HOLD, actor=actor, reason=f"{by}: {why}", holder=by)
    return previous


def open_holders(session: Session, lot_id: int) -> list[str]:
    """Numbers of the open records that hold the lot (OOS investigations, nonconformances)."""
    from pharmaqms.lifecycle.production.nonconforming.models import (
        OPEN_NONCONFORMANCE_STATUSES,
        NonconformingProduct,
    )
    from pharmaqms.lifecycle.production.qc.models import (
        OPEN_INVESTIGATION_STATUSES,
        OosInvestigation,
    )

    session.flush()
    oos = session.scalars(
        select(OosInvestigation.number).where(
            OosInvestigation.lot_id == lot_id,
            OosInvestigation.status.in_([s.value for s in OPEN_INVESTIGATION_STATUSES]),
        )
    )
    ncs = session.scalars(
        select(NonconformingProduct.number).where(
            NonconformingProduct.lot_id == lot_id,
            NonconformingProduct.status.in_([s.value for s in OPEN_NONCONFORMANCE_STATUSES]),
        )
    )
    return sorted([*oos, *ncs])


def placed_hold(session: Session, lot_id: int) -> tuple[str, str] | None:
    """Who placed the hold the lot is under now, and what the lot was before it:
    (record number, status), from the lot's open placing hold."""
    hold = placing_hold(session, lot_id)
    if hold is None:
        return None
    return (hold.holder, hold.previous_status)


def _ours(session: Session, lot_id: int, number: str) -> bool:
    from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
    from pharmaqms.lifecycle.production.qc.models import OosInvestigation

    return any(
        session.scalars(
            select(model.id).where(model.lot_id == lot_id, model.number == number)
        ).first()
        is not None
        for model in (OosInvestigation, NonconformingProduct)
    )


def lift_hold_if_free(session: Session, lot: Lot, *, actor: Actor, by: str) -> str | None:
    """Lift the hold once no open record holds the lot any more. Returns the status the lot
    went back to, or None when it stays as it is (still held, or not on hold)."""
    if lot.status != LotStatus.ON_HOLD or open_holders(session, lot.id):
        return None
    if any(not _ours(session, lot.id, hold.holder) for hold in open_holds(session, lot.id)):
        # Another record (a deviation, an excursion assessment, a person) holds it too.
        return None
    placed = placed_hold(session, lot.id)
    if placed is None or not _ours(session, lot.id, placed[0]):
        # Held by something else (a deviation, a person): not ours to lift.
        return None
    previous = placed[1]
    if previous not in LOT_STATUS_MOVES[LotStatus.ON_HOLD]:
        return None
    set_lot_status(
        session,
        lot,
        previous,
        actor=actor,
        reason=f"{by} closed: no open OOS investigation or nonconformance holds the lot",
    )
    return previous
