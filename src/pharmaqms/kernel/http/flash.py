"""One-shot messages for the browser after a redirect (POST → redirect → GET)."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import Response

FLASH_COOKIE = "pqms_flash"


def flash_value(kind: str, message: str) -> str:
    return quote(json.dumps({"kind": kind, "message": message[:800]}))


def set_flash(response: Response, kind: str, message: str) -> None:
    response.set_cookie(FLASH_COOKIE, flash_value(kind, message), httponly=True, samesite="lax")


def pop_flash(request: Request, response: Response) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    response.delete_cookie(FLASH_COOKIE)
    try:
        value = json.loads(unquote(raw))
    except ValueError:
        return None
    if isinstance(value, dict) and {"kind", "message"} <= value.keys():
        return {"kind": str(value["kind"]), "message": str(value["message"])}
    return None
