"""A product's stability budget from its stability data, put in force under change control.

The cold chain judges an excursion against the hours a product may spend in each temperature
band outside its labelled condition (EU GDP 9.2). Those hours are a claim about the product,
and the claim must rest on data: a band with hours allowed is supported only by results at a
condition at least as far from the label as the band (as warm for a warm band, as cold for a
cold one), all within specification, over at least the hours claimed. A band allowing no time
needs no data. Changing the budget changes how every future excursion is judged: it is made
under a change control in implementation that names the product.

The rules are a table (typed facts in, reasons out, each rule with its basis), as the release
rules are. Every refusal changes nothing; what is put in force is recorded by the cold chain's
keeper (``quality.stability_budget``) with its basis: the study and the change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound, TransitionNotAllowed
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.roles import grant
from pharmaqms.lifecycle.rnd.stability import service
from pharmaqms.lifecycle.rnd.stability.models import StudyStatus
from pharmaqms.lifecycle.rnd.stability.protocol import CONDITIONS
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality import stability_budget
from pharmaqms.quality.changes.affected import affected_items
from pharmaqms.quality.changes.models import ChangeRequest, ChangeStatus
from pharmaqms.quality.stability_budget import BudgetBand

# QA puts a budget in force: it decides how excursions are judged from then on.
grant("stability.budget", "qa")

HOURS_PER_MONTH = 365.25 * 24 / 12


@dataclass(frozen=True)
class ConditionData:
    """What one storage condition of the study shows: its nominal temperature and the longest
    time on study with results, all within specification up to then."""

    code: str
    temperature_c: float
    clean_months: float  # 0 when none, or when an out-of-specification result came first


@dataclass(frozen=True)
class BudgetFacts:
    study_number: str
    study_status: str
    product_code: str
    label_min_c: float | None
    label_max_c: float | None
    change_number: str
    change_status: str
    change_names_product: bool
    conditions: tuple[ConditionData, ...]
    bands: tuple[BudgetBand, ...]


def _warm(band: BudgetBand, facts: BudgetFacts) -> bool:
    return (
        facts.label_max_c is not None
        and band.low_c is not None
        and (band.low_c >= facts.label_max_c)
    )


def _support(band: BudgetBand, facts: BudgetFacts) -> str | None:
    """Why the study does not support the hours the band allows, or None."""
    if band.allowed_h <= 0:
        return None
    warm = _warm(band, facts)
    edge = band.high_c if warm else band.low_c
    if edge is None:
        return (
            f"band {band.name!r} is open-ended and allows {band.allowed_h:g} h: no study "
            "reaches every temperature beyond its edge; allow it 0 h"
        )
    far_enough = [
        c
        for c in facts.conditions
        if (c.temperature_c >= edge if warm else c.temperature_c <= edge)
    ]
    if not far_enough:
        studied = ", ".join(f"{c.code} ({c.temperature_c:g} °C)" for c in facts.conditions)
        return (
            f"band {band.name!r} reaches {edge:g} °C but {facts.study_number} studied only "
            f"{studied}: no data {'as warm' if warm else 'as cold'} as the band"
        )
    best = max(far_enough, key=lambda c: c.clean_months)
    covered_h = best.clean_months * HOURS_PER_MONTH
    if band.allowed_h > covered_h:
        return (
            f"band {band.name!r} allows {band.allowed_h:g} h but {best.code} shows results "
            f"within specification over {covered_h:,.0f} h only ({best.clean_months:g} months)"
        )
    return None


Rule = Callable[[BudgetFacts], list[str]]


def _study_approved(f: BudgetFacts) -> list[str]:
    if f.study_status in (StudyStatus.APPROVED, StudyStatus.COMPLETED):
        return []
    return [f"{f.study_number} is {f.study_status}: only an approved study's data counts"]


def _change_in_implementation(f: BudgetFacts) -> list[str]:
    if f.change_status == ChangeStatus.IMPLEMENTATION:
        return []
    return [f"{f.change_number} is {f.change_status.replace('_', ' ')}, not in implementation"]


def _change_names_product(f: BudgetFacts) -> list[str]:
    if f.change_names_product:
        return []
    return [f"{f.change_number} does not name the product {f.product_code} as affected"]


def _label_known(f: BudgetFacts) -> list[str]:
    if f.label_min_c is None and f.label_max_c is None:
        return [f"product {f.product_code} has no labelled storage condition to budget from"]
    return []


def _bands_supported(f: BudgetFacts) -> list[str]:
    return [r for r in (_support(b, f) for b in f.bands) if r is not None]


# (code, rule, regulatory basis)
RULES: tuple[tuple[str, Rule, str], ...] = (
    ("study_approved", _study_approved, "ICH Q1A(R2) 2.2: data from a formal stability study"),
    (
        "change_in_implementation",
        _change_in_implementation,
        "ICH Q10 3.2.3; EU GMP Chapter 1.4(xii): a change is implemented once approved",
    ),
    (
        "change_names_product",
        _change_names_product,
        "EU GMP Annex 15 §11: the change control states what it affects",
    ),
    ("label_known", _label_known, "EU GDP 9.2: excursions judged against the label"),
    (
        "bands_supported",
        _bands_supported,
        "EU GDP 9.2, ICH Q1A(R2) 2.2.7: time out of the label backed by stability data",
    ),
)


def refusals(facts: BudgetFacts) -> list[str]:
    return [reason for _code, rule, _basis in RULES for reason in rule(facts)]


def _conditions(session: Session, study_id: int) -> tuple[ConditionData, ...]:
    months: dict[str, list[tuple[float, bool]]] = {}
    for result, pull in service.results_of(session, study_id):
        months.setdefault(pull.condition, []).append((pull.months, result.oos))
    found = []
    for code, seen in sorted(months.items()):
        first_oos = min((m for m, oos in seen if oos), default=None)
        clean = [m for m, _oos in seen if first_oos is None or m < first_oos]
        found.append(ConditionData(code, CONDITIONS[code].temperature_c, max(clean, default=0)))
    return tuple(found)


def facts_for(
    session: Session, study_id: int, bands: Sequence[BudgetBand], change_number: str
) -> BudgetFacts:
    study = service.get_study(session, study_id)
    product = session.scalars(select(Product).where(Product.code == study.product_code)).first()
    if product is None:
        raise NotFound(f"no product {study.product_code} in master data")
    number = change_number.strip()
    change = session.scalars(select(ChangeRequest).where(ChangeRequest.number == number)).first()
    if change is None:
        raise NotFound(f"no change control {number[:40]!r}")
    named = any(i.kind == "product" and i.reference == product.code for i in affected_items(change))
    return BudgetFacts(
        study_number=study.number,
        study_status=study.status,
        product_code=product.code,
        label_min_c=product.storage_min_c,
        label_max_c=product.storage_max_c,
        change_number=change.number,
        change_status=change.status,
        change_names_product=named,
        conditions=_conditions(session, study.id),
        bands=tuple(bands),
    )


def put_budget_in_force(
    session: Session,
    *,
    actor: Actor,
    study_id: int,
    bands: Sequence[BudgetBand],
    change_number: str,
) -> BudgetFacts:
    """The product's budget from this study, under this change; refused with every reason,
    nothing changed, when a rule is not met (the cold chain's keeper also checks the bands
    cover every temperature outside the label exactly once)."""
    actor.require("stability.budget", "put a stability budget in force")
    facts = facts_for(session, study_id, bands, change_number)
    reasons = refusals(facts)
    if reasons:
        raise TransitionNotAllowed("; ".join(reasons), reasons=reasons)
    shown = ", ".join(f"{c.code} {c.clean_months:g} months" for c in facts.conditions)
    stability_budget.put_in_force(
        session,
        actor=actor,
        product_code=facts.product_code,
        bands=bands,
        basis=f"{facts.study_number} ({shown}) under {facts.change_number}",
    )
    return facts
