"""A year of QC on the demo tablet: EU and US specifications, two batches a month tested and
certified as it happened (the clock set back to each test), and the cases a QC lab lives with —
an OOS confirmed in phase II (its nonconforming product record follows), an OOS invalidated by a
proven laboratory error with its retest, and a slow upward drift that the trend rule catches on
the latest batch."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.qc import investigations, results, specifications
from pharmaqms.lifecycle.production.qc.demo_steps import approve_specification, certify, gtin
from pharmaqms.lifecycle.production.qc.models import Specification
from pharmaqms.lifecycle.production.qc.workflow import OOS_WORKFLOW
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Product

PRODUCT = "PARA500"
APPEARANCE_TEXT = "white, round, biconvex tablet"
EU_TESTS = (
    specifications.TestInput(
        "ASSAY",
        "Assay (HPLC)",
        "numeric",
        "%",
        95.0,
        105.0,
        1,
        method="QC-HPLC-012",
        trend_rule="both",
        trend_window=10,
    ),
    specifications.TestInput(
        "DISS",
        "Dissolution, 30 min (Q)",
        "numeric",
        "%",
        80.0,
        None,
        0,
        method="Ph. Eur. 2.9.3",
        trend_rule="mean_ks",
        trend_window=12,
    ),
    specifications.TestInput(
        "APPEAR", "Appearance", "list", allowed_values=(APPEARANCE_TEXT,), method="visual"
    ),
)
US_TESTS = (
    specifications.TestInput("ASSAY", "Assay (HPLC)", "numeric", "%", 90.0, 110.0, 1, method="USP"),
    specifications.TestInput(
        "DISS", "Dissolution, 30 min (Q)", "numeric", "%", 75.0, None, 0, method="USP <711>"
    ),
)
CHECKS_OK = dict.fromkeys(investigations.PHASE1_CHECKS, "ok")
# The last six batches drift upward: inside the specification, out of trend.
DRIFT = (100.3, 100.5, 100.8, 101.0, 101.3, 101.6)


def _product(session: Session, ctx: DemoContext) -> None:
    if session.scalars(select(Product.id).where(Product.code == PRODUCT)).first() is None:
        masterdata.add_product(
            session,
            actor=ctx.people["amelia.admin"],
            gtin=gtin("0871234500010"),
            code=PRODUCT,
            name="Paracetamol 500 mg tablets",
            dosage_form="tablet",
            strength="500 mg",
        )


def _confirmed_oos(session: Session, ctx: DemoContext, investigation_id: int) -> None:
    analyst, qa = ctx.people["chen.qc"], ctx.people["quinn.qa"]
    inv = investigations.record_phase1(
        session,
        actor=analyst,
        investigation_id=investigation_id,
        findings="Sample, standard, system suitability and calculation re-checked: all correct.",
        checklist=CHECKS_OK,
        assignable_cause=False,
    )
    # The analyst who ran the test does not sign the review of it: a second QA person does.
    reviewer = ctx.people["rosa.qa"]
    perform(session, OOS_WORKFLOW, inv, "escalate", actor=reviewer, password=ctx.password)
    investigations.record_phase2(
        session,
        actor=analyst,
        investigation_id=investigation_id,
        manufacturing_review="Batch record: blend time at step 5 stopped at 6 of 10 min "
        "(timer fault, deviation not raised at the time).",
        root_cause="Under-blending: API not uniformly distributed.",
        conclusion="confirmed",
        conclusion_rationale="Manufacturing root cause found; no laboratory error.",
        impact_on_other_lots="Blender timer checked on the batches before and after: correct.",
    )
    perform(session, OOS_WORKFLOW, inv, "submit_conclusion", actor=analyst)
    perform(session, OOS_WORKFLOW, inv, "approve_conclusion", actor=qa, password=ctx.password)


def _lab_error(session: Session, ctx: DemoContext, investigation_id: int) -> None:
    analyst, qa = ctx.people["chen.qc"], ctx.people["quinn.qa"]
    inv = investigations.record_phase1(
        session,
        actor=analyst,
        investigation_id=investigation_id,
        findings="Standard solution prepared from the wrong reference standard lot (expired).",
        checklist={**CHECKS_OK, "standards_reagents": "error"},
        assignable_cause=True,
        lab_error_evidence="Reference standard log: lot RS-0417 (expired 2 days before) used; "
        "re-injection with RS-0522 gives 100.1 %.",
    )
    perform(
        session,
        OOS_WORKFLOW,
        inv,
        "invalidate_lab_error",
        actor=qa,
        password=ctx.password,
        reason="expired reference standard proven by the standard log",
    )
    with clock.frozen_at(clock.now() + timedelta(hours=6)):
        investigations.record_retest(
            session,
            actor=analyst,
            investigation_id=investigation_id,
            tested_at=clock.now() - timedelta(hours=1),
            value=100.1,
            unit="%",
        )
        perform(session, OOS_WORKFLOW, inv, "close_after_retest", actor=qa, password=ctx.password)


def load(session: Session, ctx: DemoContext) -> None:
    if session.scalars(select(Specification.id).where(Specification.item_code == PRODUCT)).first():
        return
    _product(session, ctx)
    analyst, supervisor = ctx.people["chen.qc"], ctx.people["sofia.supervisor"]
    now = clock.now()
    with clock.frozen_at(now - timedelta(days=380)):
        eu = approve_specification(
            session,
            ctx,
            subject_kind="product",
            item_code=PRODUCT,
            market="EU",
            title="Paracetamol 500 mg tablets, release (EU)",
            tests=EU_TESTS,
        )
        approve_specification(
            session,
            ctx,
            subject_kind="product",
            item_code=PRODUCT,
            market="US",
            title="Paracetamol 500 mg tablets, release (US)",
            tests=US_TESTS,
        )
    count = max(8, round(24 * ctx.scale))
    confirmed_at, lab_error_at = count // 3, (2 * count) // 3
    for index in range(count):
        made = now - timedelta(days=365 - index * (350 // count))
        number = f"PQ{made:%y}-{index + 1:03d}"
        with clock.frozen_at(made):
            lot = masterdata.add_lot(
                session,
                actor=supervisor,
                kind="finished",
                item_code=PRODUCT,
                lot_number=number,
                quantity=250_000.0,
                unit="tablets",
                manufactured_on=made.date(),
                manufacturing_ended_at=made,
                expires_on=date(made.year + 3, made.month, 1) - timedelta(days=1),
            )
        tested = made + timedelta(days=2)
        assay = round(ctx.rng.gauss(100.0, 0.5), 1)
        if index >= count - len(DRIFT):
            assay = DRIFT[index - (count - len(DRIFT))]
        if index == confirmed_at:
            assay = 93.4
        if index == lab_error_at:
            assay = 91.2
        with clock.frozen_at(tested):
            sample = f"S-{number}"
            at = tested - timedelta(hours=2)
            recorded = results.record_result(
                session,
                actor=analyst,
                lot_id=lot.id,
                sample_id=sample,
                test_code="ASSAY",
                tested_at=at,
                value=assay,
                unit="%",
            )
            results.record_result(
                session,
                actor=analyst,
                lot_id=lot.id,
                sample_id=sample,
                test_code="DISS",
                tested_at=at,
                value=float(round(ctx.rng.gauss(89.0, 2.0))),
                unit="%",
            )
            results.record_result(
                session,
                actor=analyst,
                lot_id=lot.id,
                sample_id=sample,
                test_code="APPEAR",
                tested_at=at,
                text_value=APPEARANCE_TEXT,
            )
            if recorded.investigation is not None and index == confirmed_at:
                _confirmed_oos(session, ctx, recorded.investigation.id)
                continue
            if recorded.investigation is not None and index == lab_error_at:
                _lab_error(session, ctx, recorded.investigation.id)
        if index >= count - 2:
            continue  # the latest batches are still being reviewed
        with clock.frozen_at(tested + timedelta(days=1)):
            certify(session, ctx, lot.id, eu)


register("production: QC testing", load)
