"""Where each person stands on each document, and the training matrix (people × documents).

A person's standing on a document is one of:

- current: trained on the version in force, and the training has not fallen due again;
- due: a new version or a refresher is assigned and not yet overdue, and the person holds a
  valid training on an earlier version (the grace period of a revision);
- overdue: an assigned training is past its due date;
- missing: never validly trained on the document (whether or not training is assigned yet).

Only "current" and "due" allow the person to work under the document (``gate.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import User
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentVersion,
)
from pharmaqms.quality.documents.training_port import VersionTraining
from pharmaqms.quality.training.models import (
    DEFAULT_DUE_DAYS,
    Curriculum,
    CurriculumItem,
    JobRole,
    JobRoleAssignment,
    RequirementStatus,
    TrainingRequirement,
)
from pharmaqms.quality.training.reach import job_roles_naming


class Standing(StrEnum):
    CURRENT = "current"
    DUE = "due"
    OVERDUE = "overdue"
    MISSING = "missing"


ALLOWS_WORK = frozenset({Standing.CURRENT, Standing.DUE})


@dataclass(frozen=True)
class Assessment:
    standing: Standing
    open_requirement: TrainingRequirement | None = None
    last_completed: TrainingRequirement | None = None

    @property
    def due_at(self) -> datetime | None:
        return self.open_requirement.due_at if self.open_requirement else None

    @property
    def allows_work(self) -> bool:
        return self.standing in ALLOWS_WORK


def assess(
    requirements: Iterable[TrainingRequirement], current_version_id: int | None, now: datetime
) -> Assessment:
    """One person's standing on one document, from their requirements on it. Pure."""
    completed = [r for r in requirements if r.status == RequirementStatus.COMPLETED]
    assigned = [r for r in requirements if r.status == RequirementStatus.ASSIGNED]
    valid = [r for r in completed if r.expires_at is None or r.expires_at > now]
    last = max(completed, key=lambda r: (r.completed_at or r.created_at, r.id), default=None)
    open_requirement = min(assigned, key=lambda r: (r.due_at, r.id), default=None)
    if any(r.version_id == current_version_id for r in valid):
        return Assessment(Standing.CURRENT, open_requirement, last)
    if open_requirement is not None and open_requirement.due_at < now:
        return Assessment(Standing.OVERDUE, open_requirement, last)
    if open_requirement is not None and valid:
        return Assessment(Standing.DUE, open_requirement, last)
    return Assessment(Standing.MISSING, open_requirement, last)


def assessments(
    session: Session, user_ids: Collection[int], document_ids: Collection[int]
) -> dict[tuple[int, int], Assessment]:
    """The standing of every given person on every given document."""
    if not user_ids or not document_ids:
        return {}
    in_force: dict[int, int | None] = {
        document_id: version_id
        for document_id, version_id in session.execute(
            select(ControlledDocument.id, ControlledDocument.current_version_id).where(
                ControlledDocument.id.in_(list(document_ids)),
                ControlledDocument.status == DocumentStatus.CURRENT,
            )
        )
    }
    found: dict[tuple[int, int], list[TrainingRequirement]] = defaultdict(list)
    for requirement in session.scalars(
        select(TrainingRequirement).where(
            TrainingRequirement.user_id.in_(list(user_ids)),
            TrainingRequirement.document_id.in_(list(document_ids)),
            TrainingRequirement.status != RequirementStatus.CANCELLED,
        )
    ):
        found[(requirement.user_id, requirement.document_id)].append(requirement)
    now = clock.now()
    return {
        (user_id, document_id): assess(
            found.get((user_id, document_id), []), in_force.get(document_id), now
        )
        for user_id in user_ids
        for document_id in document_ids
    }


# --- what curricula require -----------------------------------------------------------------


@dataclass
class Need:
    """Why and how a person needs a document: the strictest of their curriculum items."""

    document_id: int
    due_in_days: int = DEFAULT_DUE_DAYS
    recurrence_months: int | None = None
    job_roles: set[str] = field(default_factory=set)


def required_documents(
    session: Session,
    *,
    user_ids: Collection[int] | None = None,
    job_role_id: int | None = None,
    document_id: int | None = None,
) -> dict[int, dict[int, Need]]:
    """user id → document id → need, from the active job roles of active people."""
    query = (
        select(JobRoleAssignment.user_id, JobRole.name, CurriculumItem)
        .join(JobRole, JobRole.id == JobRoleAssignment.job_role_id)
        .join(Curriculum, Curriculum.job_role_id == JobRole.id)
        .join(CurriculumItem, CurriculumItem.curriculum_id == Curriculum.id)
        .join(User, User.id == JobRoleAssignment.user_id)
        .where(
            JobRoleAssignment.ended_at.is_(None),
            JobRole.retired_at.is_(None),
            Curriculum.retired_at.is_(None),
            CurriculumItem.removed_at.is_(None),
            User.is_active.is_(True),
        )
    )
    if user_ids is not None:
        query = query.where(JobRoleAssignment.user_id.in_(list(user_ids)))
    if job_role_id is not None:
        query = query.where(JobRole.id == job_role_id)
    if document_id is not None:
        query = query.where(CurriculumItem.document_id == document_id)
    needs: dict[int, dict[int, Need]] = defaultdict(dict)
    for user_id, role_name, item in session.execute(query):
        need = needs[user_id].get(item.document_id)
        if need is None:
            need = needs[user_id][item.document_id] = Need(
                item.document_id, item.due_in_days, item.recurrence_months
            )
        else:
            need.due_in_days = min(need.due_in_days, item.due_in_days)
            if item.recurrence_months is not None:
                need.recurrence_months = min(
                    need.recurrence_months or item.recurrence_months, item.recurrence_months
                )
        need.job_roles.add(role_name)
    return dict(needs)


# --- the matrix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixPerson:
    user_id: int
    username: str
    full_name: str
    job_roles: tuple[str, ...]


@dataclass(frozen=True)
class MatrixDocument:
    document_id: int
    number: str
    title: str
    version: str  # the version in force, "2.0"


@dataclass(frozen=True)
class TrainingMatrix:
    people: list[MatrixPerson]
    documents: list[MatrixDocument]
    # Only where a curriculum requires the document of the person.
    cells: dict[tuple[int, int], Assessment]

    def cell(self, user_id: int, document_id: int) -> Assessment | None:
        return self.cells.get((user_id, document_id))

    def counts(self) -> dict[str, int]:
        totals = {s.value: 0 for s in Standing}
        for assessment in self.cells.values():
            totals[assessment.standing.value] += 1
        return totals


def training_matrix(session: Session, *, job_role_id: int | None = None) -> TrainingMatrix:
    """People × documents in force that their curricula require, each cell a standing."""
    needs = required_documents(session, job_role_id=job_role_id)
    document_ids = {d for per_person in needs.values() for d in per_person}
    rows = session.execute(
        select(ControlledDocument, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.id == ControlledDocument.current_version_id)
        .where(
            ControlledDocument.id.in_(sorted(document_ids)),
            ControlledDocument.status == DocumentStatus.CURRENT,
        )
        .order_by(ControlledDocument.number)
    )
    documents = [MatrixDocument(d.id, d.number, d.title, v.label) for d, v in rows]
    in_force = {d.document_id for d in documents}
    users = session.scalars(
        select(User).where(User.id.in_(sorted(needs))).order_by(User.full_name)
    ).all()
    people = [
        MatrixPerson(
            u.id,
            u.username,
            u.full_name,
            tuple(sorted({r for n in needs[u.id].values() for r in n.job_roles})),
        )
        for u in users
    ]
    everyone = assessments(session, [p.user_id for p in people], sorted(in_force))
    cells = {
        (user_id, document_id): everyone[(user_id, document_id)]
        for user_id, per_person in needs.items()
        for document_id in per_person
        if document_id in in_force
    }
    return TrainingMatrix(people, documents, cells)


def training_of_version(session: Session, document_id: int, version_id: int) -> VersionTraining:
    """The training panel of the document page, in the shape document control shows
    (``documents.training_port``, through which training hands it over)."""
    # Active job roles only: a retired role reaches nobody.
    roles = list(job_roles_naming(session, document_id))
    counts: dict[str, int] = {}
    for status in session.scalars(
        select(TrainingRequirement.status).where(TrainingRequirement.version_id == version_id)
    ):
        counts[status] = counts.get(status, 0) + 1
    return VersionTraining(roles, counts)
