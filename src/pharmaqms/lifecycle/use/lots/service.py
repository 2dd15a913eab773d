"""Batch-level signals: the cases citing each lot of a product, the lot-level rate test
(``rates.py``), the lot's life gathered from every module through the platform's fact providers,
and the one action that takes the evidence to a CAPA.

Use never imports production or distribution: their facts arrive through
``platform.genealogy.facts``, and the CAPA is opened through ``quality.events``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use.cases.models import CaseStatus, DrugRole, PVCase, PVCaseProduct
from pharmaqms.lifecycle.use.lots.rates import LotRate, lot_rates
from pharmaqms.platform.genealogy.facts import FACT_SECTIONS, lot_facts, units_distributed
from pharmaqms.platform.genealogy.providers import LinkedRecord
from pharmaqms.platform.masterdata.models import Lot, LotKind, Product
from pharmaqms.quality import events
from pharmaqms.quality.capa.models import Capa
from pharmaqms.quality.links import RecordLinks

# Cases that are not cases (invalid) or are another case again (duplicate) are not counted.
_NOT_COUNTED = (CaseStatus.INVALID.value, CaseStatus.DUPLICATE.value)
# A lot a case names only as a concomitant drug is not the lot under suspicion.
_CITING_ROLES = (DrugRole.SUSPECT.value, DrugRole.INTERACTING.value)


@dataclass(frozen=True, slots=True)
class LotSignal:
    lot: Lot
    rate: LotRate
    unit: str | None


@dataclass(frozen=True, slots=True)
class LotSafety:
    lot: Lot
    product: Product | None
    cases: list[PVCase]
    signal: LotSignal | None  # None: the lot is not a finished batch of a product
    sections: list[tuple[str, str, list[LinkedRecord]]]  # (kind, heading, facts)
    links: RecordLinks


def _citing(lot_ids: list[int]):  # type: ignore[no-untyped-def]
    return (
        select(PVCaseProduct.lot_id, PVCase.id)
        .join(PVCase, PVCase.id == PVCaseProduct.case_id)
        .where(
            PVCaseProduct.lot_id.in_(lot_ids),
            PVCaseProduct.current.is_(True),
            PVCaseProduct.role.in_(_CITING_ROLES),
            PVCase.status.not_in(_NOT_COUNTED),
        )
        .distinct()
    )


def get_product(session: Session, code: str) -> Product:
    product = session.scalar(select(Product).where(Product.code == code.strip().upper()))
    if product is None:
        raise NotFound(f"no product with code {code!r}")
    return product


def lot_signals(session: Session, product: Product) -> list[LotSignal]:
    """Every finished lot of the product, with its cases, units and the rate test."""
    lots = {
        lot.id: lot
        for lot in session.scalars(
            select(Lot)
            .where(Lot.product_id == product.id, Lot.kind == LotKind.FINISHED.value)
            .order_by(Lot.lot_number)
        )
    }
    cases = dict.fromkeys(lots, 0)
    for lot_id, _case_id in session.execute(_citing(list(lots))):
        cases[lot_id] += 1
    distributed = units_distributed(session, list(lots))
    units = {lot: d.quantity for lot, d in distributed.items()}
    return [
        LotSignal(
            lots[rate.lot_id],
            rate,
            distributed[rate.lot_id].unit if rate.lot_id in distributed else None,
        )
        for rate in lot_rates(cases, units)
    ]


def get_lot(session: Session, lot_id: int) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot with id {lot_id}")
    return lot


def cases_citing(session: Session, lot_id: int) -> list[PVCase]:
    ids = [case_id for _lot, case_id in session.execute(_citing([lot_id]))]
    if not ids:
        return []
    return list(session.scalars(select(PVCase).where(PVCase.id.in_(ids)).order_by(PVCase.id)))


def lot_safety(session: Session, lot_id: int) -> LotSafety:
    lot = get_lot(session, lot_id)
    product = session.get(Product, lot.product_id) if lot.product_id else None
    signal = None
    if product is not None and lot.kind == LotKind.FINISHED.value:
        signal = next(s for s in lot_signals(session, product) if s.lot.id == lot.id)
    facts = lot_facts(session, lot.id)
    sections = [
        (kind, heading, [f for f in facts if f.kind == kind])
        for kind, heading in FACT_SECTIONS.items()
    ]
    return LotSafety(
        lot,
        product,
        cases_citing(session, lot.id),
        signal,
        sections,
        events.links_of(session, "lot", lot.id),
    )


def evidence(safety: LotSafety) -> str:
    """The evidence a CAPA opened from the lot page carries, as text a reviewer reads."""
    lot = safety.lot
    lines = [f"Lot {lot.item_code}/{lot.lot_number} (status {lot.status})."]
    if safety.signal is not None:
        lines.append(f"Lot-level reporting: {safety.signal.rate.reason}.")
    lines.append(
        "Cases citing the lot: "
        + (", ".join(c.number for c in safety.cases) if safety.cases else "none")
        + "."
    )
    for _kind, heading, facts in safety.sections:
        if facts:
            lines.append(
                f"{heading}: "
                + "; ".join(f"{f.label} ({f.detail})" if f.detail else f.label for f in facts)
                + "."
            )
    return "\n".join(lines)


# Called when a CAPA is opened from a lot, in the same transaction: the signals module links
# its open signals on the lot (it imports this module, so this one can't import it back).
CapaListener = Callable[[Session, Actor, Lot, Capa], None]
_CAPA_LISTENERS: list[CapaListener] = []


def on_capa_for_lot(listener: CapaListener) -> None:
    if listener not in _CAPA_LISTENERS:
        _CAPA_LISTENERS.append(listener)


def open_capa_for_lot(
    session: Session,
    *,
    actor: Actor,
    lot_id: int,
    title: str,
    owner_id: int,
    due_at: datetime,
) -> Capa:
    """Open a CAPA from the lot page: raised from the lot with its evidence as the problem
    statement, and linked from each case citing the lot and each open signal on the lot, so
    the lot, the cases, the signals and the CAPA each show the others."""
    title = title.strip()
    if not title:
        raise InvalidInput("give the CAPA a title", field="title")
    safety = lot_safety(session, lot_id)
    lot = safety.lot
    capa = events.open_capa(
        session,
        actor=actor,
        source_type="lot",
        source_id=lot.id,
        source_label=f"lot {lot.item_code}/{lot.lot_number}",
        title=title,
        problem_statement=evidence(safety),
        owner_id=owner_id,
        due_at=due_at,
        reason="raised from the lot safety review",
    )
    for case in safety.cases:
        events.link_records(
            session,
            actor=actor,
            source_type="pv_case",
            source_id=case.id,
            source_label=None,
            target_type="capa",
            target_id=capa.id,
            reason=f"the case cites lot {lot.lot_number}, evidence of {capa.number}",
        )
    for listener in _CAPA_LISTENERS:
        listener(session, actor, lot, capa)
    return capa
