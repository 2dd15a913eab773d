"""The request id and the one structured line per request.

Every HTTP request gets an id: the caller's ``X-Request-ID`` when it is a plausible id (a
reverse proxy or a client that sets one can follow its request through), otherwise a new
random one. The id is returned in the response's ``X-Request-ID``, written in the request's
JSON log line, and recorded in every audit entry the request writes: through the actor of a
signed-in request, and for a request without one (a login, a public report) through
``request_context.current_request_id``, which the audit trail reads when the actor has none.

The line (logger ``pharmaqms.requests``, level INFO, the message is the JSON object) says:
time, method, route (the template, ``/api/v1/deviations/{deviation_id}``, never the raw path:
paths carry serial numbers and names), status, duration in milliseconds and the request id.
The same route template labels the latency histogram of the metrics."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pharmaqms.kernel.observability.request_context import enter_request, leave_request

REQUEST_ID_HEADER = "X-Request-ID"
# What an id sent by the caller may look like: short, printable, no spaces or quotes (it goes
# into a log line, a response header and the audit trail).
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,63}")

log = logging.getLogger("pharmaqms.requests")

REQUEST_SECONDS = Histogram(
    "pharmaqms_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def request_id_from(sent: str | None) -> str:
    """The caller's id when it is plausible, else a new one."""
    if sent and _PLAUSIBLE_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The route the router matched, as declared; one label for every unmatched path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return "<unmatched>"


class RequestObserver:
    """ASGI middleware, outermost: gives the request its id, times it, logs it, counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                sent = value.decode("latin-1")
                break
        rid = request_id_from(sent)
        scope.setdefault("state", {})["request_id"] = rid
        token = enter_request(rid)
        started = time.perf_counter()
        status = 500  # unless a response starts: an error that escaped everything

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
            log.info(
                json.dumps(
                    {
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "request_id": rid,
                    },
                    separators=(",", ":"),
                )
            )
            leave_request(token)
