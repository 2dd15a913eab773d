"""Jinja2 templates and the one render function every page goes through."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pharmaqms.kernel import clock
from pharmaqms.kernel.http.flash import pop_flash
from pharmaqms.kernel.settings import get_settings

# Templates live with the web layer (web/templates/<module>/); the shell only knows where.
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "web" / "templates"
TEMPLATES = Jinja2Templates(directory=str(TEMPLATE_DIR))


def _utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return "" if value is None else value.strftime(fmt)


def _label(value: Any) -> str:
    return str(value).replace("_", " ") if value is not None else ""


TEMPLATES.env.filters["utc"] = _utc
TEMPLATES.env.filters["label"] = _label
TEMPLATES.env.globals["now"] = clock.now


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    response = HTMLResponse("")
    flash = pop_flash(request, response)
    values = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "flash": flash,
        "site_name": get_settings().site_name,
        **(context or {}),
    }
    page = TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    for key, value in response.headers.items():
        if key == "set-cookie":
            page.headers.append(key, value)
    return page
