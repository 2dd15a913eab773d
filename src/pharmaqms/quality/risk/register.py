"""The risk register of a product: every FMEA on the product itself (a product FMEA) and on the
processes that make it (a process FMEA on a development recipe, …), with its highest risk
priority number and level and its open actions.

An assessment's subject is a registered record type, or a product of the platform's master data
(``subject_type="product"``). Which records are processes of a product is known only to the
modules that keep them, so they register a *subject provider* at import, and quality never
imports them::

    from pharmaqms.quality.risk.register import register_process_subjects

    def recipes_of(session, product_id) -> list[tuple[str, int]]:
        return [("rnd_recipe", r.id) for r in ...]

    register_process_subjects("rnd_recipe", recipes_of)

An **open action** is a failure mode still active (not retired) whose level is medium or high
and whose controls have not yet been scored for the residual risk: the controls are not in
place, or nobody has judged yet whether they work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality.risk.matrix import LEVELS
from pharmaqms.quality.risk.models import RiskAssessment, RiskItem, RiskStatus

PRODUCT_SUBJECT = "product"

ProcessSubjects = Callable[[Session, int], list[tuple[str, int]]]
_PROVIDERS: dict[str, ProcessSubjects] = {}


def register_process_subjects(name: str, provider: ProcessSubjects) -> None:
    _PROVIDERS[name] = provider


def product_by_id(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.code)))


def open_action(item: RiskItem) -> bool:
    return not item.retired and item.risk_level != "low" and item.residual_rpn is None


@dataclass(frozen=True)
class RegisterRow:
    assessment: RiskAssessment
    kind: str  # "product" or "process"
    highest_rpn: int | None  # of the active items, as scored before controls
    highest_level: str | None  # the residual level where scored, else the initial one
    open_actions: list[RiskItem]


def _row(assessment: RiskAssessment, kind: str) -> RegisterRow:
    active = [i for i in assessment.items if not i.retired]
    levels = [i.residual_level or i.risk_level for i in active]
    return RegisterRow(
        assessment=assessment,
        kind=kind,
        highest_rpn=max((i.rpn for i in active), default=None),
        highest_level=max(levels, key=LEVELS.index) if levels else None,
        open_actions=[i for i in active if open_action(i)],
    )


def risk_register(session: Session, product_id: int) -> list[RegisterRow]:
    """The product's FMEAs, product first then processes, newest first within each; withdrawn
    assessments are left out."""
    product_by_id(session, product_id)
    processes: list[tuple[str, int]] = []
    for _name, provider in sorted(_PROVIDERS.items()):
        processes.extend(provider(session, product_id))
    subjects = [(PRODUCT_SUBJECT, product_id), *processes]
    conditions = [
        (RiskAssessment.subject_type == kind) & (RiskAssessment.subject_id == subject_id)
        for kind, subject_id in subjects
    ]
    found = session.scalars(
        select(RiskAssessment)
        .where(or_(*conditions), RiskAssessment.status != RiskStatus.WITHDRAWN.value)
        .order_by(RiskAssessment.id.desc())
    ).all()
    rows = [_row(a, "product" if a.subject_type == PRODUCT_SUBJECT else "process") for a in found]
    return sorted(rows, key=lambda r: r.kind != "product")
