"""Steps the demo loaders of several modules share to train people on the documents they
bring into force: name the job role a document applies to (before its version comes into
force, as document control requires), and have the people read and sign what they were
assigned. Through the training services, so all of it is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext
from pharmaqms.quality.documents.models import DocumentVersion
from pharmaqms.quality.training import curricula, service
from pharmaqms.quality.training.models import RequirementStatus, TrainingRequirement

# Where the demo's documents are trained, by area: (job role, curriculum). The training demo
# defines these job roles with their holders; a loader run alone defines them without.
TRAINED_IN: dict[str, tuple[str, str]] = {
    "Production": ("Tablet press operator", "Compression"),
    "Quality control": ("QC analyst — chromatography", "Chromatography"),
    "Quality assurance": ("QA specialist", "Quality system"),
    "Distribution": ("Warehouse and distribution operator", "Goods in"),
}


def name_for_training(session: Session, ctx: DemoContext, document_id: int, area: str) -> None:
    """QA names the job role of the document's area as the one trained on it."""
    job_role, curriculum = TRAINED_IN.get(area, TRAINED_IN["Quality assurance"])
    curricula.name_in_curriculum(
        session,
        actor=ctx.people["quinn.qa"],
        job_role=job_role,
        curriculum=curriculum,
        document_id=document_id,
        area=area if area in TRAINED_IN else "Quality assurance",
    )


def read_and_sign(
    session: Session,
    ctx: DemoContext,
    version_id: int,
    *,
    also: tuple[str, ...] = (),
    reason: str = "",
) -> list[str]:
    """Everyone with training on the version open signs it; the people named in ``also`` are
    first assigned it directly if nothing assigned it to them. Returns the training numbers."""
    by_id = {actor.user_id: actor for actor in ctx.people.values()}
    qa = ctx.people["quinn.qa"]
    open_ones = list(
        session.scalars(
            select(TrainingRequirement)
            .where(
                TrainingRequirement.version_id == version_id,
                TrainingRequirement.status == RequirementStatus.ASSIGNED,
            )
            .order_by(TrainingRequirement.id)
        )
    )
    covered = {r.user_id for r in open_ones}
    version = session.get(DocumentVersion, version_id)
    assert version is not None
    for username in also:
        person = ctx.people[username]
        if person.user_id in covered:
            continue
        open_ones.append(
            service.assign_training(
                session,
                actor=qa,
                user_id=person.user_id,
                document_id=version.document_id,
                reason=reason or "works under the document",
            )
        )
    session.flush()
    numbers = []
    for requirement in open_ones:
        trainee = by_id.get(requirement.user_id)
        if trainee is None:
            continue
        service.open_for_reading(session, actor=trainee, requirement_id=requirement.id)
        service.complete_training(
            session, actor=trainee, requirement_id=requirement.id, password=ctx.password
        )
        numbers.append(requirement.number)
    return numbers
