"""3.2.P.8 Stability, from the product's stability studies: per study the summary and
conclusion (3.2.P.8.1: per attribute at each long-term condition the ICH Q1E shelf life — the
pooling, the limiting batch, the data span and the extrapolation limit) with the chart of each
evaluation, and the stability data (3.2.P.8.3: per storage condition and attribute a table of
batches by time point, the specification in the heading). A study still in draft has no data
and is not shown; quarantined results are not data of a study."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.rnd.stability import ctd, evaluation, service
from pharmaqms.lifecycle.rnd.stability.evaluation import Evaluation
from pharmaqms.lifecycle.rnd.stability.models import StabilityStudy, StudyStatus
from pharmaqms.lifecycle.rnd.stability.protocol import condition_label
from pharmaqms.lifecycle.rnd.submissions.common import from_report, section

BASIS = (
    "ICH Q1A(R2) (protocol, storage conditions); ICH Q1E (evaluation: regression per batch, "
    "poolability at the 0.25 level, one-sided 95 % confidence bound of the mean); ICH M4Q "
    "3.2.P.8.1 and 3.2.P.8.3."
)


def _chart(study: StabilityStudy, e: Evaluation) -> dict[str, Any]:
    spec = next(a for a in study.attributes if a["code"] == e.attribute)
    batches: dict[str, list[list[float]]] = {}
    for o in e.observations:
        batches.setdefault(o.batch, []).append([o.months, o.value])
    fits = e.result.batches if e.result else {}
    return {
        "title": f"{e.name} at {condition_label(e.condition)} ({study.number})",
        "unit": e.unit,
        "lower": spec.get("lower"),
        "upper": spec.get("upper"),
        "shelf_life_months": e.result.shelf_life_months if e.result else None,
        "batches": [
            {
                "batch": name,
                "points": sorted(points),
                "slope": fits[name].slope if name in fits else None,
                "intercept": fits[name].intercept if name in fits else None,
            }
            for name, points in sorted(batches.items())
        ],
    }


def _study_sections(session: Session, study: StabilityStudy) -> list[dict[str, Any]]:
    evaluations = evaluation.evaluations(session, study, charts=False)
    summary = ctd.summary_section(session, study)
    charts = [_chart(study, e) for e in evaluations if e.observations]
    head = f"{study.number} {study.title} ({study.status}; batches {', '.join(study.batches)})"
    return [
        section(
            f"3.2.P.8.1 Stability summary and conclusion — {head}",
            BASIS,
            text=[
                f"Study {study.number} started {study.start_on.isoformat()}; "
                f"purpose: {study.purpose or 'as stated in the protocol'}.",
                "Shelf life proposed = min(estimate, 2 × long-term data span, span + 12 "
                "months), rounded down to whole months (ICH Q1E §2.4.1 and Appendix A).",
            ],
            tables=[from_report(summary)],
            charts=charts,
        ),
        section(
            f"3.2.P.8.3 Stability data — {study.number}",
            "Each result as recorded; retests after the first value; OOS and OOT marked; "
            "— where the time point has no result yet.",
            tables=[from_report(s) for s in ctd.data_sections(session, study)],
        ),
    ]


def collect(session: Session, product_code: str) -> list[dict[str, Any]]:
    studies = [
        s
        for s in service.studies_of_product(session, product_code)
        if s.status in (StudyStatus.APPROVED.value, StudyStatus.COMPLETED.value)
        and service.results_of(session, s.id)
    ]
    if not studies:
        raise InvalidInput(
            f"no stability data recorded for {product_code}: no approved or completed "
            "stability study of the product has results",
            field="product",
        )
    found: list[dict[str, Any]] = []
    for study in studies:
        found += _study_sections(session, study)
    found.append(
        section(
            "3.2.P.8.2 Post-approval stability protocol and commitment",
            "ICH M4Q 3.2.P.8.2",
            empty="not generated from the data: written by regulatory affairs in the dossier",
        )
    )
    return found
