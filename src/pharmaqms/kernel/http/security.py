"""Security headers on every response, the cookie ``Secure`` flag, and the pre-session CSRF
token of the forms people use before they have a session (login, change of password).

The pages need no inline script and no inline style (scripts and styles are files under
/static, charts are SVG with presentation attributes or classes), so the policy allows scripts
and styles from this site only. Two kinds of response get their own policy:

- an SVG document opened on its own (a chart's URL): it runs no script at all, and its own
  ``<style>`` and ``style=`` attributes are allowed, since nothing else lives in that document;
- the interactive API docs (Swagger UI), whose page starts with an inline script: that script
  is allowed by its SHA-256 hash, computed from the page as served, and nothing else inline.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.settings import get_settings

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        # Signing forms must never sit in someone else's frame (clickjacking a signature).
        "frame-ancestors 'none'",
    )
)
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
# Swagger UI: its assets (served from this site, kernel.http.api_docs) and the inline start-up
# script (allowed by its hash, nothing else inline).
DOCS_PATHS = frozenset({"/api/docs", "/api/docs/oauth2-redirect"})

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Same-origin requests keep the referer (a refused form goes back to its page); other
    # sites learn nothing of our URLs, which may carry record numbers.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000"

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def docs_policy(body: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(body)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            # Swagger UI sets style attributes from its script.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def _forwarded_https(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"x-forwarded-proto":
            # The proxy nearest to us appends last; "https, http" means the last hop was http.
            return value.decode("latin-1").split(",")[-1].strip().lower() == "https"
    return False


def scope_is_https(scope: Scope) -> bool:
    """HTTPS as the browser sees it: this connection, or a trusted proxy's word for it."""
    if scope.get("scheme") == "https":
        return True
    return get_settings().trust_proxy_headers and _forwarded_https(scope.get("headers", []))


def request_is_https(request: Request) -> bool:
    return scope_is_https(request.scope)


def cookie_secure(request: Request) -> bool:
    """Cookies are ``Secure`` when the request came over HTTPS, or always when the setting
    ``PHARMAQMS_COOKIE_SECURE`` says so (a deployment that is HTTPS only)."""
    return get_settings().cookie_secure or request_is_https(request)


class SecurityHeaders:
    """Pure ASGI middleware (no buffering, except the one docs page whose inline script must be
    hashed), so streamed downloads stay streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope_is_https(scope)
        if scope["path"] in DOCS_PATHS:
            await self._docs(scope, receive, send, https)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                svg = headers.get("content-type", "").startswith("image/svg+xml")
                _add(headers, SVG_POLICY if svg else PAGE_POLICY, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send, https: bool) -> None:
        start: Message | None = None
        body = bytearray()

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                _add(MutableHeaders(scope=start), docs_policy(bytes(body)), https)
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, buffer)


def _add(headers: MutableHeaders, policy: str, https: bool) -> None:
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = policy
    for name, value in HEADERS.items():
        if name.lower() not in headers:
            headers[name] = value
    if https:
        headers["Strict-Transport-Security"] = HSTS
    copy = sandbox.process_mark()
    if copy is not None:
        # An API client pointed at a sandbox copy by mistake can tell from any answer.
        headers["X-Pharmaqms-Sandbox"] = f"copy {copy.copy_id}; {copy.config_number} in force"


# --- the CSRF token of the forms used before a session exists ----------------------------

PRESESSION_COOKIE = "pqms_presession"
PRESESSION_MAX_AGE = 2 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def presession_token(request: Request) -> str:
    """The token of this browser's pre-session: the cookie's, or a new one. A login form
    posted from another site can't carry it (the cookie is SameSite=Strict and the site can't
    read the page), so a login CSRF — logging a victim into the attacker's account — fails."""
    current = request.cookies.get(PRESESSION_COOKIE, "")
    return current if _TOKEN.match(current) else secrets.token_urlsafe(32)


def set_presession_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        PRESESSION_COOKIE,
        token,
        max_age=PRESESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )


def presession_valid(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(PRESESSION_COOKIE, "")
    return bool(sent and _TOKEN.match(cookie) and secrets.compare_digest(sent, cookie))
