"""Demo signals, as the demo's PV officer: one detection run over the demo's case base (the
openFDA/FAERS reports the platform demo delivers become cases), a signal for each lot the
lot-rate test flags, and — when neither raises one — a signal raised by hand on the cluster of
injection-site reactions the platform demo plants; the first signal is validated with her
signature.

Why by hand: a company's own case base names few products, and an event reported with one
product only has c = 0, where PRR and ROR are undefined; the demo ships no quantities per lot,
so the lot-rate test has no rate either. A PV officer reading the cases sees the cluster."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.errors import Conflict
from pharmaqms.lifecycle.use.lots import service as lot_service
from pharmaqms.lifecycle.use.signals import casebase, detection, service
from pharmaqms.lifecycle.use.signals.models import PVSignal
from pharmaqms.platform.masterdata.models import Product

PV_OFFICER = "vera.pv"
CLUSTER = "injection site reaction"


def _cluster(session: Session) -> tuple[str, str] | None:
    base = casebase.load(session)
    rows = base.rows
    if rows.height == 0:
        return None
    found = (
        rows.filter(pl.col("event") == CLUSTER)
        .group_by("drug")
        .len()
        .sort("len", "drug", descending=[True, False])
    )
    return (found["drug"][0], base.terms.get(CLUSTER, (CLUSTER, ""))[0]) if found.height else None


def load(session: Session, context: DemoContext) -> None:
    officer = context.people.get(PV_OFFICER)
    if officer is None:
        return
    opened: list[PVSignal] = list(detection.run_detection(session, actor=officer).opened)
    for product in session.scalars(select(Product).order_by(Product.code)):
        for lot in lot_service.lot_signals(session, product):
            if lot.rate.flagged:
                try:
                    opened.append(service.raise_from_lot(session, actor=officer, lot_id=lot.lot.id))
                except Conflict:
                    continue
    cluster = _cluster(session) if not opened else None
    if cluster is not None:
        opened.append(
            service.register_manual(
                session,
                actor=officer,
                product=cluster[0],
                event_term=cluster[1],
                basis="Case review: injection-site reactions reported together for the vaccine "
                "over two quarters; no other product in the case base reports them, so the "
                "scan's PRR and ROR are undefined (c = 0).",
            )
        )
    session.flush()
    if opened:
        service.validate_signal(
            session,
            actor=officer,
            signal_id=opened[0].id,
            password=context.password,
            comment="Cases reviewed: worth assessing.",
        )


register("pharmacovigilance: signals", load)
