"""Demo signals: one detection run over the demo's case base (the openFDA/FAERS reports the
platform demo delivers become cases), as the demo's PV officer, and the first signal it opens
validated with her signature, so the dashboard shows a register with a signal at each stage."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.lifecycle.use.signals import detection, service

PV_OFFICER = "vera.pv"


def load(session: Session, context: DemoContext) -> None:
    officer = context.people.get(PV_OFFICER)
    if officer is None:
        return
    outcome = detection.run_detection(session, actor=officer)
    session.flush()
    if outcome.opened:
        first = outcome.opened[0]
        service.validate_signal(
            session,
            actor=officer,
            signal_id=first.id,
            password=context.password,
            comment="Cases reviewed: the disproportion is not explained by a reporting artefact.",
        )


register("pharmacovigilance: signals", load)
