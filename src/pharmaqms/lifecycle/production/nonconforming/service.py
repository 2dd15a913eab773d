"""Nonconforming product services: open the record (holding the lot), draft and carry out the
disposition. Opened automatically by a confirmed OOS (``qc.investigations``) and by a critical
deviation (``open_for_critical_deviation``), or by a person who finds nonconforming product."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production import holds
from pharmaqms.lifecycle.production.nonconforming.models import (
    OPEN_NONCONFORMANCE_STATUSES,
    Disposition,
    NonconformanceStatus,
    NonconformingProduct,
)
from pharmaqms.platform.masterdata.models import Lot, LotKind, LotStatus
from pharmaqms.platform.masterdata.service import find_lot, set_lot_status


def get_nonconformance(session: Session, nc_id: int) -> NonconformingProduct:
    nc = session.get(NonconformingProduct, nc_id)
    if nc is None:
        raise NotFound(f"no nonconforming product record with id {nc_id}")
    return nc


def _lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise InvalidInput(f"no lot with id {lot_id}", field="lot_id")
    return lot


def open_nonconformance(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    source_type: str,
    source_id: int | None,
    source_label: str,
    description: str,
) -> NonconformingProduct:
    """Open the record and hold the lot. One open record per lot and source."""
    lot = _lot(session, lot_id)
    text = (description or "").strip()
    if not text:
        raise InvalidInput("describe the nonconformance", field="description")
    label = (source_label or "").strip()
    if not label or len(label) > 200:
        raise InvalidInput(
            "name where it comes from (at most 200 characters)", field="source_label"
        )
    existing = session.scalars(
        select(NonconformingProduct).where(
            NonconformingProduct.lot_id == lot.id,
            NonconformingProduct.source_type == source_type,
            NonconformingProduct.source_label == label,
            NonconformingProduct.status.in_([s.value for s in OPEN_NONCONFORMANCE_STATUSES]),
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{existing.number} is already open for {lot.audit_label()} from {label}")
    nc = NonconformingProduct(
        status=NonconformanceStatus.OPEN.value,
        lot_id=lot.id,
        source_type=source_type,
        source_id=source_id,
        source_label=label,
        description=text[:20_000],
        lot_status_before_hold="",
    )
    with audit.changes(session, actor=actor, reason=f"nonconforming product from {label}"):
        session.add(nc)
    before = holds.hold_lot(session, lot, actor=actor, by=nc.number, why="nonconforming product")
    if before:
        with audit.changes(session, actor=actor, reason="hold placed"):
            nc.lot_status_before_hold = before
    tasks.open_task(
        session,
        nc,
        actor=actor,
        kind="disposition",
        title=f"Decide the disposition of {nc.number} ({lot.audit_label()})",
        role="qa",
        due_in=timedelta(days=10),
    )
    return nc


def report_nonconformance(
    session: Session, *, actor: Actor, lot_id: int, found_in: str, description: str
) -> NonconformingProduct:
    """A person reports nonconforming product (found at inspection, on the line, in stock)."""
    actor.require("nonconformance.report", "report nonconforming product")
    return open_nonconformance(
        session,
        actor=actor,
        lot_id=lot_id,
        source_type="report",
        source_id=None,
        source_label=found_in,
        description=description,
    )


def draft_disposition(
    session: Session,
    *,
    actor: Actor,
    nc_id: int,
    disposition: str,
    rationale: str,
    concession_terms: str = "",
    expected_version: int | None = None,
) -> NonconformingProduct:
    actor.require("nonconformance.disposition", "propose dispositions")
    nc = get_nonconformance(session, nc_id)
    if expected_version is not None and nc.version != expected_version:
        raise StaleRecord(
            f"{nc.number} is at version {nc.version}, not {expected_version}: reload it",
            extra={"current_version": nc.version},
        )
    if nc.status != NonconformanceStatus.OPEN:
        raise Conflict(
            f"{nc.number} is {nc.status.replace('_', ' ')}: the disposition is drafted while "
            "it is open (return it for revision first)"
        )
    if disposition not in {d.value for d in Disposition}:
        raise InvalidInput(
            "the disposition is one of: " + ", ".join(d.value for d in Disposition),
            field="disposition",
        )
    with audit.changes(session, actor=actor, reason="disposition drafted"):
        nc.disposition = disposition
        nc.disposition_rationale = (rationale or "").strip()
        nc.concession_terms = (concession_terms or "").strip()
    return nc


def record_execution(
    session: Session, *, actor: Actor, nc_id: int, execution_record: str
) -> NonconformingProduct:
    """How the approved disposition was carried out, before QA closes the record."""
    actor.require("nonconformance.disposition", "record the execution of dispositions")
    nc = get_nonconformance(session, nc_id)
    if nc.status != NonconformanceStatus.APPROVED:
        raise Conflict(
            f"{nc.number} is {nc.status.replace('_', ' ')}: the execution is recorded once the "
            "disposition is approved"
        )
    text = (execution_record or "").strip()
    if not text:
        raise InvalidInput("describe what was done", field="execution_record")
    with audit.changes(session, actor=actor, reason="disposition carried out"):
        nc.execution_record = text
    return nc


# --- workflow effects -----------------------------------------------------------------------


def note_proposer(session: Session, nc: NonconformingProduct, *, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="disposition proposed"):
        nc.proposed_by_id = actor.user_id


def _others_holding(session: Session, nc: NonconformingProduct) -> list[str]:
    return [n for n in holds.open_holders(session, nc.lot_id) if n != nc.number]


def apply_disposition(session: Session, nc: NonconformingProduct, *, actor: Actor) -> None:
    """The approved disposition takes effect on the lot. Reject and destroy reject it at once;
    rework and reprocess keep it held until the work is done; a concession (QP-certified)
    releases a material lot and returns a batch to where it was before the hold, so that
    batch certification proceeds with the concession on record."""
    lot = _lot(session, nc.lot_id)
    why = f"{nc.number}: disposition {nc.disposition.replace('_', ' ') if nc.disposition else ''}"
    if nc.disposition in (Disposition.REJECT, Disposition.DESTROY):
        set_lot_status(session, lot, LotStatus.REJECTED, actor=actor, reason=why)
        return
    if nc.disposition != Disposition.RELEASE_UNDER_CONCESSION:
        return
    others = _others_holding(session, nc)
    if others:
        raise Conflict(
            f"{lot.audit_label()} is still held by {', '.join(others)}: close those first",
            reasons=[f"open: {n}" for n in others],
        )
    if lot.kind == LotKind.MATERIAL:
        target = LotStatus.RELEASED.value
    else:
        placed = holds.placed_hold(session, lot.id)
        target = placed[1] if placed and placed[1] else LotStatus.QUARANTINE.value
    if lot.status != target:
        set_lot_status(session, lot, target, actor=actor, reason=f"{why}, certified by QP")


def on_closed(session: Session, nc: NonconformingProduct, *, actor: Actor) -> None:
    lot = _lot(session, nc.lot_id)
    with audit.changes(session, actor=actor, reason=f"{nc.number} closed"):
        nc.closed_at = clock.now()
    # Reworked product is new product to QC: back to quarantine for testing, never straight
    # back to released.
    reworked = nc.disposition in (Disposition.REWORK, Disposition.REPROCESS)
    if reworked and lot.status == LotStatus.ON_HOLD and not holds.open_holders(session, lot.id):
        set_lot_status(
            session,
            lot,
            LotStatus.QUARANTINE,
            actor=actor,
            reason=f"{nc.number}: {nc.disposition} done, to be tested again",
        )


def on_cancelled(session: Session, nc: NonconformingProduct, *, actor: Actor) -> None:
    lot = _lot(session, nc.lot_id)
    holds.lift_hold_if_free(session, lot, actor=actor, by=nc.number)


# --- critical deviations --------------------------------------------------------------------


@dataclass(frozen=True)
class DeviationFacts:
    """What this module needs to know of a deviation (read through ``quality_adapter``)."""

    id: int
    number: str
    title: str
    classification: str | None
    batch_ids: tuple[str, ...]


@dataclass
class DeviationOutcome:
    opened: list[NonconformingProduct] = field(default_factory=list)
    already_open: list[str] = field(default_factory=list)
    unknown_batches: list[str] = field(default_factory=list)


def open_for_critical_deviation(
    session: Session, *, actor: Actor, deviation: DeviationFacts
) -> DeviationOutcome:
    """A critical deviation makes every batch it names nonconforming product: one record per
    lot, holding it. Safe to call again: a lot with an open record from this deviation is
    reported as already open. A batch id no lot answers to is reported, never skipped
    silently."""
    if deviation.classification != "critical":
        raise InvalidInput(
            f"{deviation.number} is {deviation.classification or 'not classified'}: only a "
            "critical deviation opens nonconforming product records by itself",
            field="classification",
        )
    outcome = DeviationOutcome()
    for batch_id in _unique(deviation.batch_ids):
        try:
            lot = find_lot(session, batch_id)
        except (NotFound, InvalidInput):
            outcome.unknown_batches.append(batch_id)
            continue
        existing = session.scalars(
            select(NonconformingProduct.number).where(
                NonconformingProduct.lot_id == lot.id,
                NonconformingProduct.source_type == "deviation",
                NonconformingProduct.source_id == deviation.id,
                NonconformingProduct.status.in_([s.value for s in OPEN_NONCONFORMANCE_STATUSES]),
            )
        ).first()
        if existing is not None:
            outcome.already_open.append(existing)
            continue
        outcome.opened.append(
            open_nonconformance(
                session,
                actor=actor,
                lot_id=lot.id,
                source_type="deviation",
                source_id=deviation.id,
                source_label=deviation.number,
                description=f"Critical deviation {deviation.number}: {deviation.title}",
            )
        )
    return outcome


def _unique(values: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value.strip() and value.strip() not in seen:
            seen.append(value.strip())
    return seen


def list_nonconformances(
    session: Session, *, status: str | None = None, lot_id: int | None = None
) -> list[NonconformingProduct]:
    query = select(NonconformingProduct).order_by(NonconformingProduct.id.desc())
    if status:
        query = query.where(NonconformingProduct.status == status)
    if lot_id is not None:
        query = query.where(NonconformingProduct.lot_id == lot_id)
    return list(session.scalars(query))
