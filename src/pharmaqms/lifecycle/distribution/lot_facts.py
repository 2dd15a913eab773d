"""Distribution's facts about a lot, for its lifecycle page (``platform.genealogy.facts``): the
cold-chain excursions it was in and what remains of its stability budget after them.
Registered at import; the PV lot page reaches them without importing distribution."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.distribution.budget import lot_budget
from pharmaqms.lifecycle.distribution.models import Excursion, ExcursionLot
from pharmaqms.platform.genealogy.facts import register_fact_provider
from pharmaqms.platform.genealogy.providers import LinkedRecord


def excursions_of(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    rows = session.execute(
        select(ExcursionLot.lot_id, Excursion)
        .join(Excursion, Excursion.id == ExcursionLot.excursion_id)
        .where(ExcursionLot.lot_id.in_(lot_ids))
        .order_by(Excursion.started_at, Excursion.id)
    )
    return [
        LinkedRecord(
            lot_id=lot_id,
            kind="excursion",
            key=f"excursion:{excursion.id}",
            label=excursion.number,
            relation="exposed",
            time=excursion.started_at,
            url=f"/api/v1/distribution/excursions/{excursion.id}",
            detail=f"{excursion.place_code} · {excursion.min_c:g}–{excursion.max_c:g} °C for "
            f"{excursion.duration_min:g} min · {excursion.status}",
        )
        for lot_id, excursion in rows
    ]


def budget_of(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    found = []
    for lot_id in lot_ids:
        budget = lot_budget(session, lot_id)
        if not budget.excursions:
            continue  # nothing consumed: the full budget remains, no fact to weigh
        if budget.assessment is None:
            detail = "no stability budget entered for the product: remaining time unknown"
        else:
            detail = "; ".join(
                f"{usage.band.name}: {usage.remaining_h:.2f} h of {usage.allowed_h:g} h left"
                for usage in budget.assessment.bands
            ) + (" · EXCEEDED" if budget.exceeded else "")
        found.append(
            LinkedRecord(
                lot_id=lot_id,
                kind="stability_budget",
                key=f"stability_budget:{lot_id}",
                label=f"after {len(budget.excursions)} excursion(s)",
                relation="budget",
                url=f"/api/v1/distribution/lots/{lot_id}/budget",
                detail=detail,
            )
        )
    return found


register_fact_provider("distribution.excursions", excursions_of)
register_fact_provider("distribution.stability_budget", budget_of)
