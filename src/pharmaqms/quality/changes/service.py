"""Change control services: request, impact assessment, function approvals, implementation
tasks and the effectiveness review. The only code that writes change requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth, clock, tasks
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import User
from pharmaqms.kernel.signatures import sign
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality import common, links
from pharmaqms.quality.changes import authority, rules
from pharmaqms.quality.changes.models import (
    FUNCTION_ROLE,
    ActionKind,
    ActionStatus,
    ChangeAction,
    ChangeApproval,
    ChangeFunction,
    ChangeImpact,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    Decision,
    ImpactArea,
    RegulatoryCategory,
)
from pharmaqms.quality.changes.workflow import CHANGE_WORKFLOW, REQUESTERS
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion
from pharmaqms.quality.training.gate import require_training_for_step
from pharmaqms.quality.training.models import RequirementStatus, TrainingRequirement


def get_change(session: Session, change_id: int) -> ChangeRequest:
    return common.get_or_404(session, ChangeRequest, change_id, "change request")


def _person(session: Session, user_id: int, field: str, what: str) -> int:
    user = common.active_user(session, user_id, field, what)
    if not set(user.roles) & set(REQUESTERS):
        raise InvalidInput(
            f"{what}: {user.full_name} holds none of the roles that carry out changes",
            field=field,
        )
    return user.id


def request_change(
    session: Session,
    *,
    actor: Actor,
    title: str,
    description: str,
    justification: str,
    change_type: str = ChangeType.PERMANENT.value,
    owner_id: int | None = None,
) -> ChangeRequest:
    actor.require("changes.request", "request changes")
    change = ChangeRequest(
        status=ChangeStatus.DRAFT.value,
        title=common.required_text(title, "title", "a title", max_length=300),
        description=common.required_text(
            description, "description", "a description of the change", max_length=20_000
        ),
        justification=common.required_text(
            justification, "justification", "the justification of the change", max_length=20_000
        ),
        change_type=common.choice(
            change_type, "change_type", [t.value for t in ChangeType], "the type of change"
        ),
        owner_id=_person(session, owner_id, "owner_id", "the change owner")
        if owner_id is not None
        else actor.user_id,
        regulatory_rationale="",
        functions=[],
        approval_round=0,
        effectiveness_summary="",
    )
    with audit.changes(session, actor=actor, reason="change requested"):
        session.add(change)
    return change


def edit_change(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    expected_version: int,
    title: str | None = None,
    description: str | None = None,
    justification: str | None = None,
    change_type: str | None = None,
    reason: str | None = None,
) -> ChangeRequest:
    change = get_change(session, change_id)
    common.check_version(change, expected_version)
    common.require_status(
        change, (ChangeStatus.DRAFT, ChangeStatus.IMPACT_ASSESSMENT), "changing the request"
    )
    if actor.user_id not in (change.created_by_id, change.owner_id):
        actor.require("changes.assess", "change someone else's change request")
    with audit.changes(session, actor=actor, reason=reason):
        if title is not None:
            change.title = common.required_text(title, "title", "a title", max_length=300)
        if description is not None:
            change.description = common.required_text(
                description, "description", "a description", max_length=20_000
            )
        if justification is not None:
            change.justification = common.required_text(
                justification, "justification", "the justification", max_length=20_000
            )
        if change_type is not None:
            change.change_type = common.choice(
                change_type, "change_type", [t.value for t in ChangeType], "the type of change"
            )
    return change


@dataclass(frozen=True)
class ImpactInput:
    area: str
    impacted: bool
    assessment: str


def assess_impact(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    impacts: Sequence[ImpactInput],
    regulatory_category: str,
    regulatory_rationale: str,
    functions: Sequence[str],
    reason: str | None = None,
) -> ChangeRequest:
    """QA's impact assessment across the lifecycle: each area impacted or not and why, how
    the change is reported to the authorities, and which functions must approve it."""
    actor.require("changes.assess", "assess the impact of changes")
    change = get_change(session, change_id)
    common.require_status(change, (ChangeStatus.IMPACT_ASSESSMENT,), "the impact assessment")
    areas = [i.area for i in impacts]
    if len(set(areas)) != len(areas):
        raise InvalidInput("an area is assessed twice", field="impacts")
    for item in impacts:
        common.choice(item.area, "impacts", [a.value for a in ImpactArea], "the impact area")
        common.required_text(
            item.assessment, "impacts", f"the assessment of the impact on {item.area}"
        )
    category = common.choice(
        regulatory_category,
        "regulatory_category",
        [c.value for c in RegulatoryCategory],
        "the regulatory reporting category",
    )
    rationale = common.required_text(
        regulatory_rationale, "regulatory_rationale", "the rationale of the reporting category"
    )
    chosen = list(dict.fromkeys(functions))
    for function in chosen:
        common.choice(
            function, "functions", [f.value for f in ChangeFunction], "an approving function"
        )
    if ChangeFunction.QUALITY_ASSURANCE.value not in chosen:
        raise InvalidInput("quality assurance approves every change", field="functions")
    existing = {i.area: i for i in change.impacts}
    now = clock.now()
    with audit.changes(session, actor=actor, reason=reason or "impact assessed"):
        for item in impacts:
            text = item.assessment.strip()
            row = existing.get(item.area)
            if row is None:
                change.impacts.append(
                    ChangeImpact(
                        area=item.area,
                        impacted=item.impacted,
                        assessment=text,
                        assessed_by_id=actor.user_id,
                        assessed_at=now,
                    )
                )
            elif (row.impacted, row.assessment) != (item.impacted, text):
                row.impacted = item.impacted
                row.assessment = text
                row.assessed_by_id = actor.user_id
                row.assessed_at = now
        change.regulatory_category = category
        change.regulatory_rationale = rationale
        change.functions = chosen
    return change


def decide_as_function(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    function: str,
    approve: bool,
    password: str | None,
    comment: str | None = None,
) -> ChangeApproval:
    """One impacted function's signed decision. The last approval moves the change into
    implementation; a rejection ends it."""
    actor.require("changes.approve", "approve changes")
    change = get_change(session, change_id)
    common.require_status(change, (ChangeStatus.APPROVAL,), "a function's decision")
    chosen = common.choice(function, "function", [f.value for f in ChangeFunction], "the function")
    if chosen not in change.functions:
        raise InvalidInput(
            f"{chosen.replace('_', ' ')} is not among the functions approving {change.number} "
            f"({', '.join(change.functions)})",
            field="function",
        )
    role = FUNCTION_ROLE[ChangeFunction(chosen)]
    if role not in actor.roles:
        raise PermissionDenied(
            f"signing for {chosen.replace('_', ' ')} needs the role {role}; "
            f"{actor.username} holds {', '.join(sorted(actor.roles)) or 'none'}"
        )
    if actor.user_id == change.created_by_id:
        raise SegregationOfDuties(
            f"who requested {change.number} may not approve or reject it for any function"
        )
    if actor.user_id == change.owner_id:
        raise SegregationOfDuties(
            f"the owner of {change.number} carries it out and may not approve or reject it for "
            "any function"
        )
    # One signature, one function: a person holding two roles does not stand for two
    # functions of the same change, in any approval round.
    other = sorted(
        {a.function for a in change.approvals if a.approver_id == actor.user_id} - {chosen}
    )
    if other:
        raise SegregationOfDuties(
            f"{actor.full_name} already signed {change.number} for "
            f"{', '.join(f.replace('_', ' ') for f in other)}: nobody signs for two functions "
            "of the same change"
        )
    approved, _waiting = rules.approval_status(change)
    if chosen in approved:
        raise Conflict(f"{chosen.replace('_', ' ')} has already approved {change.number}")
    note = (comment or "").strip()
    if approve:
        if not password:
            raise InvalidInput(
                f"approving for {chosen.replace('_', ' ')} is signed (Approved): enter your "
                "password",
                field="password",
            )
        # Each function's signature is part of the workflow's "approve": a rule governing it
        # binds every approver, not only the last one whose signature moves the change on.
        require_training_for_step(session, actor, change, "approve")
        signature = sign(
            session,
            change,
            actor=actor,
            password=password,
            meaning="Approved",
            transition=f"approve:{chosen}",
            comment=f"for {chosen.replace('_', ' ')}" + (f": {note}" if note else ""),
        )
    else:
        if not note:
            raise InvalidInput("say why the change is rejected", field="comment")
        result = perform(
            session,
            CHANGE_WORKFLOW,
            change,
            "reject",
            actor=actor,
            password=password,
            reason=f"rejected for {chosen.replace('_', ' ')}: {note}",
        )
        assert result.signature is not None  # the reject transition is signed
        signature = result.signature
    decision = ChangeApproval(
        round=change.approval_round,
        function=chosen,
        decision=(Decision.APPROVED if approve else Decision.REJECTED).value,
        approver_id=actor.user_id,
        signature_id=signature.id,
        content_hash=signature.content_hash,
        decided_at=signature.signed_at,
        comment=note,
    )
    with audit.changes(
        session, actor=actor, reason=f"{decision.decision} for {chosen.replace('_', ' ')}"
    ):
        change.approvals.append(decision)
    if approve:
        tasks.close_tasks(
            session,
            change,
            actor=actor,
            outcome=f"approved by {actor.full_name}",
            kind=f"approve:{chosen}",
        )
        if not rules.all_functions_approved(change):
            perform(session, CHANGE_WORKFLOW, change, "approve", actor=actor)
    return decision


def _action(change: ChangeRequest, action_id: int) -> ChangeAction:
    for action in change.actions:
        if action.id == action_id:
            return action
    raise NotFound(f"{change.number} has no implementation task {action_id}")


def add_action(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    kind: str,
    description: str,
    owner_id: int,
    due_at: datetime,
    document_id: int | None = None,
    role: str | None = None,
    reason: str | None = None,
) -> ChangeAction:
    """An implementation task. Planned during the impact assessment it is part of what the
    functions approve; added during implementation it needs a reason."""
    change = get_change(session, change_id)
    common.require_status(
        change,
        (ChangeStatus.IMPACT_ASSESSMENT, ChangeStatus.IMPLEMENTATION),
        "adding an implementation task",
    )
    if actor.user_id != change.owner_id:
        actor.require("changes.assess", "plan the tasks of someone else's change")
    task_kind = common.choice(
        kind, "kind", [k.value for k in ActionKind], "the kind of implementation task"
    )
    if task_kind == ActionKind.REVISE_DOCUMENT and document_id is None:
        raise InvalidInput("name the document to revise", field="document_id")
    if task_kind == ActionKind.RETRAIN_ROLE and document_id is None:
        # A retraining is done by the training records on a document, never by a sentence.
        # (Tasks planned before this rule have none: see ``_legacy_retraining``.)
        raise InvalidInput(
            "name the document the role is retrained on (document_id): the task is done "
            "when everyone holding the role has signed read and understood on it",
            field="document_id",
        )
    if document_id is not None:
        # A revision names the document revised; a retraining the document retrained on.
        if task_kind not in (ActionKind.REVISE_DOCUMENT, ActionKind.RETRAIN_ROLE):
            raise InvalidInput(
                "only a document revision or a retraining names a document", field="document_id"
            )
        if session.get(ControlledDocument, document_id) is None:
            raise InvalidInput(f"there is no document with id {document_id}", field="document_id")
    if task_kind == ActionKind.RETRAIN_ROLE:
        # The code's roles and the site roles in force (a contract QA reviewer is retrained too).
        known = sorted(r.name for r in auth.known_roles(session))
        if role not in known:
            raise InvalidInput(
                f"name the role to retrain; one of: {', '.join(known)}", field="role"
            )
    elif role is not None:
        raise InvalidInput("only a retraining names a role", field="role")
    implementing = change.status == ChangeStatus.IMPLEMENTATION
    if implementing and not (reason or "").strip():
        raise InvalidInput("say why a task is added to an approved change", field="reason")
    action = ChangeAction(
        kind=task_kind,
        description=common.required_text(
            description, "description", "what is to be done", max_length=4000
        ),
        document_id=document_id,
        role=role,
        owner_id=_person(session, owner_id, "owner_id", "the task owner"),
        due_at=common.in_future(due_at, "due_at", "the task's due date"),
        status=ActionStatus.OPEN.value,
        completion_evidence="",
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=(reason or "").strip() or "task planned"):
        change.actions.append(action)
    if implementing:
        tasks.open_task(
            session,
            change,
            actor=actor,
            kind=action.task_kind,
            title=f"{change.audit_label()}: {action.description[:180]}",
            user_id=action.owner_id,
            due_at=action.due_at,
        )
    return action


def _document_revised_since(
    session: Session, change: ChangeRequest, action: ChangeAction
) -> list[str]:
    """A 'revise document' task is done when a version of the document became effective after
    the change was approved."""
    if (
        action.kind != ActionKind.REVISE_DOCUMENT
        or action.document_id is None
        or change.approved_at is None
    ):
        return []
    document = session.get(ControlledDocument, action.document_id)
    if document is None:
        return [f"the document {action.document_id} no longer exists"]
    revised = session.scalars(
        select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.effective_at.is_not(None),
            DocumentVersion.effective_at > change.approved_at,
        )
    ).first()
    if revised is None:
        return [
            f"{document.number} has no version made effective since {change.number} was "
            "approved: revise it first"
        ]
    return []


def _retraining(
    session: Session, change: ChangeRequest, action: ChangeAction
) -> tuple[list[str], list[str]]:
    """A retraining naming its document: who holding the role is trained on the version in
    force since the change was approved (their training numbers), and who is not yet."""
    if (
        action.kind != ActionKind.RETRAIN_ROLE
        or action.document_id is None
        or change.approved_at is None
    ):
        return [], []
    document = session.get(ControlledDocument, action.document_id)
    if document is None or document.current_version_id is None:
        return [], [f"the document {action.document_id} has no version in force to train on"]
    people = [
        u
        for u in session.scalars(
            select(User).where(User.is_active.is_(True)).order_by(User.full_name)
        )
        if action.role in (u.roles or []) and not u.is_service_account
    ]
    if not people:
        return [], [f"nobody holds the role {action.role}"]
    done = {
        r.user_id: r.number
        for r in session.scalars(
            select(TrainingRequirement).where(
                TrainingRequirement.version_id == document.current_version_id,
                TrainingRequirement.status == RequirementStatus.COMPLETED,
                TrainingRequirement.completed_at > change.approved_at,
            )
        )
    }
    missing = [u.full_name for u in people if u.id not in done]
    if missing:
        return [], [f"not yet trained on {document.number} in force: {', '.join(missing)}"]
    return [done[u.id] for u in people], []


def _retrained_since(session: Session, change: ChangeRequest, action: ChangeAction) -> list[str]:
    return _retraining(session, change, action)[1]


def _training_evidence(session: Session, change: ChangeRequest, action: ChangeAction) -> str:
    numbers, _missing = _retraining(session, change, action)
    return f"{action.role} trained: " + ", ".join(numbers)


def _legacy_retraining(action: ChangeAction) -> bool:
    """A retraining naming no document: since ``add_action`` refuses one, such a task can only
    have been planned before the rule came in, and is still completed with written evidence
    (nothing else could ever complete it)."""
    return action.kind == ActionKind.RETRAIN_ROLE and action.document_id is None


def complete_action(
    session: Session, *, actor: Actor, change_id: int, action_id: int, evidence: str
) -> ChangeAction:
    actor.require("changes.implement", "complete implementation tasks")
    change = get_change(session, change_id)
    common.require_status(change, (ChangeStatus.IMPLEMENTATION,), "completing a task")
    action = _action(change, action_id)
    if actor.user_id not in (action.owner_id, change.owner_id):
        actor.require("changes.assess", "complete someone else's implementation task")
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"the task #{action.id} is already {action.status}")
    missing = authority.may_implement_task(change, action.kind)
    missing += _document_revised_since(session, change, action)
    missing += _retrained_since(session, change, action)
    if missing:
        raise Conflict("; ".join(missing), reasons=missing)
    # Fulfilled by a record: its evidence is that record, not a sentence.
    if action.kind == ActionKind.REGULATORY_SUBMISSION:
        text = authority.submission_evidence(change)
    elif action.kind == ActionKind.RETRAIN_ROLE and not _legacy_retraining(action):
        text = _training_evidence(session, change, action)
    else:
        text = common.required_text(evidence, "evidence", "the evidence that the task is done")
    with audit.changes(session, actor=actor, reason="task completed", action="complete"):
        action.status = ActionStatus.DONE.value
        action.completed_at = clock.now()
        action.completed_by_id = actor.user_id
        action.completion_evidence = text
    tasks.close_tasks(
        session, change, actor=actor, outcome=f"done: {text[:150]}", kind=action.task_kind
    )
    return action


def record_effectiveness_review(
    session: Session, *, actor: Actor, change_id: int, effective: bool, summary: str
) -> ChangeRequest:
    """Did the change achieve what it was for, without harm? If not, QA reopens the
    implementation or raises a CAPA from the change."""
    actor.require("changes.assess", "review the effectiveness of changes")
    change = get_change(session, change_id)
    common.require_status(change, (ChangeStatus.EFFECTIVENESS_REVIEW,), "the effectiveness review")
    independence = rules.judged_independently(change, actor.user_id)
    if independence:
        raise SegregationOfDuties("; ".join(independence), reasons=independence)
    text = common.required_text(summary, "summary", "the summary of the effectiveness review")
    with audit.changes(session, actor=actor, reason="effectiveness reviewed"):
        change.effectiveness_confirmed = effective
        change.effectiveness_summary = text
    return change


def transition(
    session: Session,
    *,
    actor: Actor,
    change_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    change = get_change(session, change_id)
    return perform(
        session,
        CHANGE_WORKFLOW,
        change,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )


def changes_raised_from(session: Session, sources: list[tuple[str, int]]) -> list[ChangeRequest]:
    """The change requests these records (deviations, complaints, CAPAs…) led to, through the
    quality links."""
    ids = links.targets_from(session, sources, "change_request")
    if not ids:
        return []
    return list(
        session.scalars(
            select(ChangeRequest).where(ChangeRequest.id.in_(ids)).order_by(ChangeRequest.id)
        )
    )
