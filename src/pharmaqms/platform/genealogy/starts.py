"""Identifiers a genealogy question can start from, for the page's list of suggestions: the
newest lots (finished batches first, then material lots) and shipments, each as the page's
search box takes it (``ITEM/LOT``, a shipment's code)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from pharmaqms.platform.masterdata.models import Lot, LotKind
from pharmaqms.platform.traceability.models import Shipment

STARTS_SHOWN = 60


@dataclass(frozen=True, slots=True)
class Start:
    identifier: str  # what the search box takes
    description: str  # what the suggestion says of it


def starting_points(session: Session, limit: int = STARTS_SHOWN) -> list[Start]:
    """Lots newest first (finished batches before material lots), then shipments with an
    SSCC, together at most ``limit``."""
    finished_first = case((Lot.kind == LotKind.FINISHED, 0), else_=1)
    lots = session.execute(
        select(Lot.item_code, Lot.lot_number, Lot.kind)
        .order_by(finished_first, Lot.id.desc())
        .limit(limit)
    ).all()
    found = [
        Start(
            f"{item}/{number}",
            f"{'batch' if kind == LotKind.FINISHED else 'material lot'} {number} of {item}",
        )
        for item, number, kind in lots
    ]
    room = limit - len(found)
    if room > 0:
        shipments = session.execute(
            select(Shipment.code, Shipment.sscc)
            .where(Shipment.sscc.is_not(None))
            .order_by(Shipment.id.desc())
            .limit(room)
        ).all()
        found += [Start(code, f"shipment {code} (SSCC {sscc})") for code, sscc in shipments]
    return found
