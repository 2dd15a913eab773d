"""Every file the application hands out (a certificate PDF, a CSV export, a supplier's
certificate) goes out through ``download``, so its name reaches the browser intact whatever it
holds.

A response header is Latin-1 on the wire: a lot number such as ``PB26-Ω1`` in
``filename="…"`` can't even be encoded, and a quote or a line break in it would end the
header. RFC 6266 §4.3 gives both: a plain ASCII ``filename`` for old clients (every other
character replaced), and ``filename*=UTF-8''…`` (RFC 8187, percent-encoded) with the real name,
which every current browser prefers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import Response

# What may stand in a quoted ASCII filename: no quote, backslash, control or path character.
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+,;=@\[\]{}~#$&'!-]")
_MAX_NAME = 180
BINARY = {"type": "string", "format": "binary"}


def _ascii(char: str) -> str:
    """One character of the ASCII fallback: itself if safe, an accented letter's base letter
    (é → e), else "_"."""
    base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    return base if len(base) == 1 and not _UNSAFE_ASCII.match(base) else "_"


def content_disposition(
    filename: str, disposition: Literal["inline", "attachment"] = "attachment"
) -> str:
    """The Content-Disposition value for ``filename``: ASCII fallback plus the UTF-8 name."""
    # Characters that are not text (controls, line breaks, path separators) go in both forms.
    cleaned = "".join(
        "_" if unicodedata.category(c).startswith("C") or c in "/\\" else c for c in filename
    )
    cleaned = cleaned.strip().strip(".")[:_MAX_NAME] or "download"
    ascii_name = "".join(_ascii(c) for c in cleaned)
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != cleaned:
        value += f"; filename*=UTF-8''{quote(cleaned, safe='')}"
    return value


def download(
    content: bytes | str,
    *,
    filename: str,
    media_type: str,
    disposition: Literal["inline", "attachment"] = "attachment",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A file for the browser to show (``inline``: a PDF) or save (``attachment``: an export)."""
    all_headers = {"content-disposition": content_disposition(filename, disposition)}
    all_headers.update(headers or {})
    return Response(content, media_type=media_type, headers=all_headers)


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers with a file: the OpenAPI document lists each
    media type it may send (beside JSON, for a route that also answers JSON)."""
    content = {
        media: {"schema": {"type": "string"} if media.startswith("text/") else BINARY}
        for media in media_types
    }
    return {200: {"description": "The file.", "content": content}}
