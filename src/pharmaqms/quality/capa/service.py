"""CAPA services: the plan (actions, effectiveness check), its execution and the effectiveness
result. The only code that writes CAPAs (reading: ``queries.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReasonRequired,
    SegregationOfDuties,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.signatures import sign
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.quality import common
from pharmaqms.quality.capa import effectiveness, fulfilment, rules
from pharmaqms.quality.capa.models import (
    ActionKind,
    ActionStatus,
    Capa,
    CapaAction,
    CapaStatus,
    CheckStatus,
    EffectivenessCheck,
)
from pharmaqms.quality.capa.workflow import CAPA_WORKFLOW, OWNERS, VERIFY_EFFECTIVENESS
from pharmaqms.quality.training.gate import require_training_for_step


def get_capa(session: Session, capa_id: int) -> Capa:
    return common.get_or_404(session, Capa, capa_id, "CAPA")


def _owner(session: Session, user_id: int, field: str, what: str) -> int:
    user = common.active_user(session, user_id, field, what)
    if not set(user.roles) & set(OWNERS):
        raise InvalidInput(
            f"{what}: {user.full_name} holds none of the roles that own CAPA work "
            f"({', '.join(OWNERS)})",
            field=field,
        )
    return user.id


def _may_plan(actor: Actor, capa: Capa) -> None:
    """The owner, whoever raised it, and QA may shape the plan."""
    actor.require("capa.manage", "work on CAPAs")
    if actor.user_id in (capa.owner_id, capa.created_by_id) or actor.can("capa.approve"):
        return
    raise PermissionDenied(f"only the owner of {capa.number}, who raised it, or QA may change it")


def create_capa(
    session: Session,
    *,
    actor: Actor,
    title: str,
    problem_statement: str,
    owner_id: int,
    due_at: datetime,
) -> Capa:
    actor.require("capa.raise", "raise CAPAs")
    capa = Capa(
        status=CapaStatus.DRAFT.value,
        title=common.required_text(title, "title", "a title", max_length=300),
        problem_statement=common.required_text(
            problem_statement, "problem_statement", "the problem statement", max_length=20_000
        ),
        owner_id=_owner(session, owner_id, "owner_id", "the owner"),
        due_at=common.in_future(due_at, "due_at", "the due date"),
        effectiveness_justification="",
    )
    with audit.changes(session, actor=actor, reason="CAPA raised"):
        session.add(capa)
    tasks.open_task(
        session,
        capa,
        actor=actor,
        kind="plan",
        title=f"Plan the actions of {capa.audit_label()}: {capa.title}",
        user_id=capa.owner_id,
        due_at=capa.due_at,
    )
    return capa


def edit_capa(
    session: Session,
    *,
    actor: Actor,
    capa_id: int,
    expected_version: int,
    title: str | None = None,
    problem_statement: str | None = None,
    owner_id: int | None = None,
    due_at: datetime | None = None,
    reason: str | None = None,
) -> Capa:
    capa = get_capa(session, capa_id)
    common.check_version(capa, expected_version)
    common.require_status(capa, (CapaStatus.DRAFT,), "changing the plan")
    _may_plan(actor, capa)
    with audit.changes(session, actor=actor, reason=reason):
        if title is not None:
            capa.title = common.required_text(title, "title", "a title", max_length=300)
        if problem_statement is not None:
            capa.problem_statement = common.required_text(
                problem_statement, "problem_statement", "the problem statement", max_length=20_000
            )
        if owner_id is not None:
            capa.owner_id = _owner(session, owner_id, "owner_id", "the owner")
        if due_at is not None:
            capa.due_at = common.in_future(due_at, "due_at", "the due date")
    return capa


def _action(capa: Capa, action_id: int) -> CapaAction:
    for action in capa.actions:
        if action.id == action_id:
            return action
    raise NotFound(f"{capa.number} has no action {action_id}")


def add_action(
    session: Session,
    *,
    actor: Actor,
    capa_id: int,
    kind: str,
    description: str,
    owner_id: int,
    due_at: datetime,
    reason: str | None = None,
    document_id: int | None = None,
    job_role_id: int | None = None,
) -> CapaAction:
    """An action of the plan. Added during implementation (after a failed check, say) it goes
    straight to its owner's inbox, and the plan's approval no longer covers the plan. An action
    that revises a document names it; one that retrains names the document and the job role:
    it then completes when the record that fulfils it exists (``fulfilment``)."""
    capa = get_capa(session, capa_id)
    common.require_status(capa, (CapaStatus.DRAFT, CapaStatus.IMPLEMENTATION), "adding an action")
    _may_plan(actor, capa)
    fulfilment.check_links(session, document_id, job_role_id)
    action = CapaAction(
        kind=common.choice(kind, "kind", [k.value for k in ActionKind], "the kind of action"),
        description=common.required_text(
            description, "description", "what is to be done", max_length=4000
        ),
        owner_id=_owner(session, owner_id, "owner_id", "the action owner"),
        due_at=common.in_future(due_at, "due_at", "the action's due date"),
        status=ActionStatus.OPEN.value,
        completion_evidence="",
        times_reopened=0,
        created_at=clock.now(),
        created_by_id=actor.user_id,
        document_id=document_id,
        job_role_id=job_role_id,
    )
    implementing = capa.status == CapaStatus.IMPLEMENTATION
    # A plan is consistent with itself; once implementing, a late action is allowed and makes
    # the CAPA overdue in plain sight rather than being refused.
    if not implementing and action.due_at > capa.due_at:
        raise InvalidInput(
            f"the action is due after the CAPA itself ({capa.due_at:%Y-%m-%d}): move the "
            "CAPA's due date first",
            field="due_at",
        )
    why = (reason or "").strip() or ("action added during implementation" if implementing else "")
    if implementing and not (reason or "").strip():
        raise InvalidInput("say why an action is added to an approved plan", field="reason")
    with audit.changes(session, actor=actor, reason=why or "action planned"):
        capa.actions.append(action)
    if implementing:
        tasks.open_task(
            session,
            capa,
            actor=actor,
            kind=action.task_kind,
            title=f"{capa.audit_label()}: {action.kind} action — {action.description[:150]}",
            user_id=action.owner_id,
            due_at=action.due_at,
        )
    return action


def cancel_action(
    session: Session, *, actor: Actor, capa_id: int, action_id: int, reason: str
) -> CapaAction:
    capa = get_capa(session, capa_id)
    common.require_status(
        capa, (CapaStatus.DRAFT, CapaStatus.IMPLEMENTATION), "cancelling an action"
    )
    _may_plan(actor, capa)
    action = _action(capa, action_id)
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"the action #{action.id} is {action.status}: only an open one is cancelled")
    why = common.required_text(reason, "reason", "the reason for cancelling the action")
    with audit.changes(session, actor=actor, reason=why, action="cancel"):
        action.status = ActionStatus.CANCELLED.value
    tasks.close_tasks(session, capa, actor=actor, outcome="action cancelled", kind=action.task_kind)
    return action


def complete_action(
    session: Session, *, actor: Actor, capa_id: int, action_id: int, evidence: str
) -> CapaAction:
    capa = get_capa(session, capa_id)
    common.require_status(capa, (CapaStatus.IMPLEMENTATION,), "completing an action")
    action = _action(capa, action_id)
    actor.require("capa.manage", "complete CAPA actions")
    if actor.user_id not in (action.owner_id, capa.owner_id) and not actor.can("capa.approve"):
        raise PermissionDenied(
            f"only the owner of the action, the owner of {capa.number} or QA may complete it"
        )
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"the action #{action.id} is already {action.status}")
    if action.document_id is not None:
        # Fulfilled by a record: its evidence is that record, never a sentence.
        found, missing = fulfilment.fulfilment(session, action)
        if found is None:
            raise Conflict(
                f"the action #{action.id} completes when its record exists: " + "; ".join(missing),
                reasons=missing,
            )
        fulfilment.complete_fulfilled(session, action, found, actor)
        return action
    text = common.required_text(
        evidence, "evidence", "the evidence that the action is done", max_length=20_000
    )
    with audit.changes(session, actor=actor, reason="action completed", action="complete"):
        action.status = ActionStatus.DONE.value
        action.completed_at = clock.now()
        action.completed_by_id = actor.user_id
        action.completion_evidence = text
    tasks.close_tasks(
        session, capa, actor=actor, outcome=f"done: {text[:150]}", kind=action.task_kind
    )
    return action


def plan_effectiveness(
    session: Session,
    *,
    actor: Actor,
    capa_id: int,
    required: bool,
    criteria: str | None = None,
    due_at: datetime | None = None,
    justification: str | None = None,
    template_id: str | None = None,
) -> Capa:
    """Decide how the CAPA will show it worked: a check with criteria and a due date, or a
    justification why no check is needed (a typo corrected in an SOP, say). With a template
    (``quality.capa_effectiveness_templates``) the criteria and due date left empty are the
    template's, and the CAPA records the template version it took them from."""
    capa = get_capa(session, capa_id)
    common.require_status(capa, (CapaStatus.DRAFT,), "planning the effectiveness check")
    _may_plan(actor, capa)
    pending = capa.pending_check
    prefill = None
    if template_id:
        if not required:
            raise InvalidInput(
                "a template plans a check: choose 'check required' or no template",
                field="template_id",
            )
        prefill = effectiveness.template_for(session, capa, template_id)
        criteria = (criteria or "").strip() or prefill.criteria
        due_at = due_at or prefill.due_at
    if required:
        text = common.required_text(
            criteria, "criteria", "the criteria of the effectiveness check", max_length=4000
        )
        if due_at is None:
            raise InvalidInput("the effectiveness check needs a due date", field="due_at")
        common.in_future(due_at, "due_at", "the due date of the effectiveness check")
        # The check judges the actions, so it follows them. It may be due after the CAPA's
        # own due date (which covers the actions): a recurrence-free period of months is the
        # usual evidence, and the CAPA is then due to close by the check (rules.due_for_closure).
        latest = max((a.due_at for a in rules.live_actions(capa)), default=None)
        if latest is not None and due_at < latest:
            raise InvalidInput(
                "the effectiveness check can't be due before the actions it judges "
                f"(the last is due {latest:%Y-%m-%d})",
                field="due_at",
            )
        with audit.changes(session, actor=actor, reason="effectiveness check planned"):
            capa.effectiveness_required = True
            capa.effectiveness_justification = ""
            if pending is None:
                capa.checks.append(
                    EffectivenessCheck(
                        criteria=text,
                        due_at=due_at,
                        status=CheckStatus.PLANNED.value,
                        evidence="",
                        created_at=clock.now(),
                        created_by_id=actor.user_id,
                    )
                )
            else:
                pending.criteria = text
                pending.due_at = due_at
        if prefill is not None:
            config_store.record_use(
                session,
                capa,
                prefill.rule,
                f"effectiveness check from the template {prefill.template_id}",
                actor=actor,
            )
    else:
        text = common.required_text(
            justification, "justification", "the justification for no effectiveness check"
        )
        with audit.changes(session, actor=actor, reason="no effectiveness check needed"):
            capa.effectiveness_required = False
            capa.effectiveness_justification = text
            if pending is not None:
                pending.status = CheckStatus.WITHDRAWN.value
    return capa


def _early_evaluation(check: EffectivenessCheck, reason: str | None) -> str:
    """Judging a check before its due date needs a reason; returns how it reads on the record
    (empty when the check is due)."""
    now = clock.now()
    if now >= check.due_at:
        return ""
    why = (reason or "").strip()
    days = (check.due_at.date() - now.date()).days
    if not why:
        raise ReasonRequired(
            f"the effectiveness check is due {check.due_at:%Y-%m-%d}, {days} days from now: "
            "give the reason for judging it early",
            field="early_reason",
        )
    if len(why) > 2000:
        raise InvalidInput("the reason for judging early is too long", field="early_reason")
    return f"judged {days} days before its due date {check.due_at:%Y-%m-%d}: {why}"


def record_effectiveness_result(
    session: Session,
    *,
    actor: Actor,
    capa_id: int,
    passed: bool,
    evidence: str,
    password: str | None,
    reopen_action_ids: Sequence[int] | None = None,
    actions_due_at: datetime | None = None,
    next_check_due_at: datetime | None = None,
    next_criteria: str | None = None,
    early_reason: str | None = None,
) -> EffectivenessCheck:
    """QA's verdict on the effectiveness check, signed ("Verified"). A failed check reopens
    the actions named (all completed ones by default) with a new due date, plans the next
    check, and sends the CAPA back to implementation. Before the check's due date the verdict
    needs the reason for judging early (recorded with the signature and in the audit trail):
    the due date is when the plan said enough evidence would exist."""
    actor.require("capa.approve", "verify the effectiveness of CAPAs")
    capa = get_capa(session, capa_id)
    common.require_status(
        capa, (CapaStatus.EFFECTIVENESS_CHECK,), "recording the effectiveness result"
    )
    if actor.user_id == capa.owner_id:
        raise SegregationOfDuties(
            f"the owner of {capa.number} may not verify the effectiveness of their own CAPA"
        )
    check = capa.pending_check
    if check is None:
        raise Conflict(f"{capa.number} has no effectiveness check waiting for a result")
    text = common.required_text(
        evidence, "evidence", "the evidence of the result", max_length=20_000
    )
    early = _early_evaluation(check, early_reason)
    reopened: list[CapaAction] = []
    if not passed:
        done = [a for a in capa.actions if a.status == ActionStatus.DONE]
        if reopen_action_ids is None:
            reopened = done
        else:
            reopened = [_action(capa, i) for i in reopen_action_ids]
            not_done = [a.id for a in reopened if a.status != ActionStatus.DONE]
            if not_done:
                raise InvalidInput(
                    f"only completed actions can be reopened, not {not_done}",
                    field="reopen_action_ids",
                )
        if actions_due_at is None:
            raise InvalidInput(
                "a failed check needs a new due date for the reopened actions",
                field="actions_due_at",
            )
        common.in_future(actions_due_at, "actions_due_at", "the new due date of the actions")
        if next_check_due_at is None or next_check_due_at <= actions_due_at:
            raise InvalidInput(
                "a failed check needs the next check's due date, after the actions' new due date",
                field="next_check_due_at",
            )
    if not password:
        raise InvalidInput(
            "the effectiveness result is signed (Verified): enter your password",
            field="password",
        )
    require_training_for_step(session, actor, capa, VERIFY_EFFECTIVENESS)
    verdict = CheckStatus.PASSED if passed else CheckStatus.FAILED
    signature = sign(
        session,
        capa,
        actor=actor,
        password=password,
        meaning="Verified",
        transition=f"effectiveness_{verdict.value}",
        comment=f"effectiveness check {verdict.value}: {text}" + (f" — {early}" if early else ""),
    )
    with audit.changes(
        session,
        actor=actor,
        reason=f"effectiveness check {verdict.value}" + (f", {early}" if early else ""),
        action="verify",
    ):
        check.status = verdict.value
        check.evidence = text
        check.verified_by_id = actor.user_id
        check.verified_at = clock.now()
        check.signature_id = signature.id
    if passed:
        tasks.close_tasks(
            session,
            capa,
            actor=actor,
            outcome="effectiveness check passed",
            kind="effectiveness_check",
        )
        tasks.open_task(
            session,
            capa,
            actor=actor,
            kind="close",
            title=f"Close {capa.audit_label()}",
            role="qa",
            due_in=None,
        )
        return check
    assert actions_due_at is not None and next_check_due_at is not None  # checked above
    why = f"effectiveness check failed: {text}"
    with audit.changes(session, actor=actor, reason=why, action="reopen"):
        for action in reopened:
            action.status = ActionStatus.OPEN.value
            action.due_at = actions_due_at
            action.times_reopened += 1
        capa.checks.append(
            EffectivenessCheck(
                criteria=common.optional_text(next_criteria, "next_criteria") or check.criteria,
                due_at=next_check_due_at,
                status=CheckStatus.PLANNED.value,
                evidence="",
                created_at=clock.now(),
                created_by_id=actor.user_id,
            )
        )
    perform(session, CAPA_WORKFLOW, capa, "reopen", actor=actor, reason=why)
    return check


def transition(
    session: Session,
    *,
    actor: Actor,
    capa_id: int,
    name: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    capa = get_capa(session, capa_id)
    return perform(
        session,
        CAPA_WORKFLOW,
        capa,
        name,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )
