"""Gathers the facts the rules judge, from the case's rows (or from a version's snapshot)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.use.cases.models import (
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
    ReferenceSafetyInformation,
)
from pharmaqms.lifecycle.use.cases.rules import CaseFacts, EventFact, ProductFact, ReferenceInfo


def products_of(session: Session, case: PVCase) -> list[PVCaseProduct]:
    return list(
        session.scalars(
            select(PVCaseProduct)
            .where(PVCaseProduct.case_id == case.id, PVCaseProduct.current.is_(True))
            .order_by(PVCaseProduct.position)
        )
    )


def events_of(session: Session, case: PVCase) -> list[PVCaseEvent]:
    return list(
        session.scalars(
            select(PVCaseEvent)
            .where(PVCaseEvent.case_id == case.id, PVCaseEvent.current.is_(True))
            .order_by(PVCaseEvent.position)
        )
    )


def references(session: Session, products: set[str]) -> dict[str, ReferenceInfo]:
    if not products:
        return {}
    rows = session.scalars(
        select(ReferenceSafetyInformation).where(ReferenceSafetyInformation.product.in_(products))
    )
    return {r.product: ReferenceInfo(r.document_reference, tuple(r.expected_terms)) for r in rows}


def of_case(session: Session, case: PVCase) -> CaseFacts:
    session.flush()
    products = products_of(session, case)
    return CaseFacts(
        report_type=case.report_type,
        patient_initials=case.patient_initials,
        patient_age_years=case.patient_age_years,
        patient_sex=case.patient_sex,
        reporter_type=case.reporter_type,
        reporter_country=case.reporter_country,
        products=tuple(ProductFact(p.product, p.role, p.lot_number) for p in products),
        events=tuple(
            EventFact(e.verbatim, e.meddra_code, tuple(e.seriousness))
            for e in events_of(session, case)
        ),
        reference=references(session, {p.product for p in products}),
        causality=case.causality,
    )


def of_snapshot(snapshot: dict[str, Any]) -> CaseFacts:
    """The facts as a version recorded them (to find the first version that was valid)."""
    age = snapshot.get("patient_age_years")
    return CaseFacts(
        report_type=snapshot["report_type"],
        patient_initials=snapshot.get("patient_initials") or "",
        patient_age_years=Decimal(str(age)) if age is not None else None,
        patient_sex=snapshot.get("patient_sex"),
        reporter_type=snapshot.get("reporter_type"),
        reporter_country=snapshot.get("reporter_country"),
        products=tuple(
            ProductFact(p["product"], p["role"], p["lot_number"]) for p in snapshot["products"]
        ),
        events=tuple(
            EventFact(e["verbatim"], e["meddra_code"], tuple(e["seriousness"]))
            for e in snapshot["events"]
        ),
        reference={},
    )
