"""Recall execution, one named function per step:

``open_recall`` (the scope is computed from the genealogy and timed; the notification list is
one row per place reached) → ``approve_recall`` (QA signs class and depth; the lots become
recalled through the platform, unless it is a mock) → ``notify_customers`` → per place
``acknowledge`` and ``record_return`` → ``close_recall`` (QA signs; refused below the target
effectiveness unless a justification is given) or ``cancel_recall``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.distribution.recalls.models import (
    Recall,
    RecallClass,
    RecallDepth,
    RecallNotification,
    RecallStatus,
)
from pharmaqms.lifecycle.distribution.recalls.reach import reach
from pharmaqms.lifecycle.distribution.recalls.workflow import RECALL_WORKFLOW
from pharmaqms.platform.genealogy.identifiers import resolve
from pharmaqms.platform.masterdata.models import Lot, LotStatus
from pharmaqms.platform.masterdata.service import set_lot_status

MAX_SUBJECTS: Final = 50
ACK_MEANS: Final = ("email", "phone", "fax", "letter", "portal", "visit")


def _choice(value: str, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{field} {value!r} must be one of {', '.join(allowed)}", field=field)
    return value


def get_recall(session: Session, recall_id: int) -> Recall:
    recall = session.get(Recall, recall_id)
    if recall is None:
        raise NotFound(f"no recall #{recall_id}")
    return recall


def notifications(session: Session, recall_id: int) -> list[RecallNotification]:
    query = select(RecallNotification).where(RecallNotification.recall_id == recall_id)
    rows = list(session.scalars(query.order_by(RecallNotification.id)))
    return rows


def recalls(session: Session) -> list[Recall]:
    return list(session.scalars(select(Recall).order_by(Recall.id.desc())))


def open_recall(
    session: Session,
    *,
    actor: Actor,
    subjects: Sequence[str],
    classification: str,
    depth: str,
    reason: str,
    target_pct: float = 100.0,
    mock: bool = False,
) -> Recall:
    """Open a recall (or a mock recall) of lots, packs or containers: the scope is traced
    through the genealogy now, timed, and every place reached gets a notification row."""
    actor.require("recalls.coordinate", "open recalls")
    named = [s.strip() for s in subjects if s.strip()]
    if not named:
        raise InvalidInput("name at least one lot, pack or SSCC to recall", field="subjects")
    if len(named) > MAX_SUBJECTS:
        raise InvalidInput(f"at most {MAX_SUBJECTS} identifiers in one recall", field="subjects")
    _choice(classification, [c.value for c in RecallClass], "classification")
    _choice(depth, [d.value for d in RecallDepth], "depth")
    if not reason.strip():
        raise InvalidInput("give the reason for the recall", field="reason")
    if not 0 <= target_pct <= 100:
        raise InvalidInput("the effectiveness target is a percentage, 0-100", field="target_pct")
    started_at, tick = clock.now(), time.perf_counter()
    found = reach(session, named)
    seconds = time.perf_counter() - tick
    record = Recall(
        status=RecallStatus.DRAFT.value,
        mock=mock,
        subjects=json.dumps(named, ensure_ascii=False),
        lots=json.dumps(list(found.scope.lots), ensure_ascii=False),
        classification=classification,
        depth=depth,
        reason=reason.strip(),
        target_pct=float(target_pct),
        scope_started_at=started_at,
        scope_completed_at=clock.now(),
        scope_seconds=round(seconds, 6),
        scope_events=found.scope.events,
    )
    what = "mock recall" if mock else "recall"
    with audit.changes(session, actor=actor, reason=f"{what} of {', '.join(named)}"[:500]):
        session.add(record)
        session.flush()
        for reached in found.places:
            session.add(
                RecallNotification(
                    recall_id=record.id,
                    place=reached.place.id,
                    place_code=reached.place.code,
                    place_name=reached.place.name[:200],
                    place_kind=reached.place.kind,
                    is_customer=reached.place.is_customer,
                    quantity_shipped=reached.quantity,
                    first_shipped_at=reached.first_shipped_at,
                    quantity_returned=0,
                )
            )
    return record


def _our_lots(session: Session, recall: Recall) -> list[Lot]:
    found: dict[int, Lot] = {}
    for lot_class in json.loads(recall.lots):
        lot_id = resolve(session, lot_class).lot_id
        if lot_id is not None and lot_id not in found:
            lot = session.get(Lot, lot_id)
            if lot is not None:
                found[lot_id] = lot
    return list(found.values())


def approve_recall(session: Session, *, actor: Actor, recall_id: int, password: str) -> Recall:
    """QA signs the recall (class, depth, scope). A real recall then recalls every lot of ours
    in scope through the platform, so that verification answers "recalled"; a mock changes no
    lot. A lot already rejected or expired is out of the supply chain and stays as it is."""
    recall = get_recall(session, recall_id)
    perform(
        session,
        RECALL_WORKFLOW,
        recall,
        "approve",
        actor=actor,
        password=password,
        comment=f"class {recall.classification}, depth {recall.depth}",
    )
    if recall.mock:
        return recall
    why = f"{recall.number}: {recall.reason}"[:500]
    for lot in _our_lots(session, recall):
        if lot.status == LotStatus.QUARANTINE.value:
            set_lot_status(
                session, lot, LotStatus.ON_HOLD.value, actor=actor, reason=why, holder=recall.number
            )
        if lot.status in (LotStatus.RELEASED.value, LotStatus.ON_HOLD.value):
            set_lot_status(session, lot, LotStatus.RECALLED.value, actor=actor, reason=why)
    return recall


def notify_customers(session: Session, *, actor: Actor, recall_id: int) -> Recall:
    """The recall notice goes out to every place on the list: the recall is in progress."""
    recall = get_recall(session, recall_id)
    perform(session, RECALL_WORKFLOW, recall, "start", actor=actor)
    now = clock.now()
    with audit.changes(session, actor=actor, reason=f"{recall.number}: notices sent"):
        for row in notifications(session, recall.id):
            row.notified_at = now
    return recall


def _open_row(
    session: Session, actor: Actor, notification_id: int, recall_id: int | None
) -> RecallNotification:
    actor.require("recalls.coordinate", "work recall notifications")
    row = session.get(RecallNotification, notification_id)
    if row is None or (recall_id is not None and row.recall_id != recall_id):
        raise NotFound(f"no recall notification #{notification_id}")
    recall = get_recall(session, row.recall_id)
    if recall.status != RecallStatus.IN_PROGRESS.value:
        raise Conflict(
            f"{recall.number} is {RECALL_WORKFLOW.state_label(recall.status)}: "
            "acknowledgements and returns are recorded while it is in progress"
        )
    return row


def acknowledge(
    session: Session,
    *,
    actor: Actor,
    notification_id: int,
    acknowledged_by: str,
    how: str,
    acknowledged_at: datetime | None = None,
    recall_id: int | None = None,
) -> RecallNotification:
    """The customer confirmed receipt of the recall notice: who there, when and how."""
    row = _open_row(session, actor, notification_id, recall_id)
    if row.acknowledged_at is not None:
        raise Conflict(f"{row.place_name} acknowledged already, on {row.acknowledged_at:%Y-%m-%d}")
    if not acknowledged_by.strip():
        raise InvalidInput("name who acknowledged at the customer", field="acknowledged_by")
    _choice(how, ACK_MEANS, "how")
    when = acknowledged_at or clock.now()
    if when.tzinfo is None:
        raise InvalidInput("the acknowledgement time needs a time zone", field="acknowledged_at")
    if when > clock.now() or (row.notified_at is not None and when < row.notified_at):
        raise InvalidInput(
            "an acknowledgement comes after the notice and not in the future",
            field="acknowledged_at",
        )
    with audit.changes(session, actor=actor, reason=f"recall acknowledged by {row.place_name}"):
        row.acknowledged_at = when
        row.acknowledged_by = acknowledged_by.strip()[:200]
        row.acknowledged_how = how
        row.recorded_by_id = actor.user_id
    return row


def record_return(
    session: Session,
    *,
    actor: Actor,
    notification_id: int,
    quantity: int,
    recall_id: int | None = None,
) -> RecallNotification:
    """Units returned by a place; the total returned never exceeds what was shipped there."""
    row = _open_row(session, actor, notification_id, recall_id)
    if quantity < 1:
        raise InvalidInput("a return is at least one unit", field="quantity")
    if row.quantity_returned + quantity > row.quantity_shipped:
        raise Conflict(
            f"{row.place_name} was shipped {row.quantity_shipped} and has returned "
            f"{row.quantity_returned}: {quantity} more would exceed what it received",
            field="quantity",
        )
    with audit.changes(session, actor=actor, reason=f"{quantity} returned by {row.place_name}"):
        row.quantity_returned += quantity
    return row


@dataclass(frozen=True, slots=True)
class Effectiveness:
    notified: int
    acknowledged: int
    shipped: int
    returned: int
    target_pct: float

    @property
    def acknowledged_pct(self) -> float:
        return 100.0 if not self.notified else round(100 * self.acknowledged / self.notified, 1)

    @property
    def returned_pct(self) -> float:
        return 100.0 if not self.shipped else round(100 * self.returned / self.shipped, 1)

    @property
    def met(self) -> bool:
        return min(self.acknowledged_pct, self.returned_pct) >= self.target_pct

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "notified": self.notified,
            "acknowledged": self.acknowledged,
            "acknowledged_pct": self.acknowledged_pct,
            "shipped": self.shipped,
            "returned": self.returned,
            "returned_pct": self.returned_pct,
            "target_pct": self.target_pct,
            "met": self.met,
        }


def effectiveness(session: Session, recall: Recall) -> Effectiveness:
    """Customers acknowledged / customers notified, and units returned / units shipped to
    customers (the places the recall's depth reaches; a distributor's onward shipments are
    counted at the customers they reached)."""
    rows = [r for r in notifications(session, recall.id) if r.is_customer]
    return Effectiveness(
        notified=len(rows),
        acknowledged=sum(1 for r in rows if r.acknowledged_at is not None),
        shipped=sum(r.quantity_shipped for r in rows),
        returned=sum(r.quantity_returned for r in rows),
        target_pct=recall.target_pct,
    )


def close_recall(
    session: Session,
    *,
    actor: Actor,
    recall_id: int,
    password: str,
    justification: str | None = None,
) -> Recall:
    """QA signs the closure. Below the target effectiveness the closure needs a justification,
    which the signature carries."""
    recall = get_recall(session, recall_id)
    result = effectiveness(session, recall)
    why = (justification or "").strip()
    if not result.met and not why:
        raise Conflict(
            f"{recall.number} is at {result.acknowledged_pct}% acknowledged and "
            f"{result.returned_pct}% returned, below its target of {recall.target_pct}%: "
            "closing it needs a justification",
            field="justification",
        )
    summary = f"{result.acknowledged_pct}% acknowledged, {result.returned_pct}% returned"
    perform(
        session,
        RECALL_WORKFLOW,
        recall,
        "close",
        actor=actor,
        password=password,
        comment=f"{summary}; {why}" if why else summary,
    )
    if why:  # after the signature: a refused one must leave the record as it was
        with audit.changes(session, actor=actor, reason=f"{recall.number}: closure justified"):
            recall.closure_justification = why
    return recall


def cancel_recall(session: Session, *, actor: Actor, recall_id: int, reason: str) -> Recall:
    """Cancel a recall opened in error. Lots already recalled stay recalled: a recalled lot
    leaves the market for good (only its rejection may follow)."""
    recall = get_recall(session, recall_id)
    perform(session, RECALL_WORKFLOW, recall, "cancel", actor=actor, reason=reason)
    return recall


def recalls_of_lots(
    session: Session, lot_ids: list[int], start: datetime, end: datetime
) -> list[tuple[Recall, list[int], int]]:
    """The real recalls (mock exercises left out) opened in [start, end) whose scope holds any
    of these lots: each with those lots' ids and the units returned to date."""
    wanted = set(lot_ids)
    if not wanted:
        return []
    found = []
    for recall in session.scalars(
        select(Recall)
        .where(Recall.mock.is_(False), Recall.created_at >= start, Recall.created_at < end)
        .order_by(Recall.created_at, Recall.id)
    ):
        ours = sorted(lot.id for lot in _our_lots(session, recall) if lot.id in wanted)
        if ours:
            returned = sum(
                session.scalars(
                    select(RecallNotification.quantity_returned).where(
                        RecallNotification.recall_id == recall.id
                    )
                )
            )
            found.append((recall, ours, int(returned)))
    return found
