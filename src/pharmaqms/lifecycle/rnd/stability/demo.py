"""Demo stability study: three registration batches of the paracetamol tablet at 25 °C/60 % RH
(0-24 months) and 40 °C/75 % RH (0-6 months), assay and impurity A — written by the scientist,
approved by QA, tested by QC, all through the services. One 18-month impurity result is out of
trend and one LIMS sample names a time point the protocol does not have (quarantined). About a
second."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.lifecycle.rnd.stability import service
from pharmaqms.platform.demo_records import TABLET

BATCHES = ("PS2401", "PS2402", "PS2403")
LONG_TERM = (0, 3, 6, 9, 12, 18, 24)
ACCELERATED = (0, 3, 6)
# Per batch: assay start (% of label) and monthly loss at 25/60; impurity A start and gain.
PROFILES = {
    "PS2401": (100.4, 0.080, 0.05, 0.0100),
    "PS2402": (99.9, 0.085, 0.06, 0.0105),
    "PS2403": (100.2, 0.075, 0.05, 0.0095),
}
# Analytical noise, fixed so that the demo is the same every time.
NOISE = (0.18, -0.12, 0.07, -0.21, 0.15, -0.05, 0.1)


def _results() -> list[service.ResultIn]:
    found: list[service.ResultIn] = []
    for batch, (assay0, loss, imp0, gain) in PROFILES.items():
        for i, months in enumerate(LONG_TERM):
            found.append(
                service.ResultIn(
                    batch, "25C60RH", months, "ASSAY", round(assay0 - loss * months + NOISE[i], 1)
                )
            )
            impurity = imp0 + gain * months + NOISE[-1 - i] / 50
            if batch == "PS2402" and months == 18:
                impurity += 0.12  # a jump against the batch's trend: out of trend
            found.append(service.ResultIn(batch, "25C60RH", months, "IMP-A", round(impurity, 3)))
        for i, months in enumerate(ACCELERATED):
            # Faster at 40/75: about five times the long-term rates.
            found.append(
                service.ResultIn(
                    batch,
                    "40C75RH",
                    months,
                    "ASSAY",
                    round(assay0 - 5 * loss * months + NOISE[i], 1),
                )
            )
            found.append(
                service.ResultIn(
                    batch, "40C75RH", months, "IMP-A", round(imp0 + 5 * gain * months, 3)
                )
            )
    # A sample logged against a time point the protocol does not schedule.
    found.append(service.ResultIn("PS2403", "25C60RH", 15, "ASSAY", 99.1))
    return found


def load(session: Session, ctx: DemoContext) -> None:
    rd, qa, qc = ctx.people["rahul.rd"], ctx.people["quinn.qa"], ctx.people["chen.qc"]
    study = service.create_study(
        session,
        actor=rd,
        product_code=TABLET,
        title="Registration stability of Paracetamol 500 mg tablets, PVC/Alu blister",
        purpose="ICH Q1A(R2) registration batches; shelf life per ICH Q1E.",
        start_on=date(2024, 1, 15),
        conditions=[
            {"code": "25C60RH", "role": "long_term", "time_points": list(LONG_TERM)},
            {"code": "40C75RH", "role": "accelerated", "time_points": list(ACCELERATED)},
        ],
        attributes=[
            {"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95.0, "upper": 105.0},
            {"code": "IMP-A", "name": "Impurity A (4-aminophenol)", "unit": "%", "upper": 0.5},
        ],
        batches=list(BATCHES),
    )
    session.flush()
    service.approve_study(session, actor=qa, study_id=study.id, password=ctx.password)
    service.record_results(session, actor=qc, study_id=study.id, results=_results())


register("Stability study", load)
