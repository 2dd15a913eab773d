"""Which cases belong to a product, read into typed rows that the periodic summary and the
risk-factor analysis count without touching the database again.

A case belongs to the product when one of its current drugs, as suspect or interacting, names
it (case-insensitive; a product code of the master data stands for its name) or cites one of
its lots. Invalid cases and duplicates merged into another case are not counted (the case they
joined is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.cases import meddra
from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    DrugRole,
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
)
from pharmaqms.platform.masterdata.models import Lot, Product

NOT_COUNTED = (CaseStatus.INVALID.value, CaseStatus.DUPLICATE.value)
SUSPECT_ROLES = (DrugRole.SUSPECT.value, DrugRole.INTERACTING.value)


@dataclass(frozen=True, slots=True)
class EventRow:
    verbatim: str
    meddra_code: str
    seriousness: tuple[str, ...]
    # From the loaded MedDRA release, when the code is one of its LLTs: the PT and its
    # primary System Organ Class.
    pt_code: str = ""
    pt_name: str = ""
    soc_name: str = ""

    @property
    def term_key(self) -> str:
        """The PT when coded against loaded MedDRA, else the MedDRA code as given, else the
        verbatim term folded (same words, one row)."""
        if self.pt_code:
            return f"PT {self.pt_code}"
        return (
            f"MedDRA {self.meddra_code}"
            if self.meddra_code
            else " ".join(self.verbatim.lower().split())
        )


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    number: str
    status: str
    source: str
    report_type: str
    received_on: date  # first receipt: the date a case enters a reporting interval
    country: str | None
    reporter_type: str | None
    age_years: Decimal | None
    sex: str | None
    events: tuple[EventRow, ...]
    suspect_lots: tuple[str, ...]  # lot numbers cited for the product ("" when not given)
    concomitants: tuple[str, ...]  # names of the other drugs taken (concomitant role)
    weight_kg: Decimal | None = None
    # The product's dose(s) as given (value, UCUM unit) and its route code(s) (E2B), from the
    # suspect drug rows that name it.
    doses: tuple[tuple[Decimal, str], ...] = ()
    routes: tuple[str, ...] = ()

    @property
    def criteria(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for event in self.events:
            for criterion in event.seriousness:
                seen.setdefault(criterion, None)
        return tuple(seen)

    @property
    def serious(self) -> bool:
        return bool(self.criteria)

    @property
    def fatal(self) -> bool:
        return "death" in self.criteria


@dataclass(frozen=True, slots=True)
class ProductScope:
    """What the user asked for and what it was taken to mean."""

    asked: str
    name: str  # the name the cases are matched on
    product_id: int | None  # the master-data product, when there is one


def resolve_product(session: Session, asked: str) -> ProductScope:
    text = " ".join((asked or "").split())
    if not text or len(text) > 200:
        raise InvalidInput("name the product (1 to 200 characters)", field="product")
    product = session.scalar(select(Product).where(Product.code == text.upper()))
    if product is None:
        product = session.scalar(select(Product).where(func.lower(Product.name) == text.lower()))
    if product is not None:
        return ProductScope(text, product.name, product.id)
    return ProductScope(text, text, None)


def cases_for(session: Session, scope: ProductScope, *, up_to: date | None = None) -> list[CaseRow]:
    """The product's counted cases first received on or before ``up_to`` (all when None)."""
    matches = [func.lower(PVCaseProduct.product) == scope.name.lower()]
    if scope.product_id is not None:
        lots = select(Lot.id).where(Lot.product_id == scope.product_id)
        matches.append(PVCaseProduct.lot_id.in_(lots))
    citing = (
        select(
            PVCaseProduct.case_id,
            PVCaseProduct.lot_number,
            PVCaseProduct.dose_value,
            PVCaseProduct.dose_unit,
            PVCaseProduct.route,
        )
        .join(PVCase, PVCase.id == PVCaseProduct.case_id)
        .where(
            PVCaseProduct.current.is_(True),
            PVCaseProduct.role.in_(SUSPECT_ROLES),
            or_(*matches),
            PVCase.status.not_in(NOT_COUNTED),
        )
    )
    lots_of: dict[int, list[str]] = {}
    doses_of: dict[int, list[tuple[Decimal, str]]] = {}
    routes_of: dict[int, list[str]] = {}
    for case_id, lot_number, dose_value, dose_unit, route in session.execute(citing):
        lots_of.setdefault(case_id, []).append(lot_number or "")
        if dose_value is not None and dose_unit:
            doses_of.setdefault(case_id, []).append((dose_value, dose_unit))
        if route:
            routes_of.setdefault(case_id, []).append(route)
    if not lots_of:
        return []
    cases = list(session.scalars(select(PVCase).where(PVCase.id.in_(lots_of)).order_by(PVCase.id)))
    events: dict[int, list[EventRow]] = {}
    found = list(
        session.scalars(
            select(PVCaseEvent)
            .where(PVCaseEvent.case_id.in_(lots_of), PVCaseEvent.current.is_(True))
            .order_by(PVCaseEvent.case_id, PVCaseEvent.position)
        )
    )
    coded = meddra.classify(session, {e.meddra_code for e in found if e.meddra_code})
    for e in found:
        c = coded.get(e.meddra_code)
        events.setdefault(e.case_id, []).append(
            EventRow(
                e.verbatim,
                e.meddra_code,
                tuple(e.seriousness),
                c.pt_code if c else "",
                c.pt_name if c else "",
                c.soc_name if c else "",
            )
        )
    others: dict[int, list[str]] = {}
    for p in session.scalars(
        select(PVCaseProduct)
        .where(
            PVCaseProduct.case_id.in_(lots_of),
            PVCaseProduct.current.is_(True),
            PVCaseProduct.role == DrugRole.CONCOMITANT.value,
        )
        .order_by(PVCaseProduct.case_id, PVCaseProduct.position)
    ):
        others.setdefault(p.case_id, []).append(p.product)
    rows = []
    for case in cases:
        received = case.first_received_at.date()
        if up_to is not None and received > up_to:
            continue
        rows.append(
            CaseRow(
                id=case.id,
                number=case.number,
                status=case.status,
                source=case.source,
                report_type=case.report_type,
                received_on=received,
                country=case.reporter_country,
                reporter_type=case.reporter_type,
                age_years=case.patient_age_years,
                sex=case.patient_sex,
                events=tuple(events.get(case.id, ())),
                suspect_lots=tuple(sorted(set(lots_of[case.id]))),
                concomitants=tuple(others.get(case.id, ())),
                weight_kg=case.patient_weight_kg,
                doses=tuple(doses_of.get(case.id, ())),
                routes=tuple(sorted(set(routes_of.get(case.id, ())))),
            )
        )
    return rows
