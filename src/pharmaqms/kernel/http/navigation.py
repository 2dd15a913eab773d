"""The main menu. Modules add their pages with ``add``; the base template renders what the
current user may see, grouped by section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    section: str  # "Quality", "Production", "Distribution", "Use", "Data", "R&D", "Admin"
    label: str
    url: str
    permission: str = "records.read"
    order: int = 100


NAV: list[NavItem] = []


def add(item: NavItem) -> None:
    if all(existing.url != item.url for existing in NAV):
        NAV.append(item)
        NAV.sort(key=lambda i: (i.section, i.order, i.label))
