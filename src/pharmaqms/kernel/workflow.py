"""A small declarative workflow engine.

Each record type declares its states and transitions: who (role) may take a transition,
guards (functions returning the reasons it is not allowed yet), whether it needs an
e-signature and with which meaning, whether the author is barred from it (segregation of
duties), and the tasks opened on entering a state. ``perform`` is the one way a status
changes; it checks all of that, signs, audits and moves the tasks along.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import (
    audit,
    clock,
    tasks,
    workflow_roles,
    workflow_sign_offs,
    workflow_steps,
    workflow_tasks,
)
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    QMSError,
    ReasonRequired,
    SegregationOfDuties,
    StaleRecord,
    TransitionNotAllowed,
)
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.signatures import meaning_problem, sign
from pharmaqms.kernel.workflow_sign_offs import SignOff

Guard = Callable[[Any], list[str]]
# A guard on who acts rather than on the record: "signs for one of the functions this change
# impacts". Returns the reasons this actor may not take the transition.
ActorGuard = Callable[[Any, Actor], list[str]]
Effect = Callable[[Session, Any, Actor], None]
# What a transition did beyond its change of state, said back to whoever took it (the page's
# message, the API's ``outcome``): "training assigned to 3 people in …".
Outcome = Callable[[Any], str]
# A gate is a cross-cutting check registered by a higher layer (training: "has the actor
# read the SOP that governs this step?"). It raises a QMSError to refuse.
Gate = Callable[[Session, Actor, GxPRecord, "Transition"], None]

GATES: list[Gate] = []


def register_gate(gate: Gate) -> None:
    if gate not in GATES:
        GATES.append(gate)


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    title: str  # formatted with {label}
    role: str
    due_in_days: int | None = None


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    source: frozenset[str]
    target: str
    roles: frozenset[str]
    signature: str | None = None
    forbid_author: bool = False
    # Meanings whose signers may not take this transition (the reviewer is not the approver).
    forbid_signers_of: frozenset[str] = frozenset()
    # Attributes of the record holding a user id (``owner_id``, ``investigator_id``) whose
    # holder may not take this transition: the owner of a CAPA does not approve it.
    forbid_holders_of: tuple[str, ...] = ()
    reason_required: bool = False
    guards: tuple[Guard, ...] = ()
    actor_guards: tuple[ActorGuard, ...] = ()
    effects: tuple[Effect, ...] = ()
    outcome: Outcome | None = None
    # A step a site may withdraw (``workflow.<type>.transitions``): no verb of the code takes
    # it by name, and the records do not need it (cancelling a draft, withdrawing one).
    withdrawable: bool = False


@dataclass(frozen=True)
class Workflow:
    record_type: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    on_enter: dict[str, TaskSpec] = field(default_factory=dict)
    retired_states: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)
    # Whether a site may add steps and withdraw optional ones (``workflow_steps``); False for
    # a workflow that controls changes to the configuration itself.
    site_steps: bool = True

    def __post_init__(self) -> None:
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.record_type}: duplicate transition names")
        for t in self.transitions:
            unknown = (t.source | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{self.record_type}.{t.name}: unknown states {unknown}")

    def transition(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.transitions)
        raise NotFound(f"{self.record_type} has no transition {name!r}; known: {known}")

    def state_label(self, state: str) -> str:
        return self.labels.get(state, state.replace("_", " "))

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]


def _signers_of(session: Session, record: GxPRecord, meanings: frozenset[str]) -> set[int]:
    if not meanings:
        return set()
    rows = session.query(ElectronicSignature.signer_id).filter(
        ElectronicSignature.record_type == record.__audit_type__,
        ElectronicSignature.record_id == record.id,
        ElectronicSignature.meaning.in_(sorted(meanings)),
    )
    return {r[0] for r in rows}


def _authorship(
    session: Session | None,
    record: GxPRecord,
    transition: Transition,
    actor: Actor,
    workflow: Workflow | None,
) -> str | None:
    """What makes the actor an author of the record, or None.

    An author is everyone who wrote the content, read from the audit trail so it holds for every
    record type: who created the record, who changed a field its signatures cover while it was
    being drafted, and who submitted it from drafting for this decision. Later contributions
    (an impact assessment, an investigation) are barred by ``forbid_holders_of`` and
    ``forbid_signers_of`` where the workflow wants that."""
    label = record.audit_label()
    if record.author_id == actor.user_id:
        return f"the author of {label} may not '{transition.label}' it"
    if session is None or workflow is None:
        return None
    drafting = {workflow.initial, *type(record).__draft_states__}
    submitting = {
        f"transition:{t.name}"
        for t in workflow.transitions
        if t.target in transition.source and t.source & drafting
    }
    content = set(record.signed_content()) - {"record_type"} - type(record).__review_fields__
    refusal = f"an author may not '{transition.label}' it"
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.changes)
        .where(
            AuditEntry.record_type == record.__audit_type__,
            AuditEntry.record_id == record.id,
        )
        .order_by(AuditEntry.seq)
    )
    status: str | None = None
    for action, actor_id, text in rows:
        changes = json.loads(text)
        before = status
        if "status" in changes:
            status = changes["status"][1]
        if actor_id != actor.user_id:
            continue
        if action == "create":
            return f"{actor.username} created {label}: {refusal}"
        if action in submitting and before in drafting:
            return f"{actor.username} submitted {label}: {refusal}"
        if action == "update" and before in drafting and content & set(changes):
            return f"{actor.username} edited the content of {label}: {refusal}"
    return None


def blockers(
    session: Session,
    record: GxPRecord,
    transition: Transition,
    actor: Actor,
    workflow: Workflow | None = None,
    sign_offs: list[SignOff] | None = None,
) -> list[tuple[type[Exception], str]]:
    """Every reason the actor can't take this transition now, most basic first.
    ``sign_offs``: those in force, when the caller has read them already."""
    found: list[tuple[type[Exception], str]] = []
    if record.status not in transition.source:
        found.append(
            (
                TransitionNotAllowed,
                f"'{transition.label}' is not possible from status '{record.status}'",
            )
        )
        return found
    if not (actor.roles & transition.roles):
        found.append(
            (
                PermissionDenied,
                f"'{transition.label}' needs one of the roles "
                f"{', '.join(sorted(transition.roles))}",
            )
        )
    if transition.forbid_author:
        authored = _authorship(session, record, transition, actor, workflow)
        if authored:
            found.append((SegregationOfDuties, authored))
    for attribute in transition.forbid_holders_of:
        if getattr(record, attribute) == actor.user_id:
            role = attribute.removesuffix("_id").replace("_", " ")
            found.append(
                (
                    SegregationOfDuties,
                    f"the {role} of {record.audit_label()} may not '{transition.label}' it",
                )
            )
    if actor.user_id in _signers_of(session, record, transition.forbid_signers_of):
        found.append(
            (
                SegregationOfDuties,
                f"who signed {record.audit_label()} as "
                f"{' or '.join(sorted(transition.forbid_signers_of))} may not "
                f"'{transition.label}' it",
            )
        )
    for actor_guard in transition.actor_guards:
        found.extend((PermissionDenied, reason) for reason in actor_guard(record, actor))
    for guard in transition.guards:
        found.extend((TransitionNotAllowed, reason) for reason in guard(record))
    if sign_offs is None and workflow is not None:
        sign_offs = workflow_sign_offs.in_force(session, workflow)[1]
    for segregation, why in workflow_sign_offs.waiting_reasons(
        session, record, transition, actor.user_id, sign_offs or []
    ):
        found.append((SegregationOfDuties if segregation else TransitionNotAllowed, why))
    return found


@dataclass(frozen=True)
class Option:
    transition: Transition
    reasons: list[str]

    @property
    def allowed(self) -> bool:
        return not self.reasons


def _gate_reasons(session: Session, actor: Actor, record: GxPRecord, t: Transition) -> list[str]:
    """What the registered gates would say, so a page shows the refusal before the click."""
    reasons: list[str] = []
    for gate in GATES:
        try:
            gate(session, actor, record, t)
        except QMSError as refusal:
            reasons.append(refusal.detail)
    return reasons


def gate_refusals(
    session: Session, actor: Actor, record: GxPRecord, transition: Transition
) -> list[str]:
    """What the registered gates (training, qualification) would refuse this actor for this
    step, read before a record exists (a release decision is created at the moment it is
    signed): a page shows them before the click. Reads only."""
    return _gate_reasons(session, actor, record, transition)


def options(session: Session, workflow: Workflow, record: GxPRecord, actor: Actor) -> list[Option]:
    """The steps from the record's status, each with the reasons the actor can't take it now:
    the sign-offs a configuration adds first, then the transitions."""
    found = []
    _, configured = configured_transitions(session, workflow)
    _, sign_offs = workflow_sign_offs.in_force(session, workflow)
    for sign_off in sign_offs:
        before = configured.get(sign_off.before)
        if before is not None and record.status in before.source:
            t = sign_off_step(sign_off, before, record)
            found.append(
                Option(
                    t,
                    [
                        why
                        for _, why in _sign_off_blockers(
                            session, record, sign_off, t, actor, workflow
                        )
                    ],
                )
            )
    for t in configured.values():
        if record.status not in t.source:
            continue
        reasons = [why for _, why in blockers(session, record, t, actor, workflow, sign_offs)]
        if not reasons:
            reasons = _gate_reasons(session, actor, record, t)
        found.append(Option(t, reasons))
    return found


@dataclass(frozen=True)
class TransitionResult:
    record: GxPRecord
    transition: Transition
    previous_status: str
    signature: ElectronicSignature | None
    outcome: str = ""


def require_reviewed_version(
    workflow: Workflow,
    name: str,
    expected_version: int | None,
    session: Session | None = None,
) -> None:
    """A signature through an outside channel (API, web form) names the version of the record the
    signer reviewed, so nobody signs content that changed after they saw it (Part 11 §11.50).
    With a session, a signature the configuration in force adds counts too."""
    if workflow_sign_offs.is_sign_off(name):
        if expected_version is None:
            raise InvalidInput(
                f"the sign-off {name!r} is signed: send expected_version, the version of the "
                "record you reviewed",
                field="expected_version",
            )
        return
    if session is None:
        transition = workflow.transition(name)
    else:
        found = configured_transitions(session, workflow)[1].get(name)
        if found is None:
            return  # unknown or withdrawn: ``perform`` refuses it with the reason
        transition = found
    if transition.signature and expected_version is None:
        raise InvalidInput(
            f"'{transition.label}' is signed ({transition.signature}): send expected_version, "
            "the version of the record you reviewed",
            field="expected_version",
        )


def perform(
    session: Session,
    workflow: Workflow,
    record: GxPRecord,
    name: str,
    *,
    actor: Actor,
    reason: str | None = None,
    password: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    if workflow_sign_offs.is_sign_off(name):
        # The pages and the API post sign-offs where they post transitions.
        if reason and reason.strip() and not (comment and comment.strip()):
            comment = reason
        return sign_off(
            session,
            workflow,
            record,
            name,
            actor=actor,
            password=password,
            comment=comment,
            expected_version=expected_version,
        )
    if not workflow_steps.is_site_step(workflow, name):
        workflow.transition(name)  # an unknown name is refused before anything is read
    rules, configured = configured_transitions(session, workflow)
    steps_version = workflow_steps.in_force(session, workflow)
    refusal = workflow_steps.unavailable(workflow, steps_version, record, name, configured)
    if refusal is not None:
        raise refusal
    transition = configured[name]
    site_step = workflow_steps.is_site_step(workflow, name)
    _check_version(record, expected_version)
    sign_offs_version, sign_offs = workflow_sign_offs.in_force(session, workflow)
    _raise_first(blockers(session, record, transition, actor, workflow, sign_offs))
    for gate in GATES:
        gate(session, actor, record, transition)
    reason = (reason or "").strip() or None
    if transition.reason_required and not reason:
        raise ReasonRequired(f"'{transition.label}' needs a reason", field="reason")
    signature = None
    if transition.signature:
        signature = _sign_step(session, record, transition, actor, password, comment or reason)
    previous = record.status
    why = reason or transition.label + (
        f": {comment.strip()}" if comment and comment.strip() else ""
    )
    with audit.changes(session, actor=actor, reason=why, action=f"transition:{transition.name}"):
        record.status = transition.target
        if transition.target in workflow.retired_states and record.retired_at is None:
            record.retired_at = clock.now()
    tasks.close_tasks(
        session, record, actor=actor, outcome=f"{transition.label} by {actor.full_name}"
    )
    spec, task_rules = workflow_tasks.task_on_entering(session, workflow, transition.target)
    if spec is not None:
        tasks.open_task(
            session,
            record,
            actor=actor,
            kind=spec.kind,
            title=spec.title.format(label=record.audit_label()),
            role=spec.role,
            due_in=timedelta(days=spec.due_in_days) if spec.due_in_days else None,
        )
        if task_rules is not None:
            # Who received the task, and when it is due, is a rule it ran under.
            config_store.record_use(
                session, record, task_rules, f"task on entering {transition.target}", actor=actor
            )
    if site_step and steps_version is not None:
        # A site step is the version that added it: its roles, guards and signature.
        config_store.record_use(
            session, record, steps_version, f"transition:{transition.name}", actor=actor
        )
    elif rules is not None and _governed(transition):
        # The signature and segregation rules this transition ran under stay with the record.
        config_store.record_use(
            session, record, rules, f"transition:{transition.name}", actor=actor
        )
    roles_key = workflow_roles.roles_key(workflow)
    if transition.signature and not site_step and config_store.is_registered(roles_key):
        # Who may take a signed step is a rule the signature ran under too.
        config_store.record_use(
            session,
            record,
            config_store.in_force(session, roles_key),
            f"roles of transition:{transition.name}",
            actor=actor,
        )
    if sign_offs_version is not None and any(s.before == name for s in sign_offs):
        # The sign-offs it waited for are rules it ran under too.
        config_store.record_use(
            session, record, sign_offs_version, f"sign-offs of transition:{name}", actor=actor
        )
    _open_sign_off_tasks(session, record, actor, sign_offs, configured)
    for effect in transition.effects:
        effect(session, record, actor)
    said = transition.outcome(record) if transition.outcome is not None else ""
    return TransitionResult(record, transition, previous, signature, said)


def sign_off_step(sign_off: SignOff, before: Transition, record: GxPRecord) -> Transition:
    """A sign-off shown and checked as a step that keeps the record in its status."""
    return Transition(
        name=sign_off.step,
        label=f"Sign off: {sign_off.label}",
        source=before.source,
        target=record.status,
        roles=frozenset(sign_off.roles),
        signature=sign_off.meaning,
        forbid_author=sign_off.forbid_author,
    )


def _sign_off_blockers(
    session: Session,
    record: GxPRecord,
    sign_off: SignOff,
    step: Transition,
    actor: Actor,
    workflow: Workflow,
) -> list[tuple[type[Exception], str]]:
    found = blockers(session, record, step, actor, workflow, sign_offs=[])
    signature = workflow_sign_offs.valid_signature(session, record, sign_off)
    if signature is not None:
        found.append(
            (
                TransitionNotAllowed,
                f"signed off by {signature.signer_name} on {format_time(signature.signed_at)} "
                f"on {record.audit_label()} as it now is",
            )
        )
    return found


def _raise_first(found: list[tuple[type[Exception], str]]) -> None:
    if found:
        kind = found[0][0]
        error_class = (
            kind if kind in (PermissionDenied, SegregationOfDuties) else TransitionNotAllowed
        )
        raise error_class("; ".join(why for _, why in found), reasons=[why for _, why in found])


def _sign_step(
    session: Session,
    record: GxPRecord,
    step: Transition,
    actor: Actor,
    password: str | None,
    comment: str | None,
) -> ElectronicSignature:
    """The signature a signed step (a transition or a sign-off) asks for, with its meaning."""
    assert step.signature is not None
    if not password:
        raise InvalidInput(
            f"'{step.label}' is signed ({step.signature}): enter your password", field="password"
        )
    return sign(
        session,
        record,
        actor=actor,
        password=password,
        meaning=step.signature,
        transition=step.name,
        comment=comment,
    )


def _check_version(record: GxPRecord, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise StaleRecord(
            f"{record.audit_label()} is at version {record.version}, not {expected_version}: "
            "someone changed it meanwhile; reload and try again",
            extra={"current_version": record.version},
        )


def sign_off(
    session: Session,
    workflow: Workflow,
    record: GxPRecord,
    name: str,
    *,
    actor: Actor,
    password: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Sign one of the sign-offs in force (``sign_off.<name>``) on the record as it now is: the
    record keeps its status; the transition the sign-off precedes may be taken once all of
    its sign-offs are signed on this version."""
    version, sign_offs = workflow_sign_offs.in_force(session, workflow)
    chosen = next((s for s in sign_offs if s.step == name), None)
    if chosen is None or version is None:
        known = ", ".join(s.step for s in sign_offs) or "none in force"
        raise NotFound(f"{workflow.record_type} has no sign-off {name!r}; in force: {known}")
    _, configured = configured_transitions(session, workflow)
    before = configured.get(chosen.before)
    if before is None:
        # A version stored before the code dropped that transition: nothing left to precede.
        raise NotFound(
            f"{name!r} precedes {chosen.before!r}, which {workflow.record_type} no longer has"
        )
    step = sign_off_step(chosen, before, record)
    _check_version(record, expected_version)
    _raise_first(_sign_off_blockers(session, record, chosen, step, actor, workflow))
    signature = _sign_step(session, record, step, actor, password, comment)
    tasks.close_tasks(
        session, record, actor=actor, outcome=f"signed off by {actor.full_name}", kind=chosen.step
    )
    config_store.record_use(session, record, version, f"sign-off {chosen.name}", actor=actor)
    waiting = [
        s.label
        for s in sign_offs
        if s.before == chosen.before
        and workflow_sign_offs.valid_signature(session, record, s) is None
    ]
    said = (
        f"'{before.label}' still waits for: {', '.join(waiting)}."
        if waiting
        else f"'{before.label}' no longer waits for a sign-off."
    )
    return TransitionResult(record, step, record.status, signature, said)


def _open_sign_off_tasks(
    session: Session,
    record: GxPRecord,
    actor: Actor,
    sign_offs: list[SignOff],
    configured: dict[str, Transition],
) -> None:
    """Entering a status from which a transition waits for sign-offs: a task for each, to the
    first role the version names."""
    for sign_off in sign_offs:
        before = configured.get(sign_off.before)
        if before is not None and record.status in before.source:
            open_sign_off_task(session, record, sign_off, actor)


def open_sign_off_task(
    session: Session, record: GxPRecord, sign_off: SignOff, actor: Actor
) -> Task:
    """The sign-off's task on the record, for the first role the version names."""
    return tasks.open_task(
        session,
        record,
        actor=actor,
        kind=sign_off.step,
        title=f"Sign off '{sign_off.label}' on {record.audit_label()}",
        role=sign_off.roles[0],
    )


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def states(*names: str) -> frozenset[str]:
    return frozenset(names)


def check_states(workflow: Workflow, required: Sequence[str]) -> None:
    missing = set(required) - set(workflow.states)
    if missing:
        raise ValueError(f"{workflow.record_type}: missing states {missing}")


# Signature rules as controlled configuration: which transitions are signed, with which
# meaning, and who is barred from them. The code's declarations are the first version and the
# floor: a version may add a signature or a segregation of duties, never take away one the code
# demands (Part 11 §11.50, §11.70, §11.200; EU GMP Annex 11 §14).

RULE_FIELDS = ("signature", "forbid_author", "forbid_holders_of", "forbid_signers_of")


def signature_rules_key(workflow: Workflow) -> str:
    return f"workflow.{workflow.record_type}.signatures"


def signature_rules(workflow: Workflow) -> dict[str, dict[str, Any]]:
    return {
        t.name: {
            "signature": t.signature,
            "forbid_author": t.forbid_author,
            "forbid_holders_of": sorted(t.forbid_holders_of),
            "forbid_signers_of": sorted(t.forbid_signers_of),
        }
        for t in workflow.transitions
    }


def _rule_problems(workflow: Workflow, model: type[GxPRecord], content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ["give an object with one entry per transition"]
    names = [t.name for t in workflow.transitions]
    problems = workflow_roles.transition_entry_problems(workflow, content, "rule")
    for name in names:
        rule = content.get(name)
        if name not in content:
            continue
        if not isinstance(rule, dict) or set(rule) != set(RULE_FIELDS):
            problems.append(f"{name}: give exactly the fields {', '.join(RULE_FIELDS)}")
            continue
        if rule["signature"] is not None:
            problem = meaning_problem(name, rule["signature"])
            if problem:
                problems.append(problem)
        if not isinstance(rule["forbid_author"], bool):
            problems.append(f"{name}: forbid_author is true or false")
        holders = rule["forbid_holders_of"]
        if not isinstance(holders, list) or not all(isinstance(h, str) for h in holders):
            problems.append(f"{name}: forbid_holders_of is a list of fields naming a person")
        else:
            for holder in holders:
                if not holder.endswith("_id") or not hasattr(model, holder):
                    problems.append(
                        f"{name}: {holder!r} is not a field of {model.__name__} naming a person"
                    )
        signers = rule["forbid_signers_of"]
        if not isinstance(signers, list) or not all(isinstance(m, str) for m in signers):
            problems.append(f"{name}: forbid_signers_of is a list of signature meanings")
        else:
            for meaning in signers:
                problem = meaning_problem(f"{name} (forbid_signers_of)", meaning)
                if problem:
                    problems.append(problem)
    return problems


def _control_problems(workflow: Workflow, content: Any) -> list[str]:
    """What a version would take away that the code demands: refused, with the reason."""
    if not isinstance(content, dict):
        return []
    problems = []
    for t in workflow.transitions:
        rule = content.get(t.name)
        if not isinstance(rule, dict):
            continue
        where = f"'{t.label}' ({t.name})"
        if t.signature and rule.get("signature") is None:
            problems.append(
                f"{where} must be signed ({t.signature}): the code demands this signature "
                "(Part 11 §11.50, §11.200); a version may not drop it"
            )
        elif t.signature and rule.get("signature") != t.signature:
            problems.append(
                f"{where} is signed with the meaning {t.signature!r}, which the code demands; "
                f"a version may not change it to {rule.get('signature')!r}"
            )
        if t.forbid_author and rule.get("forbid_author") is not True:
            problems.append(
                f"{where}: the author may not take it (segregation of duties the code demands, "
                "Part 11 §11.10(g), Annex 11 §12); a version may not drop it"
            )
        for listed, code_value in (
            ("forbid_holders_of", t.forbid_holders_of),
            ("forbid_signers_of", t.forbid_signers_of),
        ):
            kept = rule.get(listed)
            dropped = sorted(set(code_value) - set(kept if isinstance(kept, list) else []))
            if dropped:
                problems.append(
                    f"{where}: {listed} must keep {', '.join(dropped)} (segregation of duties "
                    "the code demands); a version may not drop it"
                )
    return problems


def register_signature_rules(workflow: Workflow, model: type[GxPRecord], label: str) -> None:
    """Make the workflow's signature rules a configuration key (done for every registered
    record type by ``kernel.registry.register``)."""
    config_store.register_kind(
        config_store.ConfigKind(
            key=signature_rules_key(workflow),
            title=f"{label}: signatures and segregation of duties",
            module=workflow.record_type,
            description=(
                "For each transition: the signature it needs and its meaning (null: not "
                "signed), whether the author is barred, which holders (fields naming a person) "
                "and which signers (by meaning) are barred. The code's rules are the floor."
            ),
            builtin=lambda: signature_rules(workflow),
            validate=lambda content: _rule_problems(workflow, model, content),
            controls=lambda content: _control_problems(workflow, content),
            regulatory_basis="21 CFR 11.50, 11.70, 11.10(g), 11.200; EU GMP Annex 11 §12, §14",
        )
    )


def _governed(transition: Transition) -> bool:
    return bool(
        transition.signature
        or transition.forbid_author
        or transition.forbid_holders_of
        or transition.forbid_signers_of
    )


def configured_transitions(
    session: Session, workflow: Workflow
) -> tuple[config_store.InForce | None, dict[str, Transition]]:
    """The workflow's transitions with the signature rules, the roles and guards, and the
    site's steps in force applied (a workflow whose record type is not registered keeps the
    code's)."""
    key = signature_rules_key(workflow)
    code = {t.name: t for t in workflow.transitions}
    if not config_store.is_registered(key):
        return None, code
    rules = config_store.in_force(session, key)
    if config_store.is_registered(workflow_roles.roles_key(workflow)):
        assigned = config_store.in_force(session, workflow_roles.roles_key(workflow)).content
        code = {name: workflow_roles.apply(workflow, t, assigned) for name, t in code.items()}
    configured = {}
    for name, t in code.items():
        rule = rules.content.get(name) if isinstance(rules.content, dict) else None
        if not isinstance(rule, dict):
            configured[name] = t
            continue
        configured[name] = dataclasses.replace(
            t,
            signature=rule.get("signature"),
            forbid_author=bool(rule.get("forbid_author")),
            forbid_holders_of=tuple(rule.get("forbid_holders_of") or ()),
            forbid_signers_of=frozenset(rule.get("forbid_signers_of") or ()),
        )
    return rules, workflow_steps.apply(
        workflow, configured, workflow_steps.in_force(session, workflow)
    )
