"""Demo: one annual product quality review of the demo's tablet, generated from the demo's own
records, concluded by QA and approved by the QP, so the register shows an effective review
beside the years still due. The current year is reviewed as an interim review (the demo's
batches are made in the last twelve months); a year without batches falls back to the one
before."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.figures import section
from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.platform.demo_records import TABLET

AUTHOR, APPROVER = "quinn.qa", "peter.qp"


def _conclusions(figures: dict[str, Any]) -> str:
    """What QA would write, read from the frozen figures (the demo's scale varies them)."""
    batches, results = section(figures, "batches"), section(figures, "oos_oot")
    capable = [p["cpk"] for p in section(figures, "capability").get("parameters", []) if p["cpk"]]
    lines = [
        ("Interim review: the year is not over. " if figures["interim"] else "")
        + f"{batches['made']} batches made, {batches['released']} released, "
        f"{batches['rejected']} rejected.",
        f"Lowest Cpk of the monitored parameters over the year: {min(capable):.2f}."
        if capable
        else "No process capability data.",
        f"{results.get('oos', 0)} OOS and {results.get('oot', 0)} OOT first results; each OOS "
        "is followed in its investigation.",
        f"{section(figures, 'deviations').get('total', 0)} deviations, "
        f"{section(figures, 'complaints').get('total', 0)} complaints, "
        f"{section(figures, 'adverse_events').get('cases', 0)} adverse-event cases in the year.",
        f"{section(figures, 'suppliers').get('not_approved', 0)} supplier(s) of materials used "
        "are not approved on the list today.",
    ]
    return "\n".join(lines)


def load(session: Session, context: DemoContext) -> None:
    author, approver = context.people.get(AUTHOR), context.people.get(APPROVER)
    if author is None or approver is None:
        return
    year = clock.now().year
    try:
        review = service.generate_review(session, actor=author, product=TABLET, year=year)
    except InvalidInput:
        review = service.generate_review(session, actor=author, product=TABLET, year=year - 1)
    service.write_conclusions(
        session,
        actor=author,
        review_id=review.id,
        conclusions=_conclusions(review.figures),
        actions=(
            "1. Qualify or replace the suppliers not approved on the list before their next "
            "lot is used.\n2. Trend the assay results of the next 20 batches against the OOT "
            "rule."
        ),
    )
    service.conclude_review(session, actor=author, review_id=review.id, password=context.password)
    service.approve_review(session, actor=approver, review_id=review.id, password=context.password)


register("compliance: annual product quality review", load)
