"""``pharmaqms demo``: the risk assessments of a demo change and a demo deviation (the loader
lives here because risk, which attaches to records of any module, imports none of them:
deviations score on risk's matrix and changes build on deviations, so risk importing them would
be a cycle)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.risk import demo as risk_demo


def load(session: Session, ctx: DemoContext) -> None:
    change = session.scalars(
        select(ChangeRequest).where(ChangeRequest.title.ilike("Stroke counter%"))
    ).first()
    if change is not None:
        risk_demo.approved_tooling_fmea(
            session, ctx, change_id=change.id, change_raised_at=change.created_at
        )
    mix_up = session.scalars(
        select(Deviation).where(Deviation.title.ilike("Wrong label roll%")).order_by(Deviation.id)
    ).first()
    if mix_up is not None:
        risk_demo.draft_label_fmea(session, ctx, deviation_id=mix_up.id)


register("risk assessments", load)
