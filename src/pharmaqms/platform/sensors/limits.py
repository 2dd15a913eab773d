"""The storage limits a temperature reading is judged against, by where it was taken.

A shipment carries the range it must keep (``required_min_c``/``required_max_c``, set from
the products it carries). A location's limits are the narrowest range of the products
assigned to it: a room holding a 2–8 °C vaccine and a 15–25 °C tablet can't keep both, and
the judgement says so (every reading breaches) rather than silently picking one. A place
without known limits is not judged (``None``): there is nothing to compare with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform.masterdata.models import Location, Product
from pharmaqms.platform.sensors.models import StorageAssignment
from pharmaqms.platform.traceability.models import Shipment


@dataclass(frozen=True)
class StorageLimits:
    min_c: float | None
    max_c: float | None
    basis: str

    def breach(self, temperature_c: float) -> str | None:
        """``below`` / ``above`` when outside the range (the limits themselves are inside)."""
        if self.min_c is not None and temperature_c < self.min_c:
            return "below"
        if self.max_c is not None and temperature_c > self.max_c:
            return "above"
        return None


def narrowest(ranges: list[tuple[str, float | None, float | None]]) -> StorageLimits | None:
    """The range every product of a place accepts: the highest minimum, the lowest maximum."""
    judged = [
        (code, low, high) for code, low, high in ranges if low is not None or high is not None
    ]
    if not judged:
        return None
    lows = [low for _c, low, _h in judged if low is not None]
    highs = [high for _c, _l, high in judged if high is not None]
    return StorageLimits(
        min_c=max(lows) if lows else None,
        max_c=min(highs) if highs else None,
        basis="products " + ", ".join(sorted(code for code, _l, _h in judged)),
    )


def shipment_limits(session: Session, shipment_id: int) -> StorageLimits | None:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or (shipment.required_min_c is None and shipment.required_max_c is None):
        return None
    return StorageLimits(
        shipment.required_min_c, shipment.required_max_c, f"shipment {shipment.code}"
    )


def location_limits(session: Session, location_id: int) -> StorageLimits | None:
    rows = session.execute(
        select(Product.code, Product.storage_min_c, Product.storage_max_c)
        .join(StorageAssignment, StorageAssignment.product_id == Product.id)
        .where(StorageAssignment.location_id == location_id, StorageAssignment.active.is_(True))
    ).all()
    found = narrowest([(code, low, high) for code, low, high in rows])
    if found is None:
        return None
    code = session.scalar(select(Location.code).where(Location.id == location_id))
    return StorageLimits(found.min_c, found.max_c, f"{found.basis} at {code}")
