"""Small helpers every module's pages share: the actor dependency, redirects with a flash
message, and where a record's page is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pharmaqms.kernel.http.context import current_actor
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES

ActorDep = Annotated[Actor, Depends(current_actor)]

PAGE_SIZE = 50


def redirect(url: str, message: str | None = None, kind: str = "success") -> RedirectResponse:
    """POST → redirect → GET, with the outcome shown once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        set_flash(response, kind, message)
    return response


# Pages of audited rows that are not registered record types (a role grant request, a password
# reset), so that a task about one links to it: record type → URL of the row with this id.
PAGES: dict[str, Callable[[int], str]] = {}


def register_page(record_type: str, url: Callable[[int], str]) -> None:
    PAGES[record_type] = url


def record_url(record_type: str, record: Any) -> str:
    """The richest page for a record: the module's own page if it has one, else the generic."""
    rt = RECORD_TYPES.get(record_type)
    if rt is not None and rt.detail_url is not None:
        return rt.detail_url(record)
    return f"/records/{record_type}/{record.id}"


def record_url_by_id(session: Session, record_type: str, record_id: int) -> str:
    if record_type in PAGES:
        return PAGES[record_type](record_id)
    rt = RECORD_TYPES.get(record_type)
    if rt is not None and rt.detail_url is not None:
        record = session.get(rt.model, record_id)
        if record is not None:
            return rt.detail_url(record)
    return f"/records/{record_type}/{record_id}"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: a login link must not send people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def page_offset(raw: str | None) -> int:
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        return 0
