"""Demo risk assessments: an approved FMEA of the stroke counter change, and a draft FMEA of
the label mix-up on packaging line 3. Written through the services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.risk import service
from pharmaqms.quality.risk.service import Scores

# (failure mode, effect, cause, scores, controls, residual scores)
FmeaRow = tuple[str, str, str, Scores, str, Scores | None]
TOOLING_FMEA: tuple[FmeaRow, ...] = (
    (
        "Punch tip breaks during compression",
        "Metal fragments in tablets reach patients",
        "Punch fatigue beyond its qualified life",
        Scores(5, 3, 4),
        "Stroke counter with retirement at 5 M; metal detector at 0.3 mm",
        Scores(5, 1, 2),
    ),
    (
        "Counter reading not recorded",
        "Punch set runs past its limit unnoticed",
        "Operator forgets the end-of-batch reading",
        Scores(3, 3, 3),
        "Batch record step that cannot be skipped; supervisor check",
        Scores(3, 1, 2),
    ),
    (
        "Counter reset during maintenance",
        "Life of the punch set is under-counted",
        "Maintenance replaces the counter module",
        Scores(3, 2, 4),
        "Counter value recorded before and after maintenance",
        Scores(3, 1, 2),
    ),
)
LABEL_FMEA: tuple[FmeaRow, ...] = (
    (
        "Label roll of the wrong strength loaded",
        "Packs labelled with the wrong strength",
        "Look-alike rolls stored together",
        Scores(5, 2, 3),
        "Vision system checks the strength text",
        None,
    ),
)


def load(session: Session, ctx: DemoContext) -> None:
    sofia, rosa = ctx.people["sofia.supervisor"], ctx.people["rosa.qa"]
    change = session.scalars(
        select(ChangeRequest).where(ChangeRequest.title.ilike("Stroke counter%"))
    ).first()
    if change is not None:
        with clock.frozen_at(change.created_at + timedelta(days=2)):
            assessment = service.create_assessment(
                session,
                actor=sofia,
                title="FMEA: stroke counting of tablet press tooling",
                scope="Compression step of both tablet presses, from tooling issue to retirement",
                subject_type="change_request",
                subject_id=change.id,
            )
            for failure, effect, cause, scores, controls, residual in TOOLING_FMEA:
                service.add_item(
                    session,
                    actor=sofia,
                    assessment_id=assessment.id,
                    failure_mode=failure,
                    effect=effect,
                    cause=cause,
                    scores=scores,
                    controls=controls,
                    residual=residual,
                )
            service.transition(session, actor=sofia, assessment_id=assessment.id, name="submit")
            service.transition(
                session,
                actor=rosa,
                assessment_id=assessment.id,
                name="approve",
                password=ctx.password,
                comment="residual risks acceptable",
            )
    mix_up = session.scalars(
        select(Deviation).where(Deviation.title.ilike("Wrong label roll%")).order_by(Deviation.id)
    ).first()
    if mix_up is not None:
        draft = service.create_assessment(
            session,
            actor=sofia,
            title="FMEA: label handling at packaging line 3",
            scope="Label issue, line-side storage and loading",
            subject_type="deviation",
            subject_id=mix_up.id,
        )
        for failure, effect, cause, scores, controls, residual in LABEL_FMEA:
            service.add_item(
                session,
                actor=sofia,
                assessment_id=draft.id,
                failure_mode=failure,
                effect=effect,
                cause=cause,
                scores=scores,
                controls=controls,
                residual=residual,
            )


register("risk assessments", load)
