"""A small declarative workflow engine.

Each record type declares its states and transitions: who (role) may take a transition,
guards (functions returning the reasons it is not allowed yet), whether it needs an
e-signature and with which meaning, whether the author is barred from it (segregation of
duties), and the tasks opened on entering a state. ``perform`` is the one way a status
changes; it checks all of that, signs, audits and moves the tasks along.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
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
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.signatures import sign

Guard = Callable[[Any], list[str]]
# A guard on who acts rather than on the record: "signs for one of the functions this change
# impacts". Returns the reasons this actor may not take the transition.
ActorGuard = Callable[[Any, Actor], list[str]]
Effect = Callable[[Session, Any, Actor], None]
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


@dataclass(frozen=True)
class Workflow:
    record_type: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    on_enter: dict[str, TaskSpec] = field(default_factory=dict)
    retired_states: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)

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
) -> list[tuple[type[Exception], str]]:
    """Every reason the actor can't take this transition now, most basic first."""
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
    found = []
    for t in workflow.from_state(record.status):
        reasons = [why for _, why in blockers(session, record, t, actor, workflow)]
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


def require_reviewed_version(workflow: Workflow, name: str, expected_version: int | None) -> None:
    """A signature through an outside channel (API, web form) names the version of the record the
    signer reviewed, so nobody signs content that changed after they saw it (Part 11 §11.50)."""
    transition = workflow.transition(name)
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
    transition = workflow.transition(name)
    if expected_version is not None and record.version != expected_version:
        raise StaleRecord(
            f"{record.audit_label()} is at version {record.version}, not {expected_version}: "
            "someone changed it meanwhile; reload and try again",
            extra={"current_version": record.version},
        )
    found = blockers(session, record, transition, actor, workflow)
    if found:
        kind = found[0][0]
        error_class = (
            kind if kind in (PermissionDenied, SegregationOfDuties) else TransitionNotAllowed
        )
        raise error_class("; ".join(why for _, why in found), reasons=[why for _, why in found])
    for gate in GATES:
        gate(session, actor, record, transition)
    reason = (reason or "").strip() or None
    if transition.reason_required and not reason:
        raise ReasonRequired(f"'{transition.label}' needs a reason", field="reason")
    signature = None
    if transition.signature:
        if not password:
            raise InvalidInput(
                f"'{transition.label}' is signed ({transition.signature}): enter your password",
                field="password",
            )
        signature = sign(
            session,
            record,
            actor=actor,
            password=password,
            meaning=transition.signature,
            transition=transition.name,
            comment=comment or reason,
        )
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
    spec = workflow.on_enter.get(transition.target)
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
    for effect in transition.effects:
        effect(session, record, actor)
    return TransitionResult(record, transition, previous, signature)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def states(*names: str) -> frozenset[str]:
    return frozenset(names)


def check_states(workflow: Workflow, required: Sequence[str]) -> None:
    missing = set(required) - set(workflow.states)
    if missing:
        raise ValueError(f"{workflow.record_type}: missing states {missing}")
