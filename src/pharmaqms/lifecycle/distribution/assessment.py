"""QA's excursion assessment: one signed decision per excursion (usable / quarantine / reject)
with the stability budget of every affected lot as it stood, and what follows from it:

- usable: the excursion's holds end; a lot the excursion itself put on hold goes back to the
  status it had, unless another record still holds it. Refused while a lot's budget is
  exceeded: an exhausted budget is never "usable" without a deviation.
- quarantine: the lots stay on hold; a deviation investigates.
- reject: the lots are rejected; a deviation records why.

A deviation is raised through the quality events API whenever a lot's budget is exceeded or
the disposition is not "usable", linked back to the excursion."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.distribution.budget import LotBudget, lot_budget
from pharmaqms.lifecycle.distribution.excursions import excursion_lots, get_excursion
from pharmaqms.lifecycle.distribution.models import (
    Disposition,
    Excursion,
    ExcursionAssessment,
    ExcursionLot,
    ExcursionStatus,
)
from pharmaqms.lifecycle.distribution.workflow import ASSESSMENT_WORKFLOW
from pharmaqms.platform.masterdata.holds import open_holds, placing_hold, release_holder
from pharmaqms.platform.masterdata.models import Lot, LotStatus, Product
from pharmaqms.platform.masterdata.service import set_lot_status
from pharmaqms.quality import events


def assess_excursion(
    session: Session,
    *,
    actor: Actor,
    excursion_id: int,
    disposition: str,
    rationale: str,
    password: str,
) -> ExcursionAssessment:
    actor.require("coldchain.assess", "assess excursions")
    excursion = get_excursion(session, excursion_id)
    if excursion.status == ExcursionStatus.ASSESSED:
        raise Conflict(f"{excursion.number} is assessed already")
    if excursion.status == ExcursionStatus.ONGOING:
        raise Conflict(f"{excursion.number} is still going on: assess it once it has ended")
    try:
        decided = Disposition(disposition)
    except ValueError:
        raise InvalidInput(
            f"unknown disposition {disposition!r}; one of usable, quarantine, reject",
            field="disposition",
        ) from None
    if not rationale.strip():
        raise InvalidInput("give the rationale of the assessment", field="rationale")
    links = excursion_lots(session, excursion.id)
    budgets = [lot_budget(session, link.lot_id) for link in links]
    exceeded = [b.lot_number for b in budgets if b.exceeded]
    if decided == Disposition.USABLE and exceeded:
        raise Conflict(
            f"the stability budget of {', '.join(exceeded)} is exceeded: "
            "the excursion can't be assessed usable",
            field="disposition",
        )
    record = ExcursionAssessment(
        status="draft",
        excursion_id=excursion.id,
        disposition=decided.value,
        rationale=rationale.strip(),
        budget=json.dumps([b.as_dict() for b in budgets], sort_keys=True, ensure_ascii=False),
        budget_exceeded=bool(exceeded),
    )
    with audit.changes(session, actor=actor, reason=f"assessment of {excursion.number}"):
        session.add(record)
    perform(
        session,
        ASSESSMENT_WORKFLOW,
        record,
        "sign",
        actor=actor,
        password=password,
        comment=f"{excursion.number}: {decided.value}",
    )
    with audit.changes(session, actor=actor, reason=f"{record.number}: {decided.value}"):
        excursion.status = ExcursionStatus.ASSESSED.value
        excursion.disposition = decided.value
    if exceeded or decided != Disposition.USABLE:
        _raise_deviation(session, actor, excursion, record, links, budgets)
    for link in links:
        _dispose(session, actor, excursion, record, link, decided)
    return record


def _dispose(
    session: Session,
    actor: Actor,
    excursion: Excursion,
    record: ExcursionAssessment,
    link: ExcursionLot,
    decided: Disposition,
) -> None:
    lot = session.get(Lot, link.lot_id)
    assert lot is not None
    why = f"{record.number}: excursion {excursion.number} assessed {decided.value}"
    if decided == Disposition.REJECT:
        if lot.status in (LotStatus.ON_HOLD, LotStatus.QUARANTINE):
            set_lot_status(session, lot, LotStatus.REJECTED, actor=actor, reason=why)
        return
    if decided == Disposition.QUARANTINE or not link.held:
        return
    placing = placing_hold(session, lot.id)
    others = [h for h in open_holds(session, lot.id) if h.holder != excursion.number]
    if placing is not None and placing.holder == excursion.number and not others:
        set_lot_status(session, lot, placing.previous_status, actor=actor, reason=why)
    else:
        release_holder(session, lot, actor=actor, holder=excursion.number, reason=why)


def _raise_deviation(
    session: Session,
    actor: Actor,
    excursion: Excursion,
    record: ExcursionAssessment,
    links: list[ExcursionLot],
    budgets: list[LotBudget],
) -> None:
    lots = [session.get(Lot, link.lot_id) for link in links]
    products = sorted(
        {
            product.name
            for lot in lots
            if lot is not None and lot.product_id is not None
            for product in [session.get(Product, lot.product_id)]
            if product is not None
        }
    )
    exceeded = [b.lot_number for b in budgets if b.exceeded]
    why = (
        f"stability budget exceeded for {', '.join(exceeded)}"
        if exceeded
        else f"assessed {record.disposition}"
    )
    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type=excursion.__audit_type__,
        source_id=excursion.id,
        source_label=excursion.number,
        title=f"Cold-chain excursion {excursion.number} at {excursion.place_code}: {why}"[:200],
        description=(
            f"{excursion.place_code}: outside {excursion.low_c}–{excursion.high_c} °C from "
            f"{excursion.started_at:%Y-%m-%d %H:%M} UTC for {excursion.duration_min:g} min "
            f"(min {excursion.min_c:g} °C, max {excursion.max_c:g} °C, "
            f"{excursion.degree_minutes:g} °C·min, MKT {excursion.mkt_c} °C). "
            f"{record.number}: {record.disposition} — {record.rationale}"
        ),
        area="Distribution",
        occurred_at=excursion.started_at,
        discovered_at=max(excursion.created_at, excursion.started_at),
        product=", ".join(products)[:200],
        batch_ids=[lot.lot_number for lot in lots if lot is not None],
    )
    with audit.changes(session, actor=actor, reason=f"deviation {deviation.number} raised"):
        record.deviation_id = deviation.id
