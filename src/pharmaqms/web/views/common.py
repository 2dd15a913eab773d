"""Kept for older imports: the page helpers live in ``pharmaqms.kernel.http.pages`` so that
module views below the web layer can use them."""

from __future__ import annotations

from pharmaqms.kernel.http.pages import (
    PAGE_SIZE,
    ActorDep,
    page_offset,
    record_url,
    record_url_by_id,
    redirect,
    safe_next,
)

__all__ = [
    "PAGE_SIZE",
    "ActorDep",
    "page_offset",
    "record_url",
    "record_url_by_id",
    "redirect",
    "safe_next",
]
