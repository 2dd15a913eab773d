"""What every page's layout needs from Python: the main menu for the actor, and the filters the
shared partials use (audit changes, display of values). Installed on the kernel's one Jinja
environment, so templates of every module (which extend base.html) get them too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from itertools import groupby
from typing import Any

from pharmaqms.kernel.http.navigation import NAV, NavItem
from pharmaqms.kernel.http.templating import TEMPLATES
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RECORD_TYPES
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


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    paired: bool  # False for an event's details, which have a value but no "before"


def audit_changes(raw: str) -> list[FieldChange]:
    """An audit entry's stored changes: ``{field: [old, new]}`` for a change of a row,
    ``{key: value}`` for an event (a signature, a login)."""
    try:
        changes = json.loads(raw)
    except ValueError:
        return [FieldChange("", None, raw, paired=False)]
    if not isinstance(changes, dict):
        return [FieldChange("", None, changes, paired=False)]
    found = []
    for name, values in changes.items():
        if isinstance(values, list) and len(values) == 2:
            found.append(FieldChange(name, values[0], values[1], paired=True))
        else:
            found.append(FieldChange(name, None, values, paired=False))
    return found


def audit_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def display(value: Any) -> str:
    """A field value as a person reads it: UTC times, yes/no, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def install() -> None:
    env = TEMPLATES.env
    env.globals["main_menu"] = main_menu
    env.globals["is_read_only"] = is_read_only
    env.globals["record_types"] = RECORD_TYPES
    env.filters["audit_changes"] = audit_changes
    env.filters["audit_text"] = audit_text
    env.filters["display"] = display


install()
