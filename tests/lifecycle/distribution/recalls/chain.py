"""A generated supply chain loaded into the test's own database (both backends), its lots
released, and the known answer of where each lot went, counted from the generated events."""

from __future__ import annotations

from datetime import UTC, datetime

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.epcis import EPCISEvent
from pharmaqms.platform.genealogy.demo import load_chain
from pharmaqms.platform.genealogy.generator import CHAIN_LOCATIONS, Chain, LotTruth
from pharmaqms.platform.masterdata.service import find_lot, set_lot_status
from pharmaqms.platform.trace import canonical

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PACKS_PER_CASE = 10  # the generator's default


def load(database: Database, people: object, lots: int = 3) -> Chain:
    admin, logistics = people.admin, people.logistics  # type: ignore[attr-defined]
    with clock.frozen_at(NOW), unit_of_work(database) as s:
        chain = load_chain(s, admin=admin, logistics=logistics, lots=lots, seed=11)
        for answer in chain.truth.values():
            lot = find_lot(s, answer.lot_number, answer.product)
            set_lot_status(s, lot, "released", actor=people.qa, reason="released for the test")  # type: ignore[attr-defined]
    return chain


def expected_places(chain: Chain, answer: LotTruth) -> dict[str, int]:
    """Place code → affected packs shipped there, from the generated events alone: a pallet
    carries every pack of the lot, a case ``PACKS_PER_CASE`` of them."""
    code_of = {canonical(loc.epc_uri): loc.code for loc in CHAIN_LOCATIONS}
    shipped: dict[str, int] = {}
    for event in chain.events:
        if not _ships(event):
            continue
        moved = {canonical(e) for e in getattr(event, "epc_list", ())}
        units = 0
        if moved & {canonical(p) for p in answer.pallets}:
            units = len(answer.packs)
        units += PACKS_PER_CASE * len(moved & {canonical(c) for c in answer.cases})
        if units:
            for d in event.destinations:
                code = code_of[canonical(d.value)]
                shipped[code] = shipped.get(code, 0) + units
    return shipped


def _ships(event: EPCISEvent) -> bool:
    return event.biz_step == "shipping"
