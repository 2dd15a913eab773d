"""Document control services: the only code that writes documents and their versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task, User
from pharmaqms.kernel.numbering import allocate_number
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality.documents import attachments
from pharmaqms.quality.documents.models import (
    NUMBER_PREFIX,
    ControlledDocument,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    VersionStatus,
)
from pharmaqms.quality.documents.templates import template_for
from pharmaqms.quality.documents.training_port import training
from pharmaqms.quality.documents.workflow import (
    DOCUMENT_VERSION_WORKFLOW,
    training_assigned,
    training_named,
)

OPEN_STATES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)

# Documents whose content is written by a structured record above this layer (a master batch
# record's steps): the owner says, for a document, how it is revised instead (None: not
# theirs). Revising or editing such a document through plain document control would leave
# the structured record behind it — a recipe superseded with no executable successor — so
# the generic path refuses and names the owner's path.
StructuredOwner = Callable[[Session, int], str | None]
_STRUCTURED_OWNERS: dict[str, StructuredOwner] = {}


# Modules above that wait for a version to come into force (a CAPA action "revise SOP-…")
# are told here, after document control has done its own work.
InForceListener = Callable[[Session, DocumentVersion, Actor], None]
_IN_FORCE_LISTENERS: dict[str, InForceListener] = {}


def register_in_force_listener(name: str, listener: InForceListener) -> None:
    _IN_FORCE_LISTENERS[name] = listener


def register_structured_owner(name: str, owner: StructuredOwner) -> None:
    _STRUCTURED_OWNERS[name] = owner


def _refuse_if_structured(
    session: Session, document: ControlledDocument, owner: str | None, doing: str
) -> None:
    for name, claims in sorted(_STRUCTURED_OWNERS.items()):
        if name == owner:
            continue
        path = claims(session, document.id)
        if path is not None:
            raise Conflict(f"{document.number} is not {doing} through document control: {path}")


def _version_number(document: ControlledDocument, major: int, minor: int) -> str:
    return f"{document.number} v{major}.{minor}"


def get_document(session: Session, document_id: int) -> ControlledDocument:
    document = session.get(ControlledDocument, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}")
    return document


def get_version(session: Session, version_id: int) -> DocumentVersion:
    version = session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound(f"no document version with id {version_id}")
    return version


def create_document(
    session: Session,
    *,
    actor: Actor,
    doc_type: str,
    title: str,
    body: str = "",
    area: str = "",
    owner_id: int | None = None,
    review_period_months: int = 24,
    effective_from: datetime | None = None,
) -> DocumentVersion:
    """A new controlled document with its first version (1.0) in draft."""
    actor.require("documents.author", "author documents")
    try:
        kind = DocumentType(doc_type)
    except ValueError:
        raise InvalidInput(
            f"unknown document type {doc_type!r}; one of: "
            + ", ".join(t.value for t in DocumentType),
            field="doc_type",
        ) from None
    title = (title or "").strip()
    if not title:
        raise InvalidInput("a document needs a title", field="title")
    if len(title) > 300:
        raise InvalidInput("the title is longer than 300 characters", field="title")
    if not 1 <= review_period_months <= 60:
        raise InvalidInput(
            "the periodic review period must be 1 to 60 months", field="review_period_months"
        )
    if effective_from is not None and effective_from.tzinfo is None:
        raise InvalidInput("effective_from needs a time zone", field="effective_from")
    if not (body or "").strip():
        # An empty document starts from its type's sections (submitting it unchanged is
        # refused: ``workflow.has_content``).
        body = template_for(kind.value)
    number = allocate_number(session, NUMBER_PREFIX[kind], clock.now().year)
    document = ControlledDocument(
        number=number,
        status=DocumentStatus.IN_DEVELOPMENT,
        doc_type=kind.value,
        title=title,
        area=area.strip(),
        owner_id=owner_id or actor.user_id,
        review_period_months=review_period_months,
    )
    with audit.changes(session, actor=actor, reason="document created"):
        session.add(document)
    version = DocumentVersion(
        number=_version_number(document, 1, 0),
        status=VersionStatus.DRAFT,
        document_id=document.id,
        major=1,
        minor=0,
        title=title,
        body=body,
        change_summary="",
        effective_from=effective_from,
    )
    with audit.changes(session, actor=actor, reason="first version"):
        session.add(version)
    return version


def edit_draft(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    expected_version: int,
    title: str | None = None,
    body: str | None = None,
    change_summary: str | None = None,
    effective_from: datetime | None = None,
    reason: str | None = None,
    owner: str | None = None,
) -> DocumentVersion:
    actor.require("documents.author", "edit documents")
    version = get_version(session, version_id)
    if body is not None or title is not None:
        _refuse_if_structured(session, get_document(session, version.document_id), owner, "edited")
    if version.version != expected_version:
        raise StaleRecord(
            f"{version.number} is at version {version.version}, not {expected_version}: "
            "someone changed it meanwhile; reload it and make your change again",
            extra={"current_version": version.version},
        )
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            f"{version.number} is {version.status}: only a draft can be edited "
            "(return it to draft first)"
        )
    if title is not None and not title.strip():
        raise InvalidInput("the title can't be empty", field="title")
    if effective_from is not None and effective_from.tzinfo is None:
        raise InvalidInput("effective_from needs a time zone", field="effective_from")
    with audit.changes(session, actor=actor, reason=reason):
        if title is not None:
            version.title = title.strip()
        if body is not None:
            version.body = body
        if change_summary is not None:
            version.change_summary = change_summary.strip()
        if effective_from is not None:
            version.effective_from = effective_from
    return version


def revise(
    session: Session,
    *,
    actor: Actor,
    document_id: int,
    major: bool,
    change_summary: str,
    owner: str | None = None,
) -> DocumentVersion:
    """Start a new version from the current effective one (x.y → x.y+1, or x+1.0), with its
    text and its source files. ``owner`` is the structured owner revising its own document."""
    actor.require("documents.author", "revise documents")
    document = get_document(session, document_id)
    if document.status == DocumentStatus.OBSOLETE:
        raise Conflict(f"{document.number} is obsolete and can't be revised")
    _refuse_if_structured(session, document, owner, "revised")
    versions = list(
        session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id))
    )
    in_flight = [v for v in versions if v.status in OPEN_STATES]
    if in_flight:
        raise Conflict(
            f"{document.number} already has version {in_flight[0].label} in "
            f"{in_flight[0].status}: finish or withdraw it first"
        )
    if not change_summary.strip():
        raise InvalidInput("say what changes and why", field="change_summary")
    base = next((v for v in versions if v.id == document.current_version_id), None) or max(
        versions, key=lambda v: (v.major, v.minor)
    )
    latest = max(versions, key=lambda v: (v.major, v.minor))
    new_major, new_minor = (latest.major + 1, 0) if major else (latest.major, latest.minor + 1)
    version = DocumentVersion(
        number=_version_number(document, new_major, new_minor),
        status=VersionStatus.DRAFT,
        document_id=document.id,
        major=new_major,
        minor=new_minor,
        title=base.title,
        body=base.body,
        change_summary=change_summary.strip(),
    )
    with audit.changes(session, actor=actor, reason=f"revision of {base.number}"):
        session.add(version)
    attachments.carry_over(session, actor=actor, source=base, target=version)
    return version


def transition(
    session: Session,
    *,
    actor: Actor,
    version_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    version = get_version(session, version_id)
    return perform(
        session,
        DOCUMENT_VERSION_WORKFLOW,
        version,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )


def on_effective(session: Session, version: DocumentVersion, *, actor: Actor) -> None:
    """The version in force changes: the previous effective version is superseded, an open
    periodic review is moot (the review period restarts), and everyone whose curriculum
    contains the document is assigned read-and-understood training on the new version
    (training's hook, ``training_port``)."""
    # Imported here: it builds on this module.
    from pharmaqms.quality.documents.periodic_review import cancel_open_reviews

    document = get_document(session, version.document_id)
    previous = session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.status == VersionStatus.EFFECTIVE,
            DocumentVersion.id != version.id,
        )
    ).all()
    # The successor is in force first: superseding is only possible once it is (the guard
    # ``superseded_by_a_successor``), so a version is never superseded by nothing.
    with audit.changes(session, actor=actor, reason=f"version {version.label} effective"):
        version.effective_at = clock.now()
        document.current_version_id = version.id
        document.status = DocumentStatus.CURRENT
        document.title = version.title
    for old in previous:
        perform(
            session,
            DOCUMENT_VERSION_WORKFLOW,
            old,
            "supersede",
            actor=actor,
            reason=f"superseded by version {version.label}",
        )
        with audit.changes(session, actor=actor, reason=f"superseded by {version.label}"):
            old.superseded_at = clock.now()
    cancel_open_reviews(
        session,
        document.id,
        actor=actor,
        reason=f"version {version.label} became effective: the review period restarts",
    )
    people = training().on_version_effective(session, version, actor)
    # What came of it stays in the trail beside the change of state: who is to read it.
    audit.record_event(
        session,
        actor=actor,
        action="training_assigned",
        record=version,
        details={
            "people": len(people),
            "job_roles": list(training().job_roles_naming(session, document.id)),
        },
        reason=training_assigned(version),
    )
    for _name, listener in sorted(_IN_FORCE_LISTENERS.items()):
        listener(session, version, actor)


def on_obsolete(session: Session, version: DocumentVersion, *, actor: Actor) -> None:
    """Nothing is in force any more: no review is due and no training can be completed."""
    from pharmaqms.quality.documents.periodic_review import cancel_open_reviews

    document = get_document(session, version.document_id)
    with audit.changes(session, actor=actor, reason=f"version {version.label} made obsolete"):
        document.status = DocumentStatus.OBSOLETE
        document.retired_at = clock.now()
    reason = f"{document.number} made obsolete"
    cancel_open_reviews(session, document.id, actor=actor, reason=reason)
    training().on_document_obsolete(session, document, actor)


NAME_TRAINING_TASK = "name_training"


def _ask_owner_to_name_training(
    session: Session, version: DocumentVersion, reasons: list[str], *, actor: Actor
) -> None:
    """The version stays approved; its document's owner is told why, once (a later run finds
    the task open and says nothing more)."""
    waiting = session.scalars(
        select(Task.id).where(
            Task.record_type == version.__audit_type__,
            Task.record_id == version.id,
            Task.kind == NAME_TRAINING_TASK,
            Task.status == "open",
        )
    ).first()
    if waiting is not None:
        return
    owner = session.get(User, version.document.owner_id)
    active = owner is not None and owner.is_active and not owner.is_service_account
    tasks.open_task(
        session,
        version,
        actor=actor,
        kind=NAME_TRAINING_TASK,
        title=f"{version.number} was not made effective on its date: {'; '.join(reasons)}",
        user_id=owner.id if active and owner is not None else None,
        role=None if active else "qa",
        due_in=timedelta(days=3),
    )


def make_due_versions_effective(session: Session, *, actor: Actor) -> list[DocumentVersion]:
    """The scheduled job: approved versions whose effective date has come become effective.
    A version whose training is not named yet stays approved and its document's owner gets a
    task saying why (the job never fails on it: the others still come into force)."""
    due = session.scalars(
        select(DocumentVersion)
        .where(
            DocumentVersion.status == VersionStatus.APPROVED,
            DocumentVersion.effective_from.is_not(None),
            DocumentVersion.effective_from <= clock.now(),
        )
        .order_by(DocumentVersion.effective_from)
    ).all()
    made = []
    for version in due:
        refused = training_named(version)
        if refused:
            _ask_owner_to_name_training(session, version, refused, actor=actor)
            continue
        perform(session, DOCUMENT_VERSION_WORKFLOW, version, "make_effective", actor=actor)
        made.append(version)
    return made


def versions_to_compare(
    session: Session, document_id: int, from_id: int, to_id: int
) -> tuple[DocumentVersion, DocumentVersion]:
    """Two versions of one document, to be read side by side."""
    document = get_document(session, document_id)
    found = []
    for version_id, field in ((from_id, "from"), (to_id, "to")):
        version = session.get(DocumentVersion, version_id)
        if version is None or version.document_id != document.id:
            raise InvalidInput(
                f"{document.number} has no version with id {version_id}", field=field
            )
        found.append(version)
    return found[0], found[1]


@dataclass(frozen=True)
class DocumentRow:
    document: ControlledDocument
    current: DocumentVersion | None
    latest: DocumentVersion


def list_documents(
    session: Session,
    *,
    doc_type: str | None = None,
    status: str | None = None,
    q: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[DocumentRow]:
    query = _documents_query(doc_type=doc_type, status=status, q=q)
    return [
        document_row(document) for document in session.scalars(query.limit(limit).offset(offset))
    ]


def count_documents(
    session: Session,
    *,
    doc_type: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> int:
    query = _documents_query(doc_type=doc_type, status=status, q=q)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _documents_query(
    *, doc_type: str | None, status: str | None, q: str | None
) -> Select[ControlledDocument]:
    # Ordered by number, then id: a page boundary falls in the same place on every request.
    query = select(ControlledDocument).order_by(ControlledDocument.number, ControlledDocument.id)
    if doc_type:
        query = query.where(ControlledDocument.doc_type == doc_type)
    if status:
        query = query.where(ControlledDocument.status == status)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(
            ControlledDocument.title.ilike(like) | ControlledDocument.number.ilike(like)
        )
    return query


def document_row(document: ControlledDocument) -> DocumentRow:
    """A document with its version in force and its latest version (perhaps a draft)."""
    versions = document.versions
    current = next((v for v in versions if v.id == document.current_version_id), None)
    latest = max(versions, key=lambda v: (v.major, v.minor))
    return DocumentRow(document, current, latest)
