"""Training's registration with document control (``quality/documents/training_port.py``):
document control may not import training (training builds on it), so training hands it the
facts and hooks it needs at import. ``pharmaqms.schema`` loads this module for every entry
point."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents import training_port
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion
from pharmaqms.quality.training import service
from pharmaqms.quality.training.models import TrainingRequirement
from pharmaqms.quality.training.reach import job_roles_naming
from pharmaqms.quality.training.status import training_of_version


def people_trained_on(session: Session, version_id: int) -> int:
    people = session.scalar(
        select(func.count(func.distinct(TrainingRequirement.user_id))).where(
            TrainingRequirement.version_id == version_id
        )
    )
    return people or 0


def on_version_effective(session: Session, version: DocumentVersion, actor: Actor) -> set[int]:
    return {r.user_id for r in service.on_version_effective(session, version, actor=actor)}


def on_document_obsolete(session: Session, document: ControlledDocument, actor: Actor) -> None:
    service.on_document_obsolete(session, document, actor=actor)


training_port.register(
    training_port.TrainingPort(
        job_roles_naming=job_roles_naming,
        people_trained_on=people_trained_on,
        on_version_effective=on_version_effective,
        on_document_obsolete=on_document_obsolete,
        of_version=training_of_version,
    )
)
