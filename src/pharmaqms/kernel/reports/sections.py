"""What a module adds to the printed report of a record beyond its fields, signatures and trail:
the records it is linked to, an OOS investigation's results, a batch record's steps and
exceptions. A module registers a function that returns sections; the kernel's report asks every
function registered for the record's type (and those registered for every type) in turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.text import format_value


@dataclass(frozen=True)
class Section:
    """A heading over a table (``columns`` as its header row; no columns: two-column
    label/value rows) and an optional note under it. Cells are text."""

    heading: str
    rows: list[list[str]]
    columns: tuple[str, ...] = ()
    note: str = ""
    # Relative column widths; the report shares the page width out by them.
    widths: tuple[float, ...] = field(default=())


SectionHook = Callable[[Session, GxPRecord], list[Section]]
ALL_TYPES = "*"
_HOOKS: dict[str, list[SectionHook]] = {}


def report_section(*record_types: str) -> Callable[[SectionHook], SectionHook]:
    """Decorator: ``@report_section("oos_investigation")`` (no names: every record type)."""

    def add(hook: SectionHook) -> SectionHook:
        for name in record_types or (ALL_TYPES,):
            hooks = _HOOKS.setdefault(name, [])
            if hook not in hooks:
                hooks.append(hook)
        return hook

    return add


def sections_for(session: Session, record: GxPRecord) -> list[Section]:
    """The type's own sections first, then those every record gets."""
    found: list[Section] = []
    for hook in (*_HOOKS.get(record.__audit_type__, ()), *_HOOKS.get(ALL_TYPES, ())):
        found.extend(hook(session, record))
    return found


def cells(*values: Any) -> list[str]:
    return [format_value(v) for v in values]
