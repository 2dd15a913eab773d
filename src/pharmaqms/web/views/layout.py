"""What every page's layout needs from Python: the main menu for the actor, and the filters the
shared partials use (audit changes, display of values). Installed on the kernel's one Jinja
environment, so templates of every module (which extend base.html) get them too."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from pharmaqms.kernel.http.navigation import NAV, NavItem
from pharmaqms.kernel.http.templating import TEMPLATES
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.reports.text import format_time, format_value
from pharmaqms.kernel.reports.trail import human_entry
from pharmaqms.kernel.roles import READ_ONLY_ROLES

# Sections in the order a quality department thinks of them; unknown sections go last.
SECTION_ORDER = ("Home", "Quality", "R&D", "Production", "Distribution", "Use", "Data", "Admin")


def main_menu(actor: Actor | None) -> list[tuple[str, list[NavItem]]]:
    if actor is None:
        return []
    visible = [item for item in NAV if actor.can(item.permission)]

    def rank(item: NavItem) -> tuple[int, str, int, str]:
        known = item.section in SECTION_ORDER
        index = SECTION_ORDER.index(item.section) if known else len(SECTION_ORDER)
        return (index, item.section, item.order, item.label)

    visible.sort(key=rank)
    return [(section, list(items)) for section, items in groupby(visible, key=lambda i: i.section)]


def is_read_only(actor: Actor | None) -> bool:
    """An auditor or inspector: sees everything, is offered no button that changes anything."""
    return actor is None or (bool(actor.roles) and actor.roles <= READ_ONLY_ROLES)


def display(value: Any) -> str:
    """A field value as a person reads it on a page: times in the reader's zone, yes/no, a
    dash for nothing (the rest as ``kernel.reports.text.format_value`` reads it)."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value) or "—"
    return format_value(value)


def install() -> None:
    env = TEMPLATES.env
    env.globals["main_menu"] = main_menu
    env.globals["is_read_only"] = is_read_only
    env.globals["record_types"] = RECORD_TYPES
    env.filters["display"] = display
    env.filters["human_entry"] = human_entry
    env.filters["when"] = format_time


install()
