"""A serialised pack as the platform knows it: its commissioning (GTIN, serial, lot, expiry),
its lot's quality status, and its state from the EPCIS events (disposition, decommissioned,
the containers it is in). What distribution needs to verify a pack, without reaching into
production: the lot's status is the platform's master data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform import trace
from pharmaqms.platform.genealogy.containment import containers_step
from pharmaqms.platform.genealogy.expand import grow
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.traceability.models import SerialisedPack


@dataclass(frozen=True, slots=True)
class PackState:
    epc: str
    gtin: str
    serial: str
    lot_number: str | None
    expires_on: date | None
    commissioned_at: datetime
    lot_status: str | None
    """Our lot's status (released, recalled…) when the pack's lot is one of ours."""
    disposition: str | None
    """The last disposition an event gave the pack or a container it was in."""
    biz_step: str | None
    decommissioned: bool
    containers: tuple[str, ...]


def pack_state(
    session: Session, gtin: str, serial: str, at: datetime | None = None
) -> PackState | None:
    """The pack with this GTIN (14 digits) and serial, or ``None`` if it was never
    commissioned through EPCIS."""
    pack = session.scalars(
        select(SerialisedPack).where(SerialisedPack.gtin == gtin, SerialisedPack.serial == serial)
    ).one_or_none()
    if pack is None:
        return None
    cache, _ = grow(session, [pack.epc], containers_step, at)
    snapshot = trace.replay(cache.ordered(), at)
    state = snapshot.state(pack.epc)
    lot = session.get(Lot, pack.lot_id) if pack.lot_id is not None else None
    return PackState(
        epc=pack.epc,
        gtin=pack.gtin,
        serial=pack.serial,
        lot_number=pack.lot_number,
        expires_on=pack.expires_on,
        commissioned_at=pack.commissioned_at,
        lot_status=lot.status if lot is not None else None,
        disposition=state.disposition if state else None,
        biz_step=state.biz_step if state else None,
        decommissioned=bool(state and state.decommissioned),
        containers=snapshot.ancestors(pack.epc),
    )
