"""Adverse-event reports → our lots. A report's drug names a batch number as the reporter
wrote it; it is linked to one of our finished lots when the lot number matches and the lot's
product is the drug the report names (by marketing authorisation number, or by the first word
of the product's name — the brand or the active substance — appearing in the reported name).
The lot number must match as well, so this is narrow enough; when no lot (or more than one)
fits, the link is kept with no lot: the batch may be registered later, or a person decides.

Conventions (reporters write batch numbers by hand): case, spaces and a leading "Lot"/"Batch"
label ("Lot: v24-007") are ignored when comparing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.models import Lot, LotKind, Product
from pharmaqms.platform.traceability.models import AdverseEventLot, AdverseEventReport

_LABEL = re.compile(r"^(?:LOT|BATCH|CH\.?-?B\.?)\s*(?:NO\.?|NR\.?|NUMBER)?\s*[:#.]?\s*")


def lot_key(reported: str) -> str:
    """The comparable form of a batch number: upper case, no label, no spaces."""
    text = reported.strip().upper()
    stripped = _LABEL.sub("", text)
    return re.sub(r"\s+", "", stripped or text)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+", text.upper())


def _compact(text: str) -> str:
    return "".join(_words(text))


def product_matches(product: Product, medicinal_product: str, authorisation: str | None) -> bool:
    ma = product.marketing_authorisation
    if authorisation and ma and _compact(authorisation) == _compact(ma):
        return True
    name = _words(product.name)
    reported = set(_words(medicinal_product))
    return bool(name) and (name[0] in reported or product.code.upper() in reported)


def match_lot(
    session: Session, batch_number: str, medicinal_product: str, authorisation: str | None
) -> Lot | None:
    key = lot_key(batch_number)
    if not key:
        return None
    candidates = session.execute(
        select(Lot, Product)
        .join(Product, Product.id == Lot.product_id)
        .where(Lot.kind == LotKind.FINISHED, func.upper(Lot.lot_number) == key)
    ).all()
    fitting = [
        lot
        for lot, product in candidates
        if product_matches(product, medicinal_product, authorisation)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _authorisation(report: AdverseEventReport, link: AdverseEventLot) -> str | None:
    for drug in report.drugs:
        if lot_key(str(drug.get("batch_number") or "")) == lot_key(link.lot_number):
            value = drug.get("authorisation_number")
            return str(value) if value else None
    return None


def _relink(session: Session, links: Iterable[AdverseEventLot]) -> list[dict[str, Any]]:
    made = []
    for link in links:
        report = session.get(AdverseEventReport, link.report_id)
        assert report is not None
        authorisation = _authorisation(report, link)
        lot = match_lot(session, link.lot_number, link.medicinal_product, authorisation)
        if lot is not None:
            link.lot_id = lot.id
            made.append(
                {"report": report.safety_report_id, "lot": lot.audit_label(), "link": link.id}
            )
    return made


def link_reports_to_lot(session: Session, lot: Lot) -> int:
    """A batch was just registered: the open links that cite its number, linked now. Called by
    the service that registers it, inside its transaction and audit context."""
    open_links = [
        link
        for link in session.scalars(select(AdverseEventLot).where(AdverseEventLot.lot_id.is_(None)))
        if lot_key(link.lot_number) == lot.lot_number.upper()
    ]
    return len(_relink(session, open_links))


def relink_adverse_event_lots(session: Session, *, actor: Actor) -> int:
    """Try again every report's batch number that is linked to no lot yet (after master data
    was corrected, or lots were registered by hand). Returns how many links were made; the
    links made are recorded in the audit trail."""
    actor.require("data.ingest", "link adverse-event reports to lots")
    with audit.changes(session, actor=actor, reason="batch numbers matched to lots again"):
        made = _relink(
            session,
            session.scalars(select(AdverseEventLot).where(AdverseEventLot.lot_id.is_(None))),
        )
    if made:
        audit.record_event(
            session,
            actor=actor,
            action="adverse_event_lots_linked",
            record_type="adverse_event_lot",
            record_label=f"{len(made)} adverse-event lot link(s)",
            details={"links": made},
        )
    return len(made)
