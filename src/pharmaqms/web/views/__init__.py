"""UI routers, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

# Installs the menu and the filters the shared partials use on the one Jinja environment.
from pharmaqms.web.views import layout as _layout  # noqa: F401

ROUTERS: list[APIRouter] = []
