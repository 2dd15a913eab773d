"""Who is asking, and through which door: bearer tokens for the API and integrations, session
cookies (with a CSRF token on every unsafe request) for the browser."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import AuthenticationFailed, PermissionDenied
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.observability.requests import request_id_from
from pharmaqms.kernel.timezones import set_reader_zone
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import time_zone_of

SESSION_COOKIE = "pqms_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(AuthenticationFailed):
    code = "login_required"
    title = "Login required"


def request_id(request: Request) -> str:
    """The id ``RequestObserver`` gave the request (returned in its ``X-Request-ID``)."""
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = request_id_from(request.headers.get("x-request-id"))
    return str(rid)


# Paths outside /api/ that machines call (a load balancer, Prometheus): a refusal is
# problem+json with its status, never a redirect to the login page.
MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in MACHINE_PATHS


async def _csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_actor(request: Request) -> Actor:
    """Resolve the actor for this request, or refuse. Cached on the request."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rid = request_id(request)
    header = request.headers.get("authorization", "")
    with unit_of_work() as session:
        if header.lower().startswith("bearer "):
            user = auth.resolve_api_token(session, header[7:].strip())
            if user is None:
                raise AuthenticationFailed("the bearer token is unknown, expired or revoked")
            actor = auth.actor_for(session, user, Channel.API).via(Channel.API, rid)
        else:
            raw = request.cookies.get(SESSION_COOKIE)
            resolved = auth.resolve_web_session(session, raw) if raw else None
            if resolved is None:
                raise LoginRequired("log in first (or send a bearer token)")
            web, user = resolved
            if request.method not in SAFE_METHODS:
                sent = await _csrf_token_sent(request)
                if not sent or not secrets.compare_digest(sent, web.csrf_token):
                    raise PermissionDenied(
                        "the form's CSRF token is missing or wrong: reload the page and retry"
                    )
            auth.touch_web_session(session, web)
            request.state.csrf_token = web.csrf_token
            channel = Channel.API if is_api(request) else Channel.UI
            actor = auth.actor_for(session, user, channel).via(channel, rid)
        # From here on this request shows and reads times in the person's zone.
        set_reader_zone(time_zone_of(session, user.id))
    request.state.actor = actor
    return actor


@contextmanager
def transaction(request: Request, *, write: bool | None = None) -> Iterator[Session]:
    """The unit of work of one request: commits when the block ends without error."""
    if write is None:
        write = request.method not in SAFE_METHODS
    with unit_of_work(write=write) as session:
        yield session
