"""User administration (Part 11 §11.10(d), §11.300): accounts, roles, lockouts, password resets,
API tokens of service accounts, and the security alerts an administrator must acknowledge.
Roles that sign are given by a request one administrator signs and a second approves. Every
change goes through the identity services, which ask for the reason and audit it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Select, String, case, select, type_coerce
from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel import auth, clock, password_resets, role_grants, user_time_zones
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page, safe_next
from pharmaqms.kernel.http.registers import (
    Column,
    Filter,
    Register,
    fixed_options,
    register_response,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.models import ApiToken, RoleGrantRequest, SecurityAlert, User
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.timezones import site_zone
from pharmaqms.kernel.workflow import options, require_reviewed_version

router = APIRouter(prefix="/admin", tags=["ui"], include_in_schema=False)

add(NavItem("Admin", "Users and security", "/admin/users", "users.read", 10))

register_page("role_grant_request", lambda request_id: f"/admin/role-requests/{request_id}")

Reason = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=256)]


@dataclass(frozen=True)
class UserLine:
    user: User

    @property
    def status(self) -> str:
        if not self.user.is_active:
            return "deactivated"
        if self.user.locked_at is not None:
            return "locked"
        return "active"

    @property
    def password_age_days(self) -> int | None:
        changed = self.user.password_changed_at
        return None if changed is None else (clock.now() - changed).days


def _roles(session: Session) -> list[auth.KnownRole]:
    # The code's roles and the site roles of the roles configuration in force now.
    return auth.known_roles(session)


def _roles_cell(user: User) -> str:
    """The account's roles as the register exports them: a role the roles configuration in
    force no longer defines is marked, as on the page (read once per export's session)."""
    session = object_session(user)
    if session is None:
        return ", ".join(user.roles or [])
    defined = session.info.get("pharmaqms.defined_roles")
    if defined is None:
        defined = session.info["pharmaqms.defined_roles"] = {r.name for r in _roles(session)}
    return ", ".join(
        role if role in defined else f"{role} (no longer defined: gives no permissions)"
        for role in user.roles or []
    )


def _names(session: Session) -> dict[int, str]:
    return {u.id: u.username for u in session.scalars(select(User))}


def _pending(session: Session) -> list[RoleGrantRequest]:
    return list(
        session.scalars(
            select(RoleGrantRequest)
            .where(RoleGrantRequest.status == role_grants.Status.REQUESTED)
            .order_by(RoleGrantRequest.id)
        )
    )


USER_STATUS = case(
    (User.is_active.is_(False), "deactivated"),
    (User.locked_at.is_not(None), "locked"),
    else_="active",
)


def _holds_role(query: Select[Any], value: Any) -> Select[Any]:
    # Roles are stored as a JSON list of names: the quoted name is found in its text.
    return query.where(type_coerce(User.roles, String).contains(f'"{value}"', autoescape=True))


def _role_options(session: Session) -> list[tuple[str, str]]:
    return [(r.name, r.name) for r in _roles(session)]


USER_REGISTER = Register(
    name="users",
    title="Users",
    query=lambda _session, _actor: select(User),
    columns=(
        Column("username", "Username", lambda u: u.username, User.username),
        Column("full_name", "Full name", lambda u: u.full_name, User.full_name, filter="text"),
        Column(
            "status",
            "Status",
            lambda u: UserLine(u).status,
            USER_STATUS,
            filter="choice",
            options=fixed_options(["active", "locked", "deactivated"]),
        ),
        Column("roles", "Roles", _roles_cell),
        Column("last_login", "Last login", lambda u: u.last_login_at, User.last_login_at),
        Column(
            "password_age",
            "Password age (days)",
            lambda u: UserLine(u).password_age_days,
            User.password_changed_at,
            inverted=True,
        ),
    ),
    default_sort="username",
    tiebreak=User.id,
    extra_filters=(Filter("role", "Role", "choice", _holds_role, _role_options),),
)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, actor: ActorDep) -> Response:
    actor.require("users.read", "see users")

    def context(session: Session) -> dict[str, Any]:
        alerts = session.scalars(
            select(SecurityAlert).order_by(
                SecurityAlert.acknowledged_at.is_not(None), SecurityAlert.raised_at.desc()
            )
        )
        return {
            "line_of": UserLine,
            "roles": _roles(session),
            "signing_roles": role_grants.signing_roles(session),
            "alerts": list(alerts),
            "pending": _pending(session),
            "names": _names(session),
        }

    return register_response(request, actor, USER_REGISTER, "kernel/users.html", context)


@router.post("/users")
def add_user(
    request: Request,
    actor: ActorDep,
    username: Annotated[str, Form(max_length=64)],
    full_name: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    password: Annotated[str, Form(max_length=256)] = "",
    service_account: Annotated[bool, Form()] = False,
    signature_password: Password = "",
    grant_reason: Reason = "",
) -> RedirectResponse:
    with transaction(request) as session:
        user = auth.add_user(
            session,
            actor=actor,
            username=username,
            full_name=full_name,
            email=email.strip() or None,
            roles=roles or [],
            password=password or None,
            service_account=service_account,
            signature_password=signature_password or None,
            grant_reason=grant_reason or None,
        )
        message = f"User {user.username} ({user.full_name}) added."
        waiting = role_grants.pending_for(session, user.id)
        if waiting:
            message += (
                f" The roles {', '.join(waiting[0].roles)} wait for a second administrator "
                f"({waiting[0].number})."
            )
        target = f"/admin/users/{user.id}"
    return redirect(target, message)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(user_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("users.read", "see users")
    with transaction(request) as session:
        user = auth.get_user(session, user_id)
        tokens = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
        return render(
            request,
            "kernel/user.html",
            {
                "line": UserLine(user),
                "roles": _roles(session),
                "signing_roles": role_grants.signing_roles(session),
                "tokens": list(tokens),
                "pending": role_grants.pending_for(session, user.id),
                "resets": password_resets.resets_of(session, user.id),
                "names": _names(session),
                "user_zone": user_time_zones.time_zone_of(session, user.id),
                "site_zone": site_zone().key,
            },
        )


@router.post("/users/{user_id}/roles")
def change_roles(
    user_id: int,
    request: Request,
    actor: ActorDep,
    reason: Reason,
    roles: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        user = auth.set_roles(
            session, actor=actor, user_id=user_id, roles=roles or [], reason=reason
        )
        message = f"Roles of {user.username}: {', '.join(user.roles) or 'none'}."
    return redirect(f"/admin/users/{user_id}", message)


@router.post("/users/{user_id}/time-zone")
def set_time_zone(
    user_id: int,
    request: Request,
    actor: ActorDep,
    reason: Reason,
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        row = user_time_zones.set_time_zone(
            session, actor=actor, user_id=user_id, time_zone=time_zone, reason=reason
        )
        user = auth.get_user(session, user_id)
        zone = row.time_zone if row is not None and row.time_zone else "the site's default"
        message = f"Time zone of {user.username}: {zone}."
    return redirect(f"/admin/users/{user_id}", message)


@router.post("/users/{user_id}/deactivate")
def deactivate(user_id: int, request: Request, actor: ActorDep, reason: Reason) -> RedirectResponse:
    with transaction(request) as session:
        user = auth.deactivate_user(session, actor=actor, user_id=user_id, reason=reason)
        message = f"{user.username} deactivated; their sessions are ended."
    return redirect(f"/admin/users/{user_id}", message)


@router.post("/users/{user_id}/reactivate")
def reactivate(user_id: int, request: Request, actor: ActorDep, reason: Reason) -> RedirectResponse:
    with transaction(request) as session:
        user = auth.reactivate_user(session, actor=actor, user_id=user_id, reason=reason)
        message = f"{user.username} reactivated."
    return redirect(f"/admin/users/{user_id}", message)


@router.post("/users/{user_id}/unlock")
def unlock(user_id: int, request: Request, actor: ActorDep, reason: Reason) -> RedirectResponse:
    with transaction(request) as session:
        user = auth.unlock_user(session, actor=actor, user_id=user_id, reason=reason)
        message = f"{user.username} unlocked."
    return redirect(f"/admin/users/{user_id}", message)


@router.post("/users/{user_id}/reset-password", response_class=HTMLResponse)
def reset_password(user_id: int, request: Request, actor: ActorDep, reason: Reason) -> HTMLResponse:
    # The temporary password exists only in this response: shown once, never stored, so this
    # POST renders a page instead of redirecting.
    with transaction(request) as session:
        done = password_resets.reset_password(session, actor=actor, user_id=user_id, reason=reason)
        page = render(
            request,
            "kernel/password_reset_done.html",
            {"user": done.user, "reset": done.reset, "secret": done.secret},
        )
    page.headers["cache-control"] = "no-store"
    return page


@router.post("/users/{user_id}/role-requests")
def request_roles(
    user_id: int,
    request: Request,
    actor: ActorDep,
    reason: Reason,
    password: Password,
    roles: Annotated[list[str] | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        created = role_grants.request_roles(
            session,
            actor=actor,
            user_id=user_id,
            roles=roles or [],
            reason=reason,
            password=password,
        )
        message = (
            f"{created.number}: the roles {', '.join(created.roles)} wait for a second "
            "administrator's approval."
        )
        target = f"/admin/role-requests/{created.id}"
    return redirect(target, message)


@router.get("/role-requests/{request_id}", response_class=HTMLResponse)
def role_request(request_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("users.read", "see role grant requests")
    with transaction(request) as session:
        grant = role_grants.get_request(session, request_id)
        return render(
            request,
            "kernel/role_request.html",
            {
                "grant": grant,
                "grantee": auth.get_user(session, grant.grantee_id),
                "requester": auth.get_user(session, grant.created_by_id),
                "signatures": signatures_of(session, grant),
                "options": options(session, role_grants.ROLE_GRANT_WORKFLOW, grant, actor)
                if actor.can("users.manage")
                else [],
            },
        )


@router.post("/role-requests/{request_id}/transitions/{name}")
def decide_role_request(
    request_id: int,
    name: str,
    request: Request,
    actor: ActorDep,
    expected_version: Annotated[int | None, Form()] = None,
    password: Password = "",
    reason: Reason = "",
    comment: Reason = "",
) -> RedirectResponse:
    require_reviewed_version(role_grants.ROLE_GRANT_WORKFLOW, name, expected_version)
    with transaction(request) as session:
        result = role_grants.decide(
            session,
            actor=actor,
            request_id=request_id,
            decision=name,
            password=password or None,
            reason=reason or None,
            comment=comment or None,
            expected_version=expected_version,
        )
        signed = f", signed “{result.signature.meaning}”" if result.signature else ""
        message = f"{result.record.audit_label()}: {result.transition.label} done{signed}."
    return redirect(f"/admin/role-requests/{request_id}", message)


@router.post("/users/{user_id}/tokens", response_class=HTMLResponse)
def create_token(
    user_id: int,
    request: Request,
    actor: ActorDep,
    name: Annotated[str, Form(max_length=100)],
    valid_days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> HTMLResponse:
    # The raw token exists only in this response: it is shown once and never stored, so this
    # POST renders a page instead of redirecting.
    with transaction(request) as session:
        token, raw = auth.create_api_token(
            session, actor=actor, user_id=user_id, name=name, valid_days=valid_days
        )
        user = auth.get_user(session, user_id)
        page = render(
            request, "kernel/token_created.html", {"token": token, "raw": raw, "user": user}
        )
    page.headers["cache-control"] = "no-store"
    return page


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, request: Request, actor: ActorDep, reason: Reason
) -> RedirectResponse:
    with transaction(request) as session:
        token = auth.revoke_api_token(session, actor=actor, token_id=token_id, reason=reason)
        message = f"API token {token.token_prefix}… ({token.name}) revoked."
        target = f"/admin/users/{token.user_id}"
    return redirect(target, message)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: int,
    request: Request,
    actor: ActorDep,
    note: Annotated[str, Form(max_length=2000)],
    next: Annotated[str, Form(max_length=200)] = "/admin/users",
) -> RedirectResponse:
    with transaction(request) as session:
        auth.acknowledge_alert(session, actor=actor, alert_id=alert_id, note=note)
    return redirect(safe_next(next, "/admin/users"), "Security alert acknowledged.")
