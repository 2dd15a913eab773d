"""The kinds of inventory movement, the count units a quantity may be given in, and the balance
of a lot at a location — what the connector and the EPCIS hook check a movement against.

Every movement goes from a location to a location; a side left empty is outside our stock (a
supplier, the road, a customer we don't track). The balance of a lot at a location is what
came in minus what went out, so the same sum answers "stock on hand" for every kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from pharmaqms.platform.governance.units import UnitProblem, parse_unit, registry
from pharmaqms.platform.inventory.match_models import counted
from pharmaqms.platform.traceability.models import InventoryMovement


class MovementType(StrEnum):
    RECEIPT = "receipt"  # goods arrive into a location of ours
    MOVE = "move"  # from one of our locations to another (put-away, transfer)
    PICK = "pick"  # from storage to the dispatch area, for an order
    SHIPMENT = "shipment"  # leaves our location for a customer
    RETURN = "return"  # comes back from a customer
    ADJUSTMENT = "adjustment"  # a count found more (to) or less (from) than the book


# Which sides a movement of each type names: (from required, to required). An adjustment names
# exactly one side (checked apart).
SIDES: Final[dict[MovementType, tuple[bool, bool]]] = {
    MovementType.RECEIPT: (False, True),
    MovementType.MOVE: (True, True),
    MovementType.PICK: (True, True),
    MovementType.SHIPMENT: (True, False),
    MovementType.RETURN: (False, True),
    MovementType.ADJUSTMENT: (False, False),
}

# Stock is kept in saleable units (packs). The spellings WMSs use for "one each"; pint also
# takes dimensionless counts ("dozen" = 12). A case or a pallet is not a count of packs the
# platform can know (its content differs per product): it is refused, not guessed.
COUNT_UNIT: Final = "pack"
COUNT_SPELLINGS: Final = frozenset(
    {
        "pack",
        "packs",
        "pk",
        "ea",
        "each",
        "pc",
        "pcs",
        "piece",
        "pieces",
        "unit",
        "units",
        "count",
        "saleable unit",
        "su",
        "1",
    }
)

# Counts of several packs that pint's default registry does not define.
COUNT_MULTIPLES: Final = {"dozen": 12.0, "dz": 12.0, "pair": 2.0, "gross": 144.0}


@dataclass(frozen=True)
class CountProblem:
    code: str
    message: str


def packs_per_unit(spelling: str) -> float | CountProblem:
    """How many packs one ``spelling`` is: 1 for "ea", "pcs", "pack"…, 12 for "dozen"; a
    problem with its code for a unit that is not a count (``not_a_count``: kg, mL, a case) or
    not a unit at all (``unknown_unit``, ``unit_syntax``)."""
    text = (spelling or "").strip().lower()
    if text in COUNT_SPELLINGS:
        return 1.0
    if text in COUNT_MULTIPLES:
        return COUNT_MULTIPLES[text]
    try:
        unit = parse_unit(spelling)
    except UnitProblem as problem:
        if problem.code == "unknown_unit":
            return CountProblem(
                "not_a_count",
                f"{spelling!r} is not a count of packs (send eaches: ea, pcs, pack)",
            )
        return CountProblem(problem.code, str(problem))
    if not unit.dimensionless:
        return CountProblem(
            "not_a_count", f"{spelling!r} measures {unit.dimensionality}, not a count of packs"
        )
    factor = float(registry().Quantity(1, unit).to("dimensionless").magnitude)
    if factor < 1 or factor != int(factor):
        return CountProblem("not_a_count", f"{spelling!r} is not a whole number of packs")
    return factor


def balance(session: Session, lot_id: int, location_id: int, at: datetime | None = None) -> float:
    """Packs of the lot at the location: in minus out, over the movements up to ``at``
    (inclusive; None: all recorded), each physical movement once (matching.py)."""
    session.flush()

    def total(column: InstrumentedAttribute[int | None], side: str) -> float:
        query = select(func.coalesce(func.sum(InventoryMovement.quantity), 0.0)).where(
            InventoryMovement.lot_id == lot_id, column == location_id, counted(side)
        )
        if at is not None:
            query = query.where(InventoryMovement.moved_at <= at)
        return float(session.scalar(query) or 0.0)

    return total(InventoryMovement.to_location_id, "to") - total(
        InventoryMovement.from_location_id, "from"
    )
