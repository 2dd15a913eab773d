"""Login, logout, the change of one's own password, one's own time zone, and the owner's answer
to a password reset by an administrator ("was it you who asked?")."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel import auth, password_resets, user_time_zones
from pharmaqms.kernel.errors import AuthenticationFailed, PasswordExpired, QMSError
from pharmaqms.kernel.http.context import CSRF_FIELD, SESSION_COOKIE, transaction
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page, safe_next
from pharmaqms.kernel.http.security import (
    cookie_secure,
    presession_token,
    presession_valid,
    set_presession_cookie,
)
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.timezones import site_zone, zone_names

router = APIRouter(tags=["ui"], include_in_schema=False)

register_page("password_reset", lambda reset_id: f"/account/password-resets/{reset_id}")


# Said when a form without a valid pre-session token arrives: an expired page, cookies off,
# or a form posted from another site. Nothing is checked or counted then.
FORM_EXPIRED = "the form has expired or did not come from this site: please try again"


def _presession_form(request: Request, template: str, context: dict[str, str]) -> HTMLResponse:
    """A form used without a session: it carries the pre-session CSRF token."""
    token = presession_token(request)
    page = render(request, template, {**context, "presession_token": token})
    set_presession_cookie(request, page, token)
    return page


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _presession_form(request, "kernel/login.html", {"next": safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> RedirectResponse:
    target = safe_next(next)
    if not presession_valid(request, csrf_token):
        return redirect(f"/login?next={quote(target)}", FORM_EXPIRED, "error")
    try:
        with transaction(request) as session:
            user = auth.authenticate(
                session, username=username, password=password, channel=Channel.UI
            )
            opened = auth.open_web_session(session, user)
    except PasswordExpired as refused:
        name = str(refused.extra.get("username", username))
        return redirect(f"/password?username={quote(name)}", refused.detail, "error")
    except AuthenticationFailed as refused:
        # Wrong password or locked account: the reason, and the form again.
        return redirect(f"/login?next={quote(target)}", refused.detail, "error")
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, actor: ActorDep) -> RedirectResponse:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with transaction(request) as session:
            auth.end_web_session(session, raw)
    response = redirect("/login", f"{actor.full_name} logged out.", "info")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, username: str = "") -> HTMLResponse:
    return _presession_form(request, "kernel/password.html", {"username": username[:64]})


@router.post("/password")
def change_password(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    old_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    confirm_password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> RedirectResponse:
    back = f"/password?username={quote(username)}"
    if not presession_valid(request, csrf_token):
        return redirect(back, FORM_EXPIRED, "error")
    if new_password != confirm_password:
        return redirect(back, "the new password and its confirmation differ", "error")
    try:
        with transaction(request) as session:
            auth.change_password(
                session, username=username, old_password=old_password, new_password=new_password
            )
    except QMSError as refused:
        return redirect(back, refused.detail, "error")
    return redirect("/login", "Password changed: log in with the new password.")


@router.get("/account/password-resets/{reset_id}", response_class=HTMLResponse)
def password_reset(reset_id: int, request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        reset = password_resets.own_reset(session, actor=actor, reset_id=reset_id)
        resetter = auth.get_user(session, reset.reset_by_id)
        return render(request, "kernel/password_reset.html", {"reset": reset, "resetter": resetter})


@router.post("/account/password-resets/{reset_id}/confirm")
def confirm_password_reset(reset_id: int, request: Request, actor: ActorDep) -> RedirectResponse:
    with transaction(request) as session:
        password_resets.confirm_reset(session, actor=actor, reset_id=reset_id)
    return redirect("/", "Thank you: the reset is confirmed, and you can sign again.")


@router.post("/account/password-resets/{reset_id}/dispute")
def dispute_password_reset(
    reset_id: int,
    request: Request,
    actor: ActorDep,
    note: Annotated[str, Form(max_length=2000)],
) -> RedirectResponse:
    with transaction(request) as session:
        password_resets.dispute_reset(session, actor=actor, reset_id=reset_id, note=note)
    return redirect("/", "Security has been alerted that you did not ask for this reset.")


@router.get("/account/time-zone", response_class=HTMLResponse)
def my_time_zone(request: Request, actor: ActorDep) -> HTMLResponse:
    with transaction(request) as session:
        chosen = user_time_zones.time_zone_of(session, actor.user_id)
    return render(
        request,
        "kernel/time_zone.html",
        {"chosen": chosen, "site_zone": site_zone().key, "zone_names": sorted(zone_names())},
    )


@router.post("/account/time-zone")
def save_my_time_zone(
    request: Request, actor: ActorDep, time_zone: Annotated[str, Form(max_length=64)] = ""
) -> RedirectResponse:
    try:
        with transaction(request) as session:
            row = user_time_zones.set_time_zone(
                session, actor=actor, user_id=actor.user_id, time_zone=time_zone
            )
            shown = row.time_zone if row is not None and row.time_zone else None
    except QMSError as refused:
        return redirect("/account/time-zone", refused.detail, "error")
    message = f"Times are now shown in {shown}." if shown else "Times follow the site's zone."
    return redirect("/account/time-zone", message)
