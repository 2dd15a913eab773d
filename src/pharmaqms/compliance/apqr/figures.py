"""The figures of an annual product quality review (EU GMP Part I 1.10; 21 CFR 211.180(e)),
gathered for one product and one calendar year (UTC) through each module's own read functions.

Every section carries its title, the rule it counts by (``basis``) and either its figures or an
``empty`` sentence saying there was nothing to count: a section is never blank. The result is
plain JSON (strings, numbers, lists, dicts) so it can be frozen in the review with its hash.

Scope: the product's batches are the finished lots manufactured in the year. Results, OOS
investigations, excursions, recalls and suppliers are counted on those batches; deviations,
complaints and adverse-event cases by the date they were discovered / received in the year,
when they name the product (code or name, any case) or one of its batches. CAPAs and changes
are those the product's deviations, complaints and OOS investigations led to (quality links).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.distribution.excursions import excursions_of_lots
from pharmaqms.lifecycle.distribution.recalls.service import recalls_of_lots
from pharmaqms.lifecycle.production.batchrecords.masters import theoretical_sizes
from pharmaqms.lifecycle.production.materials.service import suppliers_of_batches
from pharmaqms.lifecycle.production.monitoring.capability import capability
from pharmaqms.lifecycle.production.monitoring.models import MonitoringStatus
from pharmaqms.lifecycle.production.monitoring.service import list_parameters
from pharmaqms.lifecycle.production.qc.investigations import investigations_of_lots
from pharmaqms.lifecycle.production.qc.results import figures_for_lots
from pharmaqms.lifecycle.rnd.stability.evaluation import evaluations
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label
from pharmaqms.lifecycle.rnd.stability.service import results_of, studies_of_product
from pharmaqms.lifecycle.use.psur.figures import summarise
from pharmaqms.lifecycle.use.psur.selection import cases_for, resolve_product
from pharmaqms.platform.governance.units import same_unit
from pharmaqms.platform.masterdata.models import Lot, LotStatus, Product
from pharmaqms.platform.masterdata.service import batches_made
from pharmaqms.quality.capa.models import Capa, CheckStatus
from pharmaqms.quality.capa.queries import capas_raised_from
from pharmaqms.quality.changes.service import changes_raised_from
from pharmaqms.quality.complaints.service import complaints_of_product
from pharmaqms.quality.deviations.queries import deviations_of_product

FORMAT = "pharmaqms-apqr-figures"
FORMAT_VERSION = 1
EARLIEST_YEAR = 2000
# Statuses a batch reaches only after it was released (recalled, expired on the market).
AFTER_RELEASE = (LotStatus.RELEASED.value, LotStatus.RECALLED.value, LotStatus.EXPIRED.value)


def resolve(session: Session, asked: str) -> Product:
    """The master-data product named by its code or its exact name."""
    text = " ".join((asked or "").split())
    if not text or len(text) > 200:
        raise InvalidInput("name the product by its code (1 to 200 characters)", field="product")
    product = session.scalar(select(Product).where(Product.code == text.upper()))
    if product is None:
        product = session.scalar(select(Product).where(func.lower(Product.name) == text.lower()))
    if product is None:
        raise InvalidInput(f"no product {text!r} in the master data", field="product")
    return product


def check_year(year: int) -> None:
    current = clock.now().year
    if not EARLIEST_YEAR <= year <= current:
        raise InvalidInput(f"the year must be between {EARLIEST_YEAR} and {current}", field="year")


def _section(key: str, title: str, basis: str, empty: str | None, **data: Any) -> dict[str, Any]:
    return {"key": key, "title": title, "basis": basis, "empty": empty, **data}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _batches(lots: list[Lot], year: int) -> dict[str, Any]:
    status = Counter(lot.status for lot in lots)
    months = []
    for month in range(1, 13):
        made = [lot for lot in lots if lot.manufactured_on and lot.manufactured_on.month == month]
        months.append(
            {
                "month": f"{year}-{month:02d}",
                "made": len(made),
                "released": sum(1 for lot in made if lot.status in AFTER_RELEASE),
                "rejected": sum(1 for lot in made if lot.status == LotStatus.REJECTED.value),
            }
        )
    return _section(
        "batches",
        "Batches made, released and rejected",
        "Finished batches manufactured in the year (by date of manufacture), counted by their "
        "status today; released counts the batches released and those recalled or expired "
        "after release.",
        None,
        made=len(lots),
        released=sum(status[s] for s in AFTER_RELEASE),
        rejected=status[LotStatus.REJECTED.value],
        by_status=dict(sorted(status.items())),
        months=months,
        lots=[
            {
                "lot_number": lot.lot_number,
                "manufactured_on": lot.manufactured_on.isoformat() if lot.manufactured_on else "",
                "status": lot.status,
            }
            for lot in lots
        ],
    )


def _yields(session: Session, lots: list[Lot]) -> dict[str, Any]:
    sizes = theoretical_sizes(session, [lot.id for lot in lots])
    rows = []
    for lot in lots:
        size = sizes.get(lot.id)
        if size is None or lot.quantity is None or not lot.unit or not same_unit(lot.unit, size[1]):
            continue
        rows.append(
            {
                "lot_number": lot.lot_number,
                "quantity": lot.quantity,
                "theoretical": size[0],
                "unit": size[1],
                "yield_pct": round(100 * lot.quantity / size[0], 2),
            }
        )
    values = np.array([r["yield_pct"] for r in rows], dtype=float)
    basis = (
        "Actual quantity of the batch / theoretical batch size of the master batch record it "
        "was made under, same unit; batches without a batch record here have no yield."
    )
    if not rows:
        return _section(
            "yields",
            "Yields",
            basis,
            f"no yield data: none of the {len(lots)} batches has a theoretical batch size "
            "(master batch record) and a recorded quantity in the same unit",
            rows=[],
        )
    return _section(
        "yields",
        "Yields",
        basis,
        None,
        rows=rows,
        batches_with_yield=len(rows),
        mean_pct=_round(values.mean()),
        min_pct=_round(values.min()),
        max_pct=_round(values.max()),
        sd_pct=_round(values.std(ddof=1)) if len(values) > 1 else None,
    )


def _capability(session: Session, product: Product, start: datetime, end: datetime) -> Any:
    rows = []
    for p in list_parameters(session, product_code=product.code):
        if p.status != MonitoringStatus.ACTIVE.value:
            continue
        whole = capability(session, p.id, start=start, end=end)
        months = []
        moment = start
        while moment < end:
            following = datetime(
                moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC
            )
            part = capability(session, p.id, start=moment, end=min(following, end))
            months.append(
                {
                    "month": moment.strftime("%Y-%m"),
                    "cpk": _round(part.indices.cpk if part.indices else None),
                    "points": part.points,
                }
            )
            moment = following
        rows.append(
            {
                "parameter": p.number,
                "name": p.title,
                "classification": p.classification,
                "unit": p.unit,
                "readings": whole.readings,
                "cpk": _round(whole.indices.cpk if whole.indices else None),
                "ppk": _round(whole.indices.ppk if whole.indices else None),
                "reason": whole.reason or "",
                "months": months,
            }
        )
    return _section(
        "capability",
        "Process capability (Cpk per monitored parameter)",
        "Cpk and Ppk of the readings of each active monitored parameter (CPP, CQA) of the "
        "product in the year, and Cpk month by month, from the process monitoring module.",
        None if rows else "no monitored process parameters for this product",
        parameters=rows,
    )


def _results(session: Session, lot_ids: list[int]) -> dict[str, Any]:
    tests = figures_for_lots(session, lot_ids)
    investigations = investigations_of_lots(session, lot_ids)
    return _section(
        "oos_oot",
        "Results out of specification (OOS) and out of trend (OOT)",
        "First QC results (retests not counted again) on the year's batches, judged pass or "
        "fail; OOT: results flagged out of trend; OOS investigations opened on those batches.",
        None if tests or investigations else "no QC results on the year's batches",
        evaluated=sum(t.evaluated for t in tests),
        oos=sum(t.out_of_specification for t in tests),
        oot=sum(t.out_of_trend for t in tests),
        tests=[
            {
                "test": t.test_code,
                "evaluated": t.evaluated,
                "oos": t.out_of_specification,
                "oot": t.out_of_trend,
            }
            for t in tests
        ],
        investigations=[
            {
                "number": i.number,
                "test": i.test_code,
                "status": i.status,
                "conclusion": i.conclusion or "",
            }
            for i in investigations
        ],
    )


def _effectiveness(capa: Capa) -> str:
    checks = [c.status for c in capa.checks if c.status != CheckStatus.WITHDRAWN.value]
    if CheckStatus.FAILED.value in checks:
        return "not effective"
    if CheckStatus.PASSED.value in checks:
        return "effective"
    if checks:
        return "check planned"
    if capa.effectiveness_required is False:
        return "check not required"
    return "not yet decided"


def collect(session: Session, product: Product, year: int) -> dict[str, Any]:
    """Every section's figures for the product and year, as the registers stand now."""
    check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    start = datetime(year, 1, 1, tzinfo=UTC)
    now = clock.now()
    end = min(datetime(year + 1, 1, 1, tzinfo=UTC), now)
    lots = batches_made(session, product.code, first, last)
    if not lots:
        raise InvalidInput(
            f"no batches of {product.code} were manufactured in {year}: there is nothing to "
            "review for that year",
            field="year",
        )
    lot_ids = [lot.id for lot in lots]
    lot_numbers = [lot.lot_number for lot in lots]
    names = [product.code, product.name]
    sections = [
        _batches(lots, year),
        _yields(session, lots),
        _capability(session, product, start, end),
        _results(session, lot_ids),
    ]
    deviations = deviations_of_product(
        session, names=names, batch_ids=lot_numbers, start=start, end=end
    )
    sections.append(
        _section(
            "deviations",
            "Deviations",
            "Deviations discovered in the year that name the product or one of its batches.",
            None if deviations else f"no deviations for {product.code} in {year}",
            total=len(deviations),
            by_classification=dict(
                sorted(Counter(d.classification or "not classified" for d in deviations).items())
            ),
            by_status=dict(sorted(Counter(d.status for d in deviations).items())),
            rows=[
                {
                    "number": d.number,
                    "title": d.title,
                    "classification": d.classification or "",
                    "status": d.status,
                }
                for d in deviations
            ],
        )
    )
    complaints = complaints_of_product(
        session, names=names, lot_numbers=lot_numbers, start=start, end=end
    )
    investigations = investigations_of_lots(session, lot_ids)
    sources = (
        [("deviation", d.id) for d in deviations]
        + [("complaint", c.id) for c in complaints]
        + [("oos_investigation", i.id) for i in investigations]
    )
    capas = capas_raised_from(session, sources)
    effectiveness = {c.number: _effectiveness(c) for c in capas}
    sections.append(
        _section(
            "capa",
            "CAPA status and effectiveness",
            "CAPAs raised from the product's deviations, complaints and OOS investigations of "
            "the year (quality links), with their status today and the outcome of their "
            "effectiveness checks.",
            None if capas else "no CAPAs raised from this product's records in the year",
            total=len(capas),
            by_status=dict(sorted(Counter(c.status for c in capas).items())),
            by_effectiveness=dict(sorted(Counter(effectiveness.values()).items())),
            rows=[
                {
                    "number": c.number,
                    "title": c.title,
                    "status": c.status,
                    "effectiveness": effectiveness[c.number],
                }
                for c in capas
            ],
        )
    )
    changes = changes_raised_from(session, sources + [("capa", c.id) for c in capas])
    sections.append(
        _section(
            "changes",
            "Changes",
            "Change requests raised from the product's deviations, complaints, OOS "
            "investigations and CAPAs of the year (quality links).",
            None if changes else "no change requests raised from this product's records",
            total=len(changes),
            by_status=dict(sorted(Counter(c.status for c in changes).items())),
            rows=[
                {"number": c.number, "title": c.title, "type": c.change_type, "status": c.status}
                for c in changes
            ],
        )
    )
    recalls = recalls_of_lots(session, lot_ids, start, end)
    returned = sum(units for _, _, units in recalls)
    sections.append(
        _section(
            "complaints",
            "Complaints and returns",
            "Complaints received in the year that name the product or one of its lots. Returns: "
            "units returned under recalls of the year's batches (the system records returns "
            "only within a recall).",
            None
            if complaints or returned
            else f"no complaints about {product.code} in {year} and no units returned",
            total=len(complaints),
            confirmed=sum(1 for c in complaints if c.complaint_confirmed),
            by_category=dict(
                sorted(Counter(c.category or "not triaged" for c in complaints).items())
            ),
            returned_units=returned,
            rows=[
                {
                    "number": c.number,
                    "lot": c.lot,
                    "category": c.category or "",
                    "criticality": c.criticality or "",
                    "status": c.status,
                }
                for c in complaints
            ],
        )
    )
    sections.append(_adverse_events(session, product, first, min(last, now.date())))
    sections.append(_stability(session, product, start, end))
    sections.append(
        _section(
            "recalls",
            "Recalls",
            "Real recalls (mock exercises left out) opened in the year whose scope holds one of "
            "the year's batches.",
            None if recalls else f"no recalls of {product.code} batches made in {year}",
            total=len(recalls),
            rows=[
                {
                    "number": r.number,
                    "classification": r.classification,
                    "status": r.status,
                    "batches": len(ours),
                    "returned_units": units,
                }
                for r, ours, units in recalls
            ],
        )
    )
    excursions = excursions_of_lots(session, lot_ids, start, end)
    sections.append(
        _section(
            "excursions",
            "Temperature excursions",
            "Storage and transport excursions that started in the year and touched one of the "
            "year's batches.",
            None if excursions else f"no excursions touched {product.code} batches of {year}",
            total=len(excursions),
            rows=[
                {
                    "number": e.number,
                    "place": e.place_code,
                    "started_at": e.started_at.astimezone(UTC).isoformat(timespec="minutes"),
                    "minutes": round(e.duration_min, 1),
                    "status": e.status,
                    "batches": len(ours),
                }
                for e, ours in excursions
            ],
        )
    )
    suppliers = suppliers_of_batches(session, lot_ids, min(last, now.date()))
    sections.append(
        _section(
            "suppliers",
            "Supplier status",
            "Suppliers of the material lots the year's batches consumed, and whether each is "
            "approved for that material on the approved supplier list at the end of the year "
            "(or today, in the current year).",
            None if suppliers else "no material consumption recorded for the year's batches",
            approved=sum(1 for s in suppliers if s.standing.approved),
            not_approved=sum(1 for s in suppliers if not s.standing.approved),
            rows=[
                {
                    "material": s.material_code,
                    "supplier": s.supplier_code,
                    "name": s.supplier_name,
                    "material_lots": s.material_lots,
                    "approval": s.approval_number or "",
                    "status": s.standing.status,
                    "approved": s.standing.approved,
                    "why": "; ".join(s.standing.reasons),
                }
                for s in suppliers
            ],
        )
    )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "product": {"code": product.code, "name": product.name},
        "year": year,
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "data_cut_off": end.isoformat(timespec="seconds"),
        "interim": end < datetime(year + 1, 1, 1, tzinfo=UTC),
        "sections": sections,
    }


def _stability(session: Session, product: Product, start: datetime, end: datetime) -> Any:
    """The product's stability studies: results recorded in the year, those out of
    specification or trend, and the shelf life each long-term attribute supports so far."""
    studies = studies_of_product(session, product.code)
    recorded = [
        result
        for study in studies
        for result, _pull in results_of(session, study.id)
        if start <= result.recorded_at.astimezone(UTC) < end
    ]
    rows = []
    for study in studies:
        for found in evaluations(session, study, charts=False):
            result = found.result
            rows.append(
                {
                    "study": study.number,
                    "status": study.status,
                    "condition": condition_label(found.condition),
                    "attribute": found.name,
                    "results": len(found.observations),
                    "shelf_life_months": "" if result is None else result.shelf_life_months,
                    "pooling": "" if result is None else result.pooling.value,
                    "limiting_batch": "" if result is None else (result.limiting_batch or ""),
                    "note": found.refused or "",
                }
            )
    return _section(
        "stability",
        "Stability results",
        "The product's stability studies (ICH Q1A(R2)): results recorded in the year, those out "
        "of specification or out of trend, and per attribute at each long-term condition the "
        "shelf life the results so far support (ICH Q1E).",
        None
        if studies
        else "no stability data: the system holds no stability studies for this product",
        studies=len(studies),
        results_in_year=len(recorded),
        oos_in_year=sum(1 for r in recorded if r.oos),
        oot_in_year=sum(1 for r in recorded if r.oot_reason),
        rows=rows,
    )


def _adverse_events(session: Session, product: Product, first: date, last: date) -> Any:
    scope = resolve_product(session, product.code)
    found = summarise(scope, first, last, cases_for(session, scope, up_to=last))
    interval = found["totals"]["interval"]
    return _section(
        "adverse_events",
        "Adverse events",
        "Pharmacovigilance cases that name the product or one of its lots as suspect, first "
        "received in the year (the same counting rules as the periodic safety summary).",
        None if interval["cases"] else f"no adverse-event cases for {product.code} in the year",
        cases=interval["cases"],
        serious=interval["serious"],
        fatal=interval["fatal"],
        cumulative_cases=found["totals"]["cumulative"]["cases"],
        terms=[
            {"term": t["label"], "cases": t["interval"]["cases"]}
            for t in found["terms"]
            if t["interval"]["cases"]
        ][:15],
    )


# The columns a reader looks for first in a section's table; the rest follow in their order.
# (The frozen JSON keeps its keys sorted, so the order is chosen here, not by the dicts.)
LEADING = ("number", "lot_number", "test", "term", "material", "supplier", "name", "title")


def columns(row: dict[str, Any]) -> list[str]:
    first = [k for k in LEADING if k in row]
    return first + [k for k in row if k not in first]


def section(figures: dict[str, Any], key: str) -> dict[str, Any]:
    for found in figures["sections"]:
        if found["key"] == key:
            return dict(found)
    raise KeyError(key)
