"""Roles that sign are granted by two administrators (Part 11 §11.100(b), §11.200(a)(3)).

A role "signs" when its holders can put an e-signature on a record: it is named by a signed
transition of a workflow, or it holds a permission that signs outside one (any permission
ending in ``.approve``, ``.release`` or ``.sign``, or ``*``, which is every permission). The
set is derived from the workflows and the roles' permissions each time it is asked for, so a
module that adds a signed step or a role that gains such a permission is covered at once.

Giving such a role to an account takes a request that one administrator signs with a reason
and a second administrator approves with their signature; only the approval adds the role.
Nobody requests, approves or changes roles of their own account. The one exception is the
provisioning of an installation: the system account acting through the command line on the
server (``pharmaqms init``, ``pharmaqms demo``, ``pharmaqms user add`` without ``--as``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, role_permissions, tasks
from pharmaqms.kernel.auth import check_roles, get_user, known_roles, refuse_own_account
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import RoleGrantRequest
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.roles import SIGNING_PERMISSION_SUFFIXES as SIGNING_PERMISSION_SUFFIXES
from pharmaqms.kernel.roles import signs as signs
from pharmaqms.kernel.signatures import sign
from pharmaqms.kernel.workflow import (
    Transition,
    TransitionResult,
    Workflow,
    configured_transitions,
    perform,
    states,
)
from pharmaqms.kernel.workflow import roles as role_names

ADMINISTRATORS = "admin"
TASK_KIND = "second_approval"


class Status:
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def _grant(session: Session, request: RoleGrantRequest, actor: Actor) -> None:
    user = get_user(session, request.grantee_id)
    if not user.is_active:
        raise Conflict(f"{user.username} is deactivated: {request.number} can't be approved")
    # A site role dropped by a version that came into force while the request waited.
    gone = sorted(set(request.roles) - {role.name for role in known_roles(session)})
    if gone:
        raise Conflict(
            f"{', '.join(gone)} no longer defined by the roles configuration in force: "
            f"{request.number} can't be approved; reject it"
        )
    with audit.changes(
        session,
        actor=actor,
        reason=f"{request.number} approved by a second administrator: {request.reason}",
        action="grant_roles",
    ):
        user.roles = sorted(set(user.roles) | set(request.roles))


def _only_the_requester(request: RoleGrantRequest, actor: Actor) -> list[str]:
    if request.created_by_id != actor.user_id:
        return [f"only the administrator who asked for {request.number} withdraws it"]
    return []


ROLE_GRANT_WORKFLOW = Workflow(
    record_type="role_grant_request",
    states=(Status.REQUESTED, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN),
    initial=Status.REQUESTED,
    transitions=(
        Transition(
            "approve",
            "Approve as second administrator",
            states(Status.REQUESTED),
            Status.APPROVED,
            role_names(ADMINISTRATORS),
            signature="Approved",
            forbid_author=True,
            forbid_holders_of=("grantee_id",),
            effects=(_grant,),
        ),
        Transition(
            "reject",
            "Reject",
            states(Status.REQUESTED),
            Status.REJECTED,
            role_names(ADMINISTRATORS),
            signature="Rejected",
            forbid_author=True,
            forbid_holders_of=("grantee_id",),
            reason_required=True,
        ),
        Transition(
            "withdraw",
            "Withdraw",
            states(Status.REQUESTED),
            Status.WITHDRAWN,
            role_names(ADMINISTRATORS),
            reason_required=True,
            actor_guards=(_only_the_requester,),
        ),
    ),
)


# --- which roles sign ----------------------------------------------------------------------


def _workflows() -> list[Workflow]:
    return [rt.workflow for rt in RECORD_TYPES.values()] + [ROLE_GRANT_WORKFLOW]


def signing_roles(session: Session) -> frozenset[str]:
    """Every role whose holders can sign something (see the module's docstring), by the
    configuration in force: the roles of the signed transitions and the roles' permissions."""
    named = {
        role
        for workflow in _workflows()
        for transition in configured_transitions(session, workflow)[1].values()
        if transition.signature
        for role in transition.roles
    }
    return frozenset(named | role_permissions.signing_roles(session))


# --- the request and its decision -----------------------------------------------------------


def pending_for(session: Session, user_id: int) -> list[RoleGrantRequest]:
    return list(
        session.scalars(
            select(RoleGrantRequest)
            .where(
                RoleGrantRequest.grantee_id == user_id,
                RoleGrantRequest.status == Status.REQUESTED,
            )
            .order_by(RoleGrantRequest.id)
        )
    )


def get_request(session: Session, request_id: int) -> RoleGrantRequest:
    request = session.get(RoleGrantRequest, request_id)
    if request is None:
        raise NotFound(f"no role grant request with id {request_id}")
    return request


def request_roles(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    roles: list[str],
    reason: str,
    password: str,
) -> RoleGrantRequest:
    """Ask for roles for someone else's account, signed (Authored) by the asking
    administrator; a second administrator finds it in their inbox."""
    actor.require("users.manage", "ask for roles")
    user = get_user(session, user_id)
    refuse_own_account(actor, user, "asks for roles for their own account")
    if not user.is_active:
        raise Conflict(f"{user.username} is deactivated")
    wanted = check_roles(session, roles)
    if not wanted:
        raise InvalidInput("name the roles to give", field="roles")
    held = sorted(set(wanted) & set(user.roles))
    if held:
        raise Conflict(f"{user.username} already holds {', '.join(held)}", field="roles")
    waiting = {
        role: pending.number
        for pending in pending_for(session, user.id)
        for role in pending.roles
        if role in wanted
    }
    if waiting:
        raise Conflict(
            "already asked for: "
            + ", ".join(f"{role} ({number})" for role, number in sorted(waiting.items())),
            field="roles",
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the roles are needed", field="reason")
    if not password:
        raise InvalidInput(
            "a request for roles is signed (Authored): enter your password", field="password"
        )
    request = RoleGrantRequest(
        grantee_id=user.id, roles=wanted, reason=reason, status=Status.REQUESTED
    )
    with audit.changes(session, actor=actor, reason=reason):
        session.add(request)
    sign(session, request, actor=actor, password=password, meaning="Authored", comment=reason)
    tasks.open_task(
        session,
        request,
        actor=actor,
        kind=TASK_KIND,
        title=(
            f"Second approval: give {user.username} ({user.full_name}) the role"
            f"{'s' if len(wanted) > 1 else ''} {', '.join(wanted)}, asked for by "
            f"{actor.full_name}"
        ),
        role=ADMINISTRATORS,
    )
    return request


def decide(
    session: Session,
    *,
    actor: Actor,
    request_id: int,
    decision: str,
    password: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Approve (signed), reject (signed, with a reason) or withdraw (by the requester)."""
    actor.require("users.manage", "decide on role grant requests")
    request = get_request(session, request_id)
    return perform(
        session,
        ROLE_GRANT_WORKFLOW,
        request,
        decision,
        actor=actor,
        password=password,
        reason=reason,
        comment=comment,
        expected_version=expected_version,
    )
