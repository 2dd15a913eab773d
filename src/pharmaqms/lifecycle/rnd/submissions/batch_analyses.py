"""3.2.P.5.4 Batch analyses: per batch, the results against the specification per attribute.

Two sources, named in each batch's heading:

- **stability batches** (development and registration batches on stability): their initial
  results — time 0 of the study's long-term condition — against the protocol's specification;
- **production batches** of the product, through the quality front door
  (``quality.batch_results``; R&D never reads production's tables): each finished batch's valid
  QC results against the criterion production judged them by. A batch released at or after the
  approval of the project's registration gate is *commercial*; one released before can only be
  a development, clinical or validation batch (``gates.launch``); one not released is named
  with its status.

Clinical batches made elsewhere have no record in this system: the document says so."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.rnd.gates import launch
from pharmaqms.lifecycle.rnd.gates.models import DevelopmentPhase, DevelopmentPlan, GateStatus
from pharmaqms.lifecycle.rnd.gates.service import gates_of
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.lifecycle.rnd.stability.models import StabilityStudy, StudyStatus
from pharmaqms.lifecycle.rnd.submissions.common import (
    NO_DATA,
    limits_text,
    section,
    table,
    utc_time,
)
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality.batch_results import BatchAnalysis, batch_results

BASIS = (
    "ICH M4Q 3.2.P.5.4 (batch analyses); ICH Q6A (acceptance criteria). Results as recorded; "
    "invalidated results (a documented OOS decision) are left out and their retests shown."
)
COLUMNS = ["Attribute", "Acceptance criterion", "Result", "Outcome"]


def _stability_batches(session: Session, study: StabilityStudy) -> list[dict[str, Any]]:
    long_term = [c["code"] for c in study.conditions if c["role"] == "long_term"]
    initial: dict[tuple[str, str], list[str]] = defaultdict(list)
    for result, pull in stability.results_of(session, study.id):
        if pull.months == 0 and (not long_term or pull.condition == long_term[0]):
            shown = f"{result.value:g} {result.unit}".strip()
            initial[(result.batch, result.attribute)].append(
                shown + (" (OOS)" if result.oos else "")
            )
    tables = []
    for batch in study.batches:
        rows = []
        for a in study.attributes:
            values = initial.get((batch, a["code"]), [])
            outcome = "—" if not values else ("fail" if "OOS" in values[0] else "pass")
            rows.append(
                [
                    f"{a['name']} ({a['code']})",
                    limits_text(a.get("lower"), a.get("upper"), a["unit"]),
                    "; ".join(values) or NO_DATA,
                    outcome,
                ]
            )
        tables.append(
            table(
                f"Batch {batch} — stability batch of {study.number} (initial results, time 0)",
                COLUMNS,
                rows,
            )
        )
    return tables


def _registration_approved_at(session: Session, product_code: str) -> Any:
    product_id = session.scalar(select(Product.id).where(Product.code == product_code))
    plans = session.scalars(
        select(DevelopmentPlan).where(DevelopmentPlan.product_id == product_id)
    ).all()
    moments = [
        g.approved_at
        for plan in plans
        for g in gates_of(session, plan.project_id)
        if g.phase == DevelopmentPhase.REGISTRATION
        and g.status == GateStatus.APPROVED
        and g.approved_at is not None
    ]
    return min(moments) if moments else None


def _use(batch: BatchAnalysis, released: dict[str, Any], registered_at: Any) -> str:
    at = released.get(batch.lot_number)
    if at is None:
        return f"production batch, {batch.status}"
    if registered_at is not None and at >= registered_at:
        return f"commercial batch, released {utc_time(at)}"
    return f"development, clinical or validation batch, released {utc_time(at)}"


def _production_tables(session: Session, product_code: str) -> list[dict[str, Any]]:
    batches = batch_results(session, product_code)
    if not batches:
        return []
    released: dict[str, Any] = {}
    for at, lot in launch.release_moments(session, product_code):
        released.setdefault(lot, at)
    registered_at = _registration_approved_at(session, product_code)
    tables = []
    for b in batches:
        made = f"; manufactured {b.manufactured_on.isoformat()}" if b.manufactured_on else ""
        rows = [
            [
                f"{r.test_name or r.test_code} ({r.test_code})",
                r.criterion or "—",
                r.result,
                r.outcome,
            ]
            for r in b.results
        ] or [[NO_DATA, "—", "—", "—"]]
        tables.append(
            table(f"Batch {b.lot_number} — {_use(b, released, registered_at)}{made}", COLUMNS, rows)
        )
    return tables


def collect(session: Session, product_code: str) -> list[dict[str, Any]]:
    studies = [
        s
        for s in stability.studies_of_product(session, product_code)
        if s.status != StudyStatus.DRAFT.value
    ]
    stability_tables = [t for s in studies for t in _stability_batches(session, s)]
    if not any(row[2] != NO_DATA for t in stability_tables for row in t["rows"]):
        stability_tables = []
    production_tables = _production_tables(session, product_code)
    if not stability_tables and not production_tables:
        raise InvalidInput(
            f"no batch data recorded for {product_code}: no stability batch has initial "
            "results and no production batch of the product is known",
            field="product",
        )
    return [
        section(
            "3.2.P.5.4 Batch analyses — development and registration stability batches",
            BASIS,
            tables=stability_tables,
            empty=None if stability_tables else f"stability batches: {NO_DATA}",
        ),
        section(
            "3.2.P.5.4 Batch analyses — production batches (commercial, validation, clinical)",
            BASIS,
            tables=production_tables,
            empty=None if production_tables else f"production batches: {NO_DATA}",
        ),
        section(
            "3.2.P.5.4 Batch analyses — clinical batches made outside this system",
            BASIS,
            empty=f"clinical batches made elsewhere: {NO_DATA} in this system",
        ),
    ]
