"""Jinja2 templates and the one render function every page goes through."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.http.flash import pop_flash
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.timezones import local, reader_zone, zone_suffix
from pharmaqms.kernel.workflow_sign_offs import PREFIX as SIGN_OFF_PREFIX

# Templates live with the web layer (web/templates/<module>/); the shell only knows where.
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "web" / "templates"
TEMPLATES = Jinja2Templates(directory=str(TEMPLATE_DIR))
DEFAULT_FORMAT = "%Y-%m-%d %H:%M UTC"


def _utc(value: datetime | date | None, fmt: str = DEFAULT_FORMAT) -> str:
    """A stored (UTC) time for the reader, in the reader's time zone: the filter keeps its old
    name so templates need no change. The default and any format ending in " UTC" end with
    the zone and offset instead (``2026-12-06 23:41 CET (+01:00)``); another format (a date, a
    ``datetime-local`` field's value) is the reader's wall clock as it says."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.strftime(fmt.removesuffix(" UTC"))
    if fmt == DEFAULT_FORMAT:
        return format_time(value)
    shown = local(value)
    if fmt.endswith(" UTC"):
        return f"{shown.strftime(fmt.removesuffix(' UTC'))} {zone_suffix(shown)}"
    return shown.strftime(fmt)


def _zone_name() -> str:
    return reader_zone().key


def _label(value: Any) -> str:
    return str(value).replace("_", " ") if value is not None else ""


TEMPLATES.env.filters["utc"] = _utc
TEMPLATES.env.filters["label"] = _label
# A step a site's configuration added (a sign-off), not one of the code's transitions: pages
# that draw their own buttons leave these to the shared partial.
TEMPLATES.env.tests["sign_off_step"] = lambda name: str(name).startswith(SIGN_OFF_PREFIX)
TEMPLATES.env.globals["now"] = clock.now
# The zone the page is shown in (the footer says it; forms say what typed times are read in).
TEMPLATES.env.globals["time_zone"] = _zone_name


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
        # A sandbox copy says so on every page (read once per database, then kept).
        "sandbox": sandbox.process_mark(),
        **(context or {}),
    }
    page = TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    for key, value in response.headers.items():
        if key == "set-cookie":
            page.headers.append(key, value)
    return page
