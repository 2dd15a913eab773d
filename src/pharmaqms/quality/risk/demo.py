"""Demo risk assessments: an approved FMEA of the stroke counter change, and a draft FMEA of
the label mix-up on packaging line 3. Written through the services.

Risk attaches to records of any module and imports none of them: the demo loader that finds
the change and the deviation assessed here, and registers the step, is
``pharmaqms.cli.demo_risk`` (a composing place: deviations score on risk's matrix and changes
build on deviations, so importing them from here would be a cycle)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext
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


def _add_items(
    session: Session, ctx: DemoContext, assessment_id: int, rows: tuple[FmeaRow, ...]
) -> None:
    for failure, effect, cause, scores, controls, residual in rows:
        service.add_item(
            session,
            actor=ctx.people["sofia.supervisor"],
            assessment_id=assessment_id,
            failure_mode=failure,
            effect=effect,
            cause=cause,
            scores=scores,
            controls=controls,
            residual=residual,
        )


def approved_tooling_fmea(
    session: Session, ctx: DemoContext, *, change_id: int, change_raised_at: datetime
) -> None:
    """The stroke counter change's FMEA, two days after the change was raised: scored by
    production, approved by QA."""
    sofia, rosa = ctx.people["sofia.supervisor"], ctx.people["rosa.qa"]
    with clock.frozen_at(change_raised_at + timedelta(days=2)):
        assessment = service.create_assessment(
            session,
            actor=sofia,
            title="FMEA: stroke counting of tablet press tooling",
            scope="Compression step of both tablet presses, from tooling issue to retirement",
            subject_type="change_request",
            subject_id=change_id,
        )
        _add_items(session, ctx, assessment.id, TOOLING_FMEA)
        service.transition(session, actor=sofia, assessment_id=assessment.id, name="submit")
        service.transition(
            session,
            actor=rosa,
            assessment_id=assessment.id,
            name="approve",
            password=ctx.password,
            comment="residual risks acceptable",
        )


def draft_label_fmea(session: Session, ctx: DemoContext, *, deviation_id: int) -> None:
    """The label mix-up deviation's FMEA, still a draft."""
    draft = service.create_assessment(
        session,
        actor=ctx.people["sofia.supervisor"],
        title="FMEA: label handling at packaging line 3",
        scope="Label issue, line-side storage and loading",
        subject_type="deviation",
        subject_id=deviation_id,
    )
    _add_items(session, ctx, draft.id, LABEL_FMEA)
