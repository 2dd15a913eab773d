"""Distribution KPIs (one of the paper's four outcomes):

- **Excursion rate** = shipments with at least one excursion / shipments, per lane (origin →
  destination) and month of shipping (UTC). A shipment not shipped yet counts nowhere.
- **Mean time to acknowledge** = mean of (acknowledged − raised) over the alarms acknowledged,
  per month in which they were raised; alarms not acknowledged yet are counted apart (they
  would only lengthen it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from pharmaqms.lifecycle.distribution.models import ColdChainAlarm, Excursion
from pharmaqms.platform.masterdata.models import Location
from pharmaqms.platform.traceability.models import Shipment

EXCURSION_RATE_DEFINITION = (
    "Shipments with at least one excursion / shipments shipped, per lane and month of shipping."
)
ACKNOWLEDGE_DEFINITION = (
    "Mean minutes from an alarm being raised to its acknowledgement, per month raised; "
    "alarms still unacknowledged are listed apart."
)


@dataclass(frozen=True)
class LaneMonth:
    lane: str
    month: str
    shipments: int
    with_excursion: int

    @property
    def rate(self) -> float:
        return self.with_excursion / self.shipments


@dataclass(frozen=True)
class AcknowledgeMonth:
    month: str
    acknowledged: int
    mean_minutes: float | None
    unacknowledged: int


@dataclass(frozen=True)
class ShipmentOutcome:
    """One shipment shipped: what the excursion rate counts."""

    shipment_id: int
    reference: str
    lane: str
    shipped_at: datetime
    with_excursion: bool


def shipment_outcomes(session: Session) -> list[ShipmentOutcome]:
    """Every shipment shipped, oldest first, and whether it had an excursion."""
    origin, destination = aliased(Location), aliased(Location)
    shipments = session.execute(
        select(Shipment.id, Shipment.code, Shipment.shipped_at, origin.code, destination.code)
        .join(origin, origin.id == Shipment.origin_id)
        .join(destination, destination.id == Shipment.destination_id)
        .where(Shipment.shipped_at.is_not(None))
        .order_by(Shipment.shipped_at, Shipment.id)
    ).all()
    with_excursion = set(
        session.scalars(select(Excursion.shipment_id).where(Excursion.shipment_id.is_not(None)))
    )
    return [
        ShipmentOutcome(
            shipment_id,
            reference,
            f"{from_code} → {to_code}",
            shipped_at,
            shipment_id in with_excursion,
        )
        for shipment_id, reference, shipped_at, from_code, to_code in shipments
        if shipped_at is not None  # the query's own condition, for the type checker
    ]


def excursion_rate(session: Session) -> list[LaneMonth]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for shipment in shipment_outcomes(session):
        tally = counts[(shipment.lane, f"{shipment.shipped_at:%Y-%m}")]
        tally[0] += 1
        tally[1] += shipment.with_excursion
    return [
        LaneMonth(lane, month, total, hit)
        for (lane, month), (total, hit) in sorted(
            counts.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    ]


def mean_time_to_acknowledge(session: Session) -> list[AcknowledgeMonth]:
    rows = session.execute(select(ColdChainAlarm.raised_at, ColdChainAlarm.acknowledged_at)).all()
    minutes: dict[str, list[float]] = defaultdict(list)
    waiting: dict[str, int] = defaultdict(int)
    for raised_at, acknowledged_at in rows:
        month = f"{raised_at:%Y-%m}"
        if acknowledged_at is None:
            waiting[month] += 1
        else:
            minutes[month].append((acknowledged_at - raised_at).total_seconds() / 60.0)
    return [
        AcknowledgeMonth(
            month,
            len(minutes[month]),
            sum(minutes[month]) / len(minutes[month]) if minutes[month] else None,
            waiting[month],
        )
        for month in sorted(set(minutes) | set(waiting))
    ]
