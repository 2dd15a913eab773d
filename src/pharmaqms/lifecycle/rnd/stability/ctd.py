"""A stability study's printed record as the dossier reads it (CTD Module 3, 3.2.P.8): the
kernel's record report of the study — its protocol fields, QA's signatures and its audit trail —
gains the stability data summary tables. For each storage condition and attribute, one table: a
row per batch, a column per time point of the protocol, each cell the result as recorded (a
retest after the first value, ``OOS`` / ``OOT`` marked) and ``—`` where nothing was recorded
yet; the specification in the heading. Before them, the summary and conclusion (3.2.P.8.1): the
shelf life per attribute at each long-term condition, as the ICH Q1E evaluation gives it.

Quarantined results are not data of the study and do not appear; the study page lists them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.sections import Section, report_section
from pharmaqms.lifecycle.rnd.stability import evaluation, service
from pharmaqms.lifecycle.rnd.stability.models import StabilityResult, StabilityStudy
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label


def _limits(lower: float | None, upper: float | None, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if lower is not None and upper is not None:
        return f"{lower:g}–{upper:g}{suffix}"
    if lower is not None:
        return f"≥ {lower:g}{suffix}"
    if upper is not None:
        return f"≤ {upper:g}{suffix}"
    return "no limit"


def _cell(results: list[StabilityResult]) -> str:
    if not results:
        return "—"
    shown = []
    for result in results:
        marks = [m for m, on in (("OOS", result.oos), ("OOT", bool(result.oot_reason))) if on]
        shown.append(f"{result.value:g}" + (f" ({', '.join(marks)})" if marks else ""))
    return "; ".join(shown)


def summary_section(session: Session, study: StabilityStudy) -> Section:
    rows = []
    for e in evaluation.evaluations(session, study, charts=False):
        where = f"{e.name} at {condition_label(e.condition)}"
        if e.result is None:
            rows.append([where, "—", "—", "—", e.refused or ""])
            continue
        r = e.result
        rows.append(
            [
                where,
                f"{r.shelf_life_months} months",
                r.pooling.value.replace("_", " "),
                r.limiting_batch or "—",
                f"{r.long_term_months:g} months of long-term data; extrapolation limit "
                f"{r.extrapolation_limit_months:g} months",
            ]
        )
    return Section(
        "3.2.P.8.1 Stability summary and conclusion (ICH Q1E)",
        rows,
        columns=("Attribute and condition", "Shelf life", "Pooling", "Limiting batch", "Basis"),
        widths=(30, 14, 14, 14, 38),
        note="Shelf life where the one-sided 95 % confidence bound of the mean meets the "
        "specification; poolability of slopes and intercepts tested at the 0.25 level.",
    )


def data_sections(session: Session, study: StabilityStudy) -> list[Section]:
    found: dict[tuple[str, str, str, float], list[StabilityResult]] = defaultdict(list)
    for result, pull in service.results_of(session, study.id):
        found[(pull.condition, result.attribute, result.batch, pull.months)].append(result)
    for results in found.values():
        results.sort(key=lambda r: (r.recorded_at, r.id))
    sections = []
    for condition in study.conditions:
        points = sorted(float(m) for m in condition["time_points"])
        for attribute in study.attributes:
            rows = [
                [
                    batch,
                    *(
                        _cell(found.get((condition["code"], attribute["code"], batch, m), []))
                        for m in points
                    ),
                ]
                for batch in study.batches
            ]
            role = str(condition["role"]).replace("_", " ")
            sections.append(
                Section(
                    f"3.2.P.8.3 {attribute['name']} ({attribute['code']}), "
                    f"{condition_label(condition['code'])} ({role}); acceptance "
                    f"{_limits(attribute.get('lower'), attribute.get('upper'), attribute['unit'])}",
                    rows,
                    columns=("Batch", *(f"{m:g} M" for m in points)),
                    widths=(18, *([82 / len(points)] * len(points))),
                )
            )
    return sections


@report_section("stability_study")
def stability_tables(session: Session, record: GxPRecord) -> list[Section]:
    assert isinstance(record, StabilityStudy)
    return [summary_section(session, record), *data_sections(session, record)]
