"""The id of the HTTP request being served, for code that has no request at hand: the audit
trail records it in the entries of a request that has no signed-in actor. Set by
``requests.RequestObserver``; None in the CLI, the MQTT worker and the job runner."""

from __future__ import annotations

from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("pharmaqms_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def enter_request(request_id: str) -> Token[str | None]:
    return _current.set(request_id)


def leave_request(token: Token[str | None]) -> None:
    _current.reset(token)
