"""Demo nonconforming product: the batch whose OOS was confirmed is rejected and destroyed
(QA's signatures), and a packaging defect found at inspection waits for QA's decision on a
release under concession."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.nonconforming import service
from pharmaqms.lifecycle.production.nonconforming.models import NonconformingProduct
from pharmaqms.lifecycle.production.nonconforming.workflow import NONCONFORMANCE_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot, LotStatus


def load(session: Session, ctx: DemoContext) -> None:
    supervisor, qa, qa2 = (
        ctx.people["sofia.supervisor"],
        ctx.people["quinn.qa"],
        ctx.people["rosa.qa"],
    )
    from_oos = session.scalars(
        select(NonconformingProduct).where(
            NonconformingProduct.source_type == "oos_investigation",
            NonconformingProduct.status == "open",
        )
    ).first()
    if from_oos is not None:
        with clock.frozen_at(from_oos.created_at + timedelta(days=3)):
            service.draft_disposition(
                session,
                actor=supervisor,
                nc_id=from_oos.id,
                disposition="reject",
                rationale="Assay confirmed below specification; under-blended batch cannot be "
                "reworked under the marketing authorisation.",
            )
            perform(session, NONCONFORMANCE_WORKFLOW, from_oos, "propose", actor=supervisor)
            perform(
                session,
                NONCONFORMANCE_WORKFLOW,
                from_oos,
                "approve",
                actor=qa,
                password=ctx.password,
            )
        with clock.frozen_at(from_oos.created_at + timedelta(days=10)):
            service.record_execution(
                session,
                actor=supervisor,
                nc_id=from_oos.id,
                execution_record="Destroyed by incineration at Afvalzorg, certificate AZ-26-1187.",
            )
            perform(
                session,
                NONCONFORMANCE_WORKFLOW,
                from_oos,
                "close",
                actor=qa2,
                password=ctx.password,
            )
    # A recent batch still in quarantine gets a packaging finding.
    candidate = session.scalars(
        select(Lot)
        .where(
            Lot.kind == "finished",
            Lot.status == LotStatus.QUARANTINE,
            Lot.lot_number.like("PQ%"),
        )
        .order_by(Lot.id.desc())
    ).first()
    if candidate is None:
        return
    nc = service.report_nonconformance(
        session,
        actor=supervisor,
        lot_id=candidate.id,
        found_in="AQL inspection of packed batch",
        description="Embossed expiry date faint on 0.4 % of blisters (AQL sample 315, 1 defect).",
    )
    service.draft_disposition(
        session,
        actor=supervisor,
        nc_id=nc.id,
        disposition="release_under_concession",
        rationale="Faint but legible under the 100 % camera check; no patient impact.",
        concession_terms="Release after 100 % camera inspection of the blisters; EU only.",
    )
    perform(session, NONCONFORMANCE_WORKFLOW, nc, "propose", actor=supervisor)


register("production: nonconforming product", load)
