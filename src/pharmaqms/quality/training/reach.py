"""Which job roles a document's training reaches: asked by document control before a version
comes into force (through ``documents.training_port``, registered by ``document_control``) and
by the training pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.quality.training.models import Curriculum, CurriculumItem, JobRole


def job_roles_naming(session: Session, document_id: int) -> tuple[str, ...]:
    """The active job roles whose active curricula name the document."""
    return tuple(
        sorted(
            set(
                session.scalars(
                    select(JobRole.name)
                    .join(Curriculum, Curriculum.job_role_id == JobRole.id)
                    .join(CurriculumItem, CurriculumItem.curriculum_id == Curriculum.id)
                    .where(
                        CurriculumItem.document_id == document_id,
                        CurriculumItem.removed_at.is_(None),
                        Curriculum.retired_at.is_(None),
                        JobRole.retired_at.is_(None),
                    )
                )
            )
        )
    )
