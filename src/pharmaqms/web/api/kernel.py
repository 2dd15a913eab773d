"""Kernel API: tokens, the current user, tasks, users (with role grant requests and password
resets), the audit trail, and the generic record endpoints (signatures, transitions, audit trail
of one record) every module shares."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from pharmaqms.kernel import auth, password_resets, role_grants, tasks
from pharmaqms.kernel.audit_query import AuditFilter, count_entries, find_entries, to_csv
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import Offset, RecordId
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.models import AuditEntry, RoleGrantRequest, SecurityAlert, User
from pharmaqms.kernel.registry import readable_record_type
from pharmaqms.kernel.reports.record import export_record_report, report_filename
from pharmaqms.kernel.schemas import (
    ApiTokenCreate,
    AuditEntryOut,
    Page,
    PasswordChange,
    PasswordResetOut,
    PasswordResetView,
    Reason,
    RecordOut,
    ResetAnswer,
    RoleGrantCreate,
    RoleGrantOut,
    RolesChange,
    SignatureOut,
    TaskOut,
    TokenOut,
    TokenRequest,
    TransitionOption,
    TransitionRequest,
    UserCreate,
    UserOut,
)
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.workflow import options, perform, require_reviewed_version

router = APIRouter(prefix="/api/v1")


def user_out(user: User, session: Any = None) -> UserOut:
    out = UserOut.model_validate(user)
    out.locked = user.locked_at is not None
    if session is not None:
        out.pending_roles = sorted(
            {r for p in role_grants.pending_for(session, user.id) for r in p.roles}
        )
    return out


def signature_list(session: Any, record: Any) -> list[SignatureOut]:
    return [
        SignatureOut(
            id=s.id,
            signer_name=s.signer_name,
            signer_username=s.signer_username,
            meaning=s.meaning,
            signed_at=s.signed_at,
            content_hash=s.content_hash,
            valid_for_current_content=s.valid_for_current_content,
            manifestation=s.manifestation,
        )
        for s in signatures_of(session, record)
    ]


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
def issue_token(body: TokenRequest, request: Request) -> TokenOut:
    """Exchange a username and password for a short-lived bearer token: the one way a person
    gets a token (failed attempts count toward the lockout as at login)."""
    with transaction(request) as session:
        user = auth.authenticate(
            session, username=body.username, password=body.password, channel=Channel.API
        )
        token, raw = auth.issue_login_token(
            session, user=user, channel=Channel.API, name=body.name, valid_days=body.valid_days
        )
        return TokenOut(token=raw, token_id=token.id, expires_at=token.expires_at)


@router.post("/auth/password", status_code=204, tags=["auth"])
def change_password(body: PasswordChange, request: Request) -> Response:
    with transaction(request) as session:
        auth.change_password(
            session,
            username=body.username,
            old_password=body.old_password,
            new_password=body.new_password,
        )
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, tags=["auth"])
def me(actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        return user_out(auth.get_user(session, actor.user_id), session)


@router.get("/tasks", response_model=list[TaskOut], tags=["tasks"])
def my_tasks(actor: ActorDep, request: Request) -> list[TaskOut]:
    with transaction(request) as session:
        return [
            TaskOut(
                id=i.task.id,
                record_type=i.task.record_type,
                record_id=i.task.record_id,
                record_label=i.task.record_label,
                kind=i.task.kind,
                title=i.task.title,
                assignee_role=i.task.assignee_role,
                due_at=i.task.due_at,
                status=i.task.status,
                overdue=i.overdue,
            )
            for i in tasks.inbox(session, actor)
        ]


# --- users ---------------------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(actor: ActorDep, request: Request) -> list[UserOut]:
    actor.require("users.read", "list users")
    with transaction(request) as session:
        return [user_out(u, session) for u in session.scalars(select(User).order_by(User.username))]


@router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
def add_user(body: UserCreate, actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        user = auth.add_user(
            session,
            actor=actor,
            username=body.username,
            full_name=body.full_name,
            email=body.email,
            roles=body.roles,
            password=body.password,
            service_account=body.service_account,
            signature_password=body.signature_password,
            grant_reason=body.grant_reason,
        )
        return user_out(user, session)


@router.post("/users/{user_id}/deactivate", response_model=UserOut, tags=["users"])
def deactivate(user_id: RecordId, body: Reason, actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        return user_out(
            auth.deactivate_user(session, actor=actor, user_id=user_id, reason=body.reason)
        )


@router.post("/users/{user_id}/reactivate", response_model=UserOut, tags=["users"])
def reactivate(user_id: RecordId, body: Reason, actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        return user_out(
            auth.reactivate_user(session, actor=actor, user_id=user_id, reason=body.reason)
        )


@router.post("/users/{user_id}/unlock", response_model=UserOut, tags=["users"])
def unlock(user_id: RecordId, body: Reason, actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        return user_out(auth.unlock_user(session, actor=actor, user_id=user_id, reason=body.reason))


@router.post("/users/{user_id}/roles", response_model=UserOut, tags=["users"])
def set_roles(user_id: RecordId, body: RolesChange, actor: ActorDep, request: Request) -> UserOut:
    with transaction(request) as session:
        return user_out(
            auth.set_roles(
                session, actor=actor, user_id=user_id, roles=body.roles, reason=body.reason
            ),
            session,
        )


@router.post("/users/{user_id}/reset-password", response_model=PasswordResetOut, tags=["users"])
def reset_password(user_id: RecordId, body: Reason, actor: ActorDep, request: Request) -> Any:
    """A temporary password, shown in this answer only, for one use: its owner changes it at
    first login. Every session and token of the account ends; the owner confirms the reset
    before signing again."""
    with transaction(request) as session:
        done = password_resets.reset_password(
            session, actor=actor, user_id=user_id, reason=body.reason
        )
        out = PasswordResetOut(
            user=user_out(done.user, session),
            reset_id=done.reset.id,
            temporary_password=done.secret,
            expires_at=done.reset.expires_at,
        )
    return JSONResponse(out.model_dump(mode="json"), headers={"cache-control": "no-store"})


# --- roles that sign: two administrators ---------------------------------------------------


def grant_out(session: Any, request: RoleGrantRequest) -> RoleGrantOut:
    session.flush()
    grantee = auth.get_user(session, request.grantee_id)
    requester = auth.get_user(session, request.created_by_id)
    return RoleGrantOut(
        id=request.id,
        number=request.number,
        status=request.status,
        version=request.version,
        grantee_id=grantee.id,
        grantee=grantee.username,
        roles=request.roles,
        reason=request.reason,
        requested_by=requester.username,
        requested_at=request.created_at,
        signatures=signature_list(session, request),
    )


@router.post(
    "/users/{user_id}/role-requests", response_model=RoleGrantOut, status_code=201, tags=["users"]
)
def request_roles(
    user_id: RecordId, body: RoleGrantCreate, actor: ActorDep, request: Request
) -> RoleGrantOut:
    """Ask for roles that sign for someone else's account, signed with your password; a second
    administrator approves or rejects it."""
    with transaction(request) as session:
        created = role_grants.request_roles(
            session,
            actor=actor,
            user_id=user_id,
            roles=body.roles,
            reason=body.reason,
            password=body.password,
        )
        return grant_out(session, created)


@router.get("/role-requests", response_model=list[RoleGrantOut], tags=["users"])
def role_requests(
    actor: ActorDep,
    request: Request,
    status: str | None = Query(default=None, max_length=40),
) -> list[RoleGrantOut]:
    actor.require("users.read", "see role grant requests")
    with transaction(request) as session:
        query = select(RoleGrantRequest).order_by(RoleGrantRequest.id.desc())
        if status:
            query = query.where(RoleGrantRequest.status == status)
        return [grant_out(session, r) for r in session.scalars(query)]


@router.get("/role-requests/{request_id}", response_model=RoleGrantOut, tags=["users"])
def role_request(request_id: RecordId, actor: ActorDep, request: Request) -> RoleGrantOut:
    actor.require("users.read", "see role grant requests")
    with transaction(request) as session:
        return grant_out(session, role_grants.get_request(session, request_id))


def _decide(
    request: Request, actor: Actor, request_id: RecordId, decision: str, body: TransitionRequest
) -> RoleGrantOut:
    require_reviewed_version(role_grants.ROLE_GRANT_WORKFLOW, decision, body.expected_version)
    with transaction(request) as session:
        result = role_grants.decide(
            session,
            actor=actor,
            request_id=request_id,
            decision=decision,
            password=body.password,
            reason=body.reason,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        assert isinstance(result.record, RoleGrantRequest)
        return grant_out(session, result.record)


@router.post("/role-requests/{request_id}/approve", response_model=RoleGrantOut, tags=["users"])
def approve_role_request(
    request_id: RecordId, body: TransitionRequest, actor: ActorDep, request: Request
) -> RoleGrantOut:
    """The second administrator's approval, signed: only now does the account get the roles."""
    return _decide(request, actor, request_id, "approve", body)


@router.post("/role-requests/{request_id}/reject", response_model=RoleGrantOut, tags=["users"])
def reject_role_request(
    request_id: RecordId, body: TransitionRequest, actor: ActorDep, request: Request
) -> RoleGrantOut:
    return _decide(request, actor, request_id, "reject", body)


@router.post("/role-requests/{request_id}/withdraw", response_model=RoleGrantOut, tags=["users"])
def withdraw_role_request(
    request_id: RecordId, body: TransitionRequest, actor: ActorDep, request: Request
) -> RoleGrantOut:
    return _decide(request, actor, request_id, "withdraw", body)


# --- one's own password resets ---------------------------------------------------------------


@router.get("/me/password-resets", response_model=list[PasswordResetView], tags=["auth"])
def my_password_resets(actor: ActorDep, request: Request) -> list[PasswordResetView]:
    with transaction(request) as session:
        return [
            PasswordResetView.model_validate(r)
            for r in password_resets.resets_of(session, actor.user_id)
        ]


@router.post(
    "/me/password-resets/{reset_id}/confirm", response_model=PasswordResetView, tags=["auth"]
)
def confirm_password_reset(
    reset_id: RecordId, body: ResetAnswer, actor: ActorDep, request: Request
) -> PasswordResetView:
    """Yes, I asked for this reset: signing works again."""
    with transaction(request) as session:
        reset = password_resets.confirm_reset(
            session, actor=actor, reset_id=reset_id, note=body.note
        )
        return PasswordResetView.model_validate(reset)


@router.post(
    "/me/password-resets/{reset_id}/dispute", response_model=PasswordResetView, tags=["auth"]
)
def dispute_password_reset(
    reset_id: RecordId, body: ResetAnswer, actor: ActorDep, request: Request
) -> PasswordResetView:
    """No, I did not ask for this reset: security is alerted."""
    with transaction(request) as session:
        reset = password_resets.dispute_reset(
            session, actor=actor, reset_id=reset_id, note=body.note or ""
        )
        return PasswordResetView.model_validate(reset)


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201, tags=["users"])
def create_token(
    user_id: RecordId, body: ApiTokenCreate, actor: ActorDep, request: Request
) -> TokenOut:
    with transaction(request) as session:
        token, raw = auth.create_api_token(
            session,
            actor=actor,
            user_id=user_id,
            name=body.name,
            valid_days=body.valid_days,
            never_expires="valid_days" in body.model_fields_set and body.valid_days is None,
        )
        return TokenOut(token=raw, token_id=token.id, expires_at=token.expires_at)


@router.get("/security/alerts", tags=["users"])
def alerts(actor: ActorDep, request: Request) -> list[dict[str, Any]]:
    actor.require("users.read", "see security alerts")
    with transaction(request) as session:
        return [
            {
                "id": a.id,
                "kind": a.kind,
                "user_id": a.user_id,
                "detail": a.detail,
                "raised_at": a.raised_at,
                "acknowledged_at": a.acknowledged_at,
            }
            for a in session.scalars(select(SecurityAlert).order_by(SecurityAlert.id.desc()))
        ]


# --- audit trail ---------------------------------------------------------------------------


def entry_out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=e.seq,
        occurred_at=e.occurred_at,
        actor_username=e.actor_username,
        actor_name=e.actor_name,
        channel=e.channel,
        action=e.action,
        record_type=e.record_type,
        record_id=e.record_id,
        record_label=e.record_label,
        changes=json.loads(e.changes),
        reason=e.reason,
        state_hash=e.state_hash,
        entry_hash=e.entry_hash,
    )


def _audit_response(
    request: Request, f: AuditFilter, limit: int, offset: int, fmt: str, filename: str
) -> Any:
    with transaction(request) as session:
        if fmt == "csv":
            rows = find_entries(session, f, limit=1_000_000, offset=0, newest_first=False)
            return download(
                to_csv(rows), filename=f"{filename}.csv", media_type="text/csv; charset=utf-8"
            )
        total = count_entries(session, f)
        items = [entry_out(e) for e in find_entries(session, f, limit=limit, offset=offset)]
        return Page[AuditEntryOut](items=items, total=total, limit=limit, offset=offset)


@router.get("/audit", tags=["audit"], responses=file_responses("text/csv; charset=utf-8"))
def audit_trail(
    actor: ActorDep,
    request: Request,
    record_type: str | None = None,
    record_id: RecordId | None = None,
    user: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
    format: str = Query(default="json", pattern="^(json|csv)$"),
) -> Any:
    if record_type and record_id is not None:
        # One record's trail: as for /records/{type}/{id}/audit, reading the record suffices.
        actor.require("records.read", "read records")
    else:
        actor.require("audit.read", "read the audit trail")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (e.g. 2026-01-31T00:00:00Z)", field=name)
    f = AuditFilter(record_type, record_id, user, action, since, until, q)
    return _audit_response(request, f, limit, offset, format, "audit-trail")


def _load(session: Any, type_name: str, record_id: RecordId, actor: Actor) -> Any:
    rt = readable_record_type(type_name, actor)
    record = session.get(rt.model, record_id)
    if record is None:
        raise NotFound(f"no {rt.label.lower()} with id {record_id}")
    return rt, record


@router.get(
    "/records/{type_name}/{record_id}/audit",
    tags=["records"],
    responses=file_responses("text/csv; charset=utf-8"),
)
def record_audit(
    type_name: str,
    record_id: RecordId,
    actor: ActorDep,
    request: Request,
    format: str = Query(default="json", pattern="^(json|csv)$"),
    limit: int = Query(default=500, ge=1, le=1000),
    offset: Offset = 0,
) -> Any:
    actor.require("records.read", "read records")
    with transaction(request) as session:
        _rt, record = _load(session, type_name, record_id, actor)
        filename = record.audit_label().replace(" ", "_")
    f = AuditFilter(record_type=type_name, record_id=record_id)
    return _audit_response(request, f, limit, offset, format, f"audit-{filename}")


@router.get(
    "/records/{type_name}/{record_id}/report.pdf",
    tags=["records"],
    response_class=Response,
    responses=file_responses("application/pdf"),
)
def record_report(
    type_name: str, record_id: RecordId, actor: ActorDep, request: Request
) -> Response:
    """Any record as a PDF: fields, linked records, signatures and audit trail in human terms.
    The download is recorded in the record's audit trail as an export."""
    actor.require("records.read", "read records")
    with transaction(request, write=True) as session:
        rt, record = _load(session, type_name, record_id, actor)
        content = export_record_report(session, rt, record, actor=actor)
        filename = report_filename(record)
    return download(content, filename=filename, media_type="application/pdf", disposition="inline")


@router.get("/records/{type_name}/{record_id}", response_model=RecordOut, tags=["records"])
def record_summary(
    type_name: str, record_id: RecordId, actor: ActorDep, request: Request
) -> RecordOut:
    """Any record's number, status and version: what a client sends back as
    ``expected_version`` when it signs what it reviewed."""
    actor.require("records.read", "read records")
    with transaction(request) as session:
        rt, record = _load(session, type_name, record_id, actor)
        return RecordOut(
            record_type=rt.name,
            id=record.id,
            number=record.number,
            status=record.status,
            version=record.version,
            content_hash=record.content_hash(),
        )


@router.get(
    "/records/{type_name}/{record_id}/signatures",
    response_model=list[SignatureOut],
    tags=["records"],
)
def record_signatures(
    type_name: str, record_id: RecordId, actor: ActorDep, request: Request
) -> list[SignatureOut]:
    actor.require("records.read", "read records")
    with transaction(request) as session:
        _rt, record = _load(session, type_name, record_id, actor)
        return signature_list(session, record)


@router.get(
    "/records/{type_name}/{record_id}/transitions",
    response_model=list[TransitionOption],
    tags=["records"],
)
def record_transitions(
    type_name: str, record_id: RecordId, actor: ActorDep, request: Request
) -> list[TransitionOption]:
    actor.require("records.read", "read records")
    with transaction(request) as session:
        rt, record = _load(session, type_name, record_id, actor)
        return [
            TransitionOption(
                name=o.transition.name,
                label=o.transition.label,
                target=o.transition.target,
                signature=o.transition.signature,
                reason_required=o.transition.reason_required,
                allowed=o.allowed,
                reasons=o.reasons,
            )
            for o in options(session, rt.workflow, record, actor)
        ]


@router.post("/records/{type_name}/{record_id}/transitions/{name}", tags=["records"])
def take_transition(
    type_name: str,
    record_id: RecordId,
    name: str,
    body: TransitionRequest,
    actor: ActorDep,
    request: Request,
) -> dict[str, Any]:
    with transaction(request) as session:
        rt, record = _load(session, type_name, record_id, actor)
        require_reviewed_version(rt.workflow, name, body.expected_version, session)
        result = perform(
            session,
            rt.workflow,
            record,
            name,
            actor=actor,
            password=body.password,
            reason=body.reason,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        session.flush()
        return {
            "id": record.id,
            "number": record.number,
            "status": record.status,
            "previous_status": result.previous_status,
            "version": record.version,
            "signature_id": result.signature.id if result.signature else None,
            # What the step did beyond its change of state (empty when nothing to say).
            "outcome": result.outcome,
        }
