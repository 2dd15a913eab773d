"""One physical movement reported by two sources counts once.

The WMS/TMS connector and EPCIS receiving/shipping events both write inventory movements. A
movement from one of them and a movement from the other are the same physical movement when

* they move the same lot, in the same count unit;
* they share a side: both leave the same location (shipments, transfers), or both enter the
  same location (receipts, returns) — the direction is the side they share;
* their times lie within the window (``PHARMAQMS_INVENTORY_MATCH_WINDOW_MINUTES``, 4 h by
  default) of each other;
* neither is already the second half of another pair, and the shared side of the first is not
  already taken by another record of the second's source.

Among several candidates the one of the same order (bizTransaction / WMS order), then of the
same quantity, then the nearest in time, then the first recorded is taken.

The rule for stock: the record that arrived first is counted; the one that arrived second is
kept as received (accepted data is never lost) and linked to it
(:class:`~pharmaqms.platform.inventory.match_models.InventoryMovementMatch`), and its shared
sides are not counted again — a side it names that the first does not (a WMS shipment naming
the customer an EPCIS event left unknown) still counts. When the quantities differ, the link
says so and the difference is a reconciliation finding: the first record's quantity stays in
stock until a person corrects it (an adjustment movement); nothing is resolved silently.

A movement of one source still without its counterpart once the window has passed, at a
location both sources report on, is a finding too (:func:`findings`): still counted, and linked
when the other arrives later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.settings import get_settings
from pharmaqms.platform.ingest.models import ImportRun
from pharmaqms.platform.inventory.match_models import (
    InventoryMovementMatch,
    MatchOutcome,
    counted,
)
from pharmaqms.platform.inventory.movements import MovementType
from pharmaqms.platform.masterdata.models import Location, Lot
from pharmaqms.platform.traceability.models import InventoryMovement

WMS: Final = "wms"
EPCIS: Final = "epcis"
# Movement types one source or the other reports for a physical receipt or dispatch (a pick
# inside a warehouse or a stock count is the WMS's alone).
MATCHABLE: Final = frozenset(
    {MovementType.RECEIPT, MovementType.RETURN, MovementType.SHIPMENT, MovementType.MOVE}
)
_M = InventoryMovementMatch
__all__ = ["EPCIS", "MATCHABLE", "WMS", "counted", "find_counterpart", "findings", "link_second"]


def from_source(source: str) -> ColumnElement[bool]:
    """The movements a source wrote: EPCIS rows carry their event; WMS rows come from a
    delivery of the WMS/TMS connector."""
    if source == EPCIS:
        return InventoryMovement.epcis_event_id.is_not(None)
    return and_(
        InventoryMovement.epcis_event_id.is_(None),
        InventoryMovement.run_id.in_(select(ImportRun.id).where(ImportRun.kind == WMS)),
    )


@dataclass(frozen=True, slots=True)
class Counterpart:
    movement: InventoryMovement
    from_side: bool
    to_side: bool


def _window() -> timedelta:
    return timedelta(minutes=get_settings().inventory_match_window_minutes)


def find_counterpart(
    session: Session,
    *,
    source: str,
    lot_id: int,
    movement_type: str | None,
    unit: str,
    from_id: int | None,
    to_id: int | None,
    moved_at: datetime,
    quantity: float,
    order_reference: str | None,
    exclude_id: int | None = None,
) -> Counterpart | None:
    """The other source's record of the movement described, counted and free on the side
    they share, or None."""
    if source not in (WMS, EPCIS) or movement_type not in MATCHABLE:
        return None
    if from_id is None and to_id is None:
        return None
    window = _window()
    shares = []
    if from_id is not None:
        shares.append(InventoryMovement.from_location_id == from_id)
    if to_id is not None:
        shares.append(InventoryMovement.to_location_id == to_id)
    query = select(InventoryMovement).where(
        from_source(EPCIS if source == WMS else WMS),
        InventoryMovement.lot_id == lot_id,
        InventoryMovement.unit == unit,
        InventoryMovement.movement_type.in_([t.value for t in MATCHABLE]),
        InventoryMovement.moved_at >= moved_at - window,
        InventoryMovement.moved_at <= moved_at + window,
        or_(*shares),
        # Not itself the second half of a pair.
        not_(exists().where(_M.movement_id == InventoryMovement.id)),
    )
    if exclude_id is not None:
        query = query.where(InventoryMovement.id != exclude_id)
    best: tuple[tuple[int, int, float, int], Counterpart] | None = None
    for candidate in session.scalars(query):
        taken = session.execute(
            select(_M.from_side, _M.to_side).where(_M.counted_movement_id == candidate.id)
        ).all()
        from_side = (
            from_id is not None
            and candidate.from_location_id == from_id
            and not any(f for f, _t in taken)
        )
        to_side = (
            to_id is not None
            and candidate.to_location_id == to_id
            and not any(t for _f, t in taken)
        )
        if not (from_side or to_side):
            continue
        rank = (
            0 if order_reference and candidate.order_reference == order_reference else 1,
            0 if abs(candidate.quantity - quantity) < 1e-9 else 1,
            abs((candidate.moved_at - moved_at).total_seconds()),
            candidate.id,
        )
        if best is None or rank < best[0]:
            best = (rank, Counterpart(candidate, from_side, to_side))
    return None if best is None else best[1]


def link_second(
    session: Session, movement: InventoryMovement, counterpart: Counterpart
) -> InventoryMovementMatch:
    """Record that ``movement`` (arrived second) is the same physical movement as the
    counterpart (counted): sealed with the movement in the caller's change context."""
    difference = movement.quantity - counterpart.movement.quantity
    link = InventoryMovementMatch(
        movement_id=movement.id,
        counted_movement_id=counterpart.movement.id,
        from_side=counterpart.from_side,
        to_side=counterpart.to_side,
        outcome=MatchOutcome.AGREES if abs(difference) < 1e-9 else MatchOutcome.QUANTITY_DIFFERS,
        difference=0.0 if abs(difference) < 1e-9 else difference,
        window_min=get_settings().inventory_match_window_minutes,
        matched_at=clock.now(),
    )
    session.add(link)
    session.flush()
    return link


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """A reconciliation finding: two sources disagree on a movement's quantity, or one
    source's movement has no counterpart from the other after the window."""

    kind: str  # quantity_differs | only_wms | only_epcis
    lot_id: int
    lot_number: str
    item_code: str
    location_code: str
    direction: str  # out of | into
    moved_at: datetime
    counted_id: int  # the movement counted in stock
    other_id: int | None  # the linked second record (quantity_differs)
    counted_quantity: float
    other_quantity: float | None
    unit: str
    detail: str


def _source_label(movement: InventoryMovement) -> str:
    return "EPCIS" if movement.epcis_event_id is not None else "WMS"


OUTWARD: Final = (MovementType.SHIPMENT.value, MovementType.MOVE.value)
INWARD: Final = (MovementType.RECEIPT.value, MovementType.RETURN.value)


def _reported(session: Session, source: str, outward: bool) -> set[int]:
    """Our (non-customer) locations the source reports goods leaving (``outward``) or
    entering."""
    column = InventoryMovement.from_location_id if outward else InventoryMovement.to_location_id
    ours = select(Location.id).where(Location.is_customer.is_(False))
    return {
        place
        for place in session.scalars(
            select(column)
            .where(
                from_source(source),
                InventoryMovement.movement_type.in_(OUTWARD if outward else INWARD),
                column.in_(ours),
            )
            .distinct()
        )
        if place is not None
    }


def findings(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[Finding]:
    """Disagreements first (newest first), then movements of one source alone past the
    window at locations both sources report on (newest first)."""
    session.flush()
    moment = now or clock.now()
    window = _window()
    lots = {}
    places: dict[int, str] = {}

    def lot_of(lot_id: int) -> Lot:
        if lot_id not in lots:
            lot = session.get(Lot, lot_id)
            assert lot is not None
            lots[lot_id] = lot
        return lots[lot_id]

    def place(location_id: int | None) -> str:
        if location_id is None:
            return "—"
        if location_id not in places:
            found = session.get(Location, location_id)
            places[location_id] = found.code if found is not None else str(location_id)
        return places[location_id]

    found: list[Finding] = []
    for link in session.scalars(
        select(_M).where(_M.outcome == MatchOutcome.QUANTITY_DIFFERS).order_by(_M.id.desc())
    ):
        first = session.get(InventoryMovement, link.counted_movement_id)
        second = session.get(InventoryMovement, link.movement_id)
        assert first is not None and second is not None
        lot = lot_of(first.lot_id)
        out = link.from_side
        where = place(first.from_location_id if out else first.to_location_id)
        found.append(
            Finding(
                kind=MatchOutcome.QUANTITY_DIFFERS,
                lot_id=lot.id,
                lot_number=lot.lot_number,
                item_code=lot.item_code,
                location_code=where,
                direction="out of" if out else "into",
                moved_at=first.moved_at,
                counted_id=first.id,
                other_id=second.id,
                counted_quantity=first.quantity,
                other_quantity=second.quantity,
                unit=first.unit,
                detail=(
                    f"{_source_label(first)} (counted) says {first.quantity:g}, "
                    f"{_source_label(second)} says {second.quantity:g} {second.unit}: "
                    f"stock keeps {first.quantity:g} until a person corrects it"
                ),
            )
        )
    # One source alone, past the window, where both sources report that direction.
    for outward in (True, False):
        both = _reported(session, EPCIS, outward) & _reported(session, WMS, outward)
        if not both:
            continue
        column = InventoryMovement.from_location_id if outward else InventoryMovement.to_location_id
        alone = (
            select(InventoryMovement)
            .where(
                or_(from_source(EPCIS), from_source(WMS)),
                InventoryMovement.movement_type.in_(OUTWARD if outward else INWARD),
                InventoryMovement.moved_at < moment - window,
                column.in_(sorted(both)),
                not_(exists().where(_M.movement_id == InventoryMovement.id)),
                not_(exists().where(_M.counted_movement_id == InventoryMovement.id)),
            )
            .order_by(InventoryMovement.moved_at.desc(), InventoryMovement.id.desc())
            .limit(limit)
        )
        for movement in session.scalars(alone):
            lot = lot_of(movement.lot_id)
            source = _source_label(movement)
            where = place(movement.from_location_id if outward else movement.to_location_id)
            other = "WMS" if source == "EPCIS" else "EPCIS"
            direction = "out of" if outward else "into"
            found.append(
                Finding(
                    kind=f"only_{source.lower()}",
                    lot_id=lot.id,
                    lot_number=lot.lot_number,
                    item_code=lot.item_code,
                    location_code=where,
                    direction=direction,
                    moved_at=movement.moved_at,
                    counted_id=movement.id,
                    other_id=None,
                    counted_quantity=movement.quantity,
                    other_quantity=None,
                    unit=movement.unit,
                    detail=(
                        f"only {source} reports {movement.quantity:g} {movement.unit} "
                        f"{direction} {where}; {other} has nothing within "
                        f"{int(window.total_seconds() // 60)} min (counted once; linked if "
                        f"{other} reports it later)"
                    ),
                )
            )
    return found[:limit]
