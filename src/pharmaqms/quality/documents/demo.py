"""Demo SOPs in every state of their life, written through the document services.

A version that needs training comes into force only once a job role is named for it, and the
documents in force long ago were read and signed back then: training's demo steps, which
document control may not import (training builds on it). So the loaders take them as
arguments, and ``cli/demo_documents.py`` composes and registers them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext
from pharmaqms.quality.documents import service
from pharmaqms.quality.documents.training_rules import needs_training

# (session, ctx, document id, area): QA names the job role of the area as trained on it.
NameForTraining = Callable[[Session, DemoContext, int, str], None]
# (session, ctx, version id): everyone with training on the version open signs it.
ReadAndSign = Callable[[Session, DemoContext, int], object]

DEMO_DOCUMENTS = (
    (
        "sop",
        "Cleaning and line clearance of the tablet compression area",
        "Production",
        "effective",
    ),
    ("sop", "Handling of out-of-specification laboratory results", "Quality control", "effective"),
    ("sop", "Temperature-controlled storage and distribution (2–8 °C)", "Distribution", "revised"),
    ("sop", "Deviation management", "Quality assurance", "effective"),
    ("sop", "Batch record review and batch release", "Quality assurance", "in_review"),
    ("work_instruction", "Operation of the Fette 2090 tablet press", "Production", "draft"),
    (
        "specification",
        "Paracetamol 500 mg tablets, finished product specification",
        "Quality control",
        "effective",
    ),
    ("policy", "Data integrity policy (ALCOA+)", "Quality assurance", "effective"),
)

BODY = (
    "1. Purpose\n\nThis procedure describes {title_lower} at the Leiden site so that the work "
    "is done the same way every time and the records meet GMP and data integrity expectations."
    "\n\n2. Scope\n\nApplies to all staff of {area} and to contractors working under their "
    "supervision.\n\n3. Responsibilities\n\nThe area supervisor makes sure the procedure is "
    "followed; QA approves changes to it.\n\n4. Procedure\n\n4.1 Prepare the area and check the "
    "status labels.\n4.2 Perform the work as described in the attached work instructions.\n"
    "4.3 Record every step contemporaneously in the electronic record and sign it.\n\n"
    "5. Records\n\nElectronic records are kept in pharmaqms for the retention period."
)


def load(session: Session, ctx: DemoContext, *, name_for_training: NameForTraining) -> None:
    author, approver = ctx.people["chen.qc"], ctx.people["quinn.qa"]
    for doc_type, title, area, target in DEMO_DOCUMENTS:
        body = BODY.format(title_lower=title[0].lower() + title[1:], area=area)
        writer = ctx.people["sofia.supervisor"] if area == "Production" else author
        version = service.create_document(
            session, actor=writer, doc_type=doc_type, title=title, body=body, area=area
        )
        if target == "draft":
            continue
        service.transition(session, actor=writer, version_id=version.id, name="submit")
        if target == "in_review":
            continue
        service.transition(
            session,
            actor=approver,
            version_id=version.id,
            name="approve",
            password=ctx.password,
            comment="reviewed against the current GMP guidance",
        )
        if needs_training(doc_type):
            # The job role of its area is trained on it: its holders have it to read today.
            name_for_training(session, ctx, version.document_id, area)
        service.transition(session, actor=approver, version_id=version.id, name="make_effective")
        if target == "revised":
            revision = service.revise(
                session,
                actor=writer,
                document_id=version.document_id,
                major=False,
                change_summary="Excursion handling aligned with EU GDP 2013/C 343/01 §9.2.",
            )
            service.edit_draft(
                session,
                actor=writer,
                version_id=revision.id,
                expected_version=revision.version,
                body=body + "\n\n6. Excursions\n\nAny excursion outside 2–8 °C is reported as "
                "a deviation within one working day.",
                effective_from=clock.now() + timedelta(minutes=1),
            )
            service.transition(session, actor=writer, version_id=revision.id, name="submit")
            service.transition(
                session,
                actor=ctx.people["rosa.qa"],
                version_id=revision.id,
                name="approve",
                password=ctx.password,
            )


# Documents whose periodic review is overdue, due within the notice period, and not yet due:
# (type, title, area, review period in months, days since the version came into force).
REVIEW_DEMO = (
    ("sop", "Pest control in the warehouse", "Distribution", 12, 395),
    ("sop", "Calibration and daily checks of laboratory balances", "Quality control", 24, 715),
    ("sop", "Handling of returned goods", "Distribution", 12, 200),
)


def load_periodic_reviews(
    session: Session,
    ctx: DemoContext,
    *,
    name_for_training: NameForTraining,
    read_and_sign: ReadAndSign,
) -> None:
    """Documents in force for a while (written with the clock set back, as it happened), then
    today's run of the daily job: reviews opened, the late one flagged."""
    from pharmaqms.kernel.auth import system_actor
    from pharmaqms.quality.documents.periodic_review import open_due_periodic_reviews

    author, approver = ctx.people["chen.qc"], ctx.people["rosa.qa"]
    today = clock.now()
    for doc_type, title, area, period, age_days in REVIEW_DEMO:
        with clock.frozen_at(today - timedelta(days=age_days)):
            body = BODY.format(title_lower=title[0].lower() + title[1:], area=area)
            version = service.create_document(
                session,
                actor=author,
                doc_type=doc_type,
                title=title,
                body=body,
                area=area,
                review_period_months=period,
            )
            service.transition(session, actor=author, version_id=version.id, name="submit")
            service.transition(
                session,
                actor=approver,
                version_id=version.id,
                name="approve",
                password=ctx.password,
            )
            name_for_training(session, ctx, version.document_id, area)
            service.transition(
                session, actor=approver, version_id=version.id, name="make_effective"
            )
            # In force for a long time: read and signed back then.
            read_and_sign(session, ctx, version.id)
    open_due_periodic_reviews(session, actor=system_actor(session))
