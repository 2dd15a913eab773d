"""Training gates work: a person may only take a step governed by a document while their
training on it is current (or a revision of it is due, within its grace period).

Two ways to govern a step:

- declaratively, for any workflow transition: QA maintains rules "record type, transition →
  document" (``add_governing_document``); the workflow gate below checks them inside
  ``kernel.workflow.perform``, before any signature is asked for or anything is written;
- explicitly, for steps that are not workflow transitions (a batch record step, a weighing):
  the module calls ``require_current_training(session, actor, ["SOP-2026-0004"])`` before it
  writes, inside the same unit of work.

Either way the refusal is ``TrainingMissing`` (403, code ``training_missing``) naming every
document the person is not trained on and why. Service accounts (the system, integrations)
are not gated: training is for people, and they can't sign.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TrainingMissing,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.workflow import Transition
from pharmaqms.quality.documents.models import ControlledDocument, DocumentStatus
from pharmaqms.quality.training.models import GoverningDocument, TrainingRequirement
from pharmaqms.quality.training.status import Assessment, Standing, assessments

EVERY_TRANSITION = "*"

# Signed steps a module takes without ``kernel.workflow.perform`` (a CAPA's effectiveness
# verdict): rules govern them by name like transitions, and the module calls
# ``require_training_for_step`` before it signs.
SIGNED_STEPS: dict[str, tuple[str, ...]] = {}


def register_signed_step(record_type: str, name: str) -> None:
    known = SIGNED_STEPS.get(record_type, ())
    if name not in known:
        SIGNED_STEPS[record_type] = (*known, name)


def governable_steps(record_type: str) -> list[str]:
    """The transitions of the record type's workflow and its signed steps outside it."""
    known = RECORD_TYPES.get(record_type)
    transitions = [t.name for t in known.workflow.transitions] if known is not None else []
    return transitions + [s for s in SIGNED_STEPS.get(record_type, ()) if s not in transitions]


def _explain(document: ControlledDocument, assessment: Assessment) -> str:
    name = f"{document.number} {document.title}"
    open_req, last = assessment.open_requirement, assessment.last_completed
    if assessment.standing == Standing.OVERDUE and open_req is not None:
        return (
            f"{name}: training {open_req.number} on {open_req.version_number} overdue since "
            f"{open_req.due_at:%Y-%m-%d}"
        )
    if open_req is not None:
        return (
            f"{name}: training {open_req.number} on {open_req.version_number} assigned "
            f"(due {open_req.due_at:%Y-%m-%d}) but not completed"
        )
    if last is not None and last.expires_at is not None and last.expires_at <= clock.now():
        return f"{name}: training fell due again on {last.expires_at:%Y-%m-%d}"
    if last is not None:
        return f"{name}: trained on {last.version_number} only, not on the version in force"
    return f"{name}: never trained"


def require_current_training(
    session: Session, actor: Actor, document_numbers: Iterable[str]
) -> None:
    """Refuse (``TrainingMissing``) unless the actor may work under every one of these
    documents. Call it before writing anything; it writes nothing itself."""
    if actor.is_service_account:
        return
    numbers = sorted({n.strip() for n in document_numbers if n.strip()})
    if not numbers:
        return
    documents = {
        d.number: d
        for d in session.scalars(
            select(ControlledDocument).where(ControlledDocument.number.in_(numbers))
        )
    }
    standing = assessments(session, [actor.user_id], [d.id for d in documents.values()])
    reasons: list[str] = []
    missing: list[dict[str, Any]] = []
    for number in numbers:
        document = documents.get(number)
        if document is None or document.status != DocumentStatus.CURRENT:
            reasons.append(f"{number}: not a document in force, so nobody can be trained on it")
            missing.append({"document": number, "standing": "not_in_force"})
            continue
        assessment = standing[(actor.user_id, document.id)]
        if assessment.allows_work:
            continue
        reasons.append(_explain(document, assessment))
        open_req = assessment.open_requirement
        missing.append(
            {
                "document": number,
                "standing": assessment.standing.value,
                "requirement": open_req.number if open_req else None,
                "due_at": open_req.due_at.isoformat() if open_req else None,
            }
        )
    if reasons:
        raise TrainingMissing(
            f"{actor.full_name} ({actor.username}) is not trained for this step: "
            + "; ".join(reasons),
            reasons=reasons,
            extra={"missing_training": missing},
        )


# --- which documents govern which steps -----------------------------------------------------


def governing_documents(
    session: Session, record_type: str, transition: str
) -> list[ControlledDocument]:
    return list(
        session.scalars(
            select(ControlledDocument)
            .join(GoverningDocument, GoverningDocument.document_id == ControlledDocument.id)
            .where(
                GoverningDocument.record_type == record_type,
                or_(
                    GoverningDocument.transition == transition,
                    GoverningDocument.transition == EVERY_TRANSITION,
                ),
                GoverningDocument.retired_at.is_(None),
            )
            .order_by(ControlledDocument.number)
        )
    )


def governing_rules(
    session: Session, *, include_retired: bool = False
) -> list[tuple[GoverningDocument, ControlledDocument]]:
    query = select(GoverningDocument, ControlledDocument).join(
        ControlledDocument, ControlledDocument.id == GoverningDocument.document_id
    )
    if not include_retired:
        query = query.where(GoverningDocument.retired_at.is_(None))
    order = (GoverningDocument.record_type, GoverningDocument.transition, ControlledDocument.number)
    return list(session.execute(query.order_by(*order)))


def add_governing_document(
    session: Session,
    *,
    actor: Actor,
    record_type: str,
    transition: str,
    document_id: int,
    reason: str,
) -> GoverningDocument:
    """From now on, only people trained on the document may take this step."""
    actor.require("training.manage", "decide which documents govern which steps")
    known = RECORD_TYPES.get(record_type)
    if known is None:
        raise InvalidInput(
            f"unknown record type {record_type!r}; known: {', '.join(sorted(RECORD_TYPES))}",
            field="record_type",
        )
    if record_type == "training_requirement":
        # Training on the training itself would lock everybody out of ever completing it.
        raise InvalidInput(
            "training requirements can't be governed by training", field="record_type"
        )
    names = governable_steps(record_type)
    if transition != EVERY_TRANSITION and transition not in names:
        raise InvalidInput(
            f"{record_type} has no transition {transition!r}; one of: {', '.join(names)}, or *",
            field="transition",
        )
    document = session.get(ControlledDocument, document_id)
    if document is None:
        raise NotFound(f"no document with id {document_id}")
    if document.status == DocumentStatus.OBSOLETE:
        raise Conflict(
            f"{document.number} is obsolete: it can't govern anything", field="document_id"
        )
    if not reason.strip():
        raise InvalidInput("say why the step is governed by this document", field="reason")
    rule = session.scalars(
        select(GoverningDocument).where(
            GoverningDocument.record_type == record_type,
            GoverningDocument.transition == transition,
            GoverningDocument.document_id == document_id,
        )
    ).one_or_none()
    if rule is not None and rule.retired_at is None:
        raise Conflict(f"{record_type}.{transition} is already governed by {document.number}")
    with audit.changes(session, actor=actor, reason=reason):
        if rule is None:
            rule = GoverningDocument(
                record_type=record_type, transition=transition, document_id=document_id
            )
            session.add(rule)
        else:
            rule.retired_at = None
    return rule


def retire_governing_document(
    session: Session, *, actor: Actor, rule_id: int, reason: str
) -> GoverningDocument:
    actor.require("training.manage", "decide which documents govern which steps")
    rule = session.get(GoverningDocument, rule_id)
    if rule is None:
        raise NotFound(f"no governing document rule with id {rule_id}")
    if rule.retired_at is not None:
        raise Conflict("the rule is already retired")
    if not reason.strip():
        raise InvalidInput(
            "say why the step is no longer governed by this document", field="reason"
        )
    with audit.changes(session, actor=actor, reason=reason, action="retire"):
        rule.retired_at = clock.now()
    return rule


# --- the workflow gates (registered in workflow.py) -----------------------------------------


def require_training_for_step(session: Session, actor: Actor, record: GxPRecord, step: str) -> None:
    """The training gate for one step of a record, by name: a workflow transition (what the
    registered gate checks inside ``perform``) or a signed step a module takes directly (a
    change's function approval is its ``approve``; a CAPA's effectiveness verdict). Call it
    before signing or writing anything."""
    if isinstance(record, TrainingRequirement):
        return
    documents = governing_documents(session, record.__audit_type__, step)
    if documents:
        require_current_training(session, actor, [d.number for d in documents])


def governed_steps_need_current_training(
    session: Session, actor: Actor, record: GxPRecord, transition: Transition
) -> None:
    require_training_for_step(session, actor, record, transition.name)


def only_the_trainee_signs(
    session: Session, actor: Actor, record: GxPRecord, transition: Transition
) -> None:
    # Read-and-understood is personal: nobody signs it on someone else's behalf, whatever
    # their role (the workflow's roles only say who can be a trainee at all).
    if (
        isinstance(record, TrainingRequirement)
        and transition.name == "complete"
        and record.user_id != actor.user_id
    ):
        raise PermissionDenied(
            f"{record.number} is another person's training: only the trainee signs "
            "their own read and understood"
        )
