"""Closure conditions: what must be true elsewhere before a change request may close.

Change control knows its own tasks; it does not know that a technology transfer's master batch
record and specification must be in force before the change that introduced them is closed.
Modules that attach such a condition to a change register it here at import, and the
``close`` transition asks every registered condition (a guard like any other), so quality never
imports the modules above it::

    from pharmaqms.quality.changes.closure import ClosureCheck, register_closure_condition

    def drafts_in_force(session, change) -> list[ClosureCheck]:
        # one check per thing this module attached to the change; none when it has nothing
        return [ClosureCheck("Technology transfer RCP-2026-0001 r1", ["MBR-2026-0003 is draft"])]

    register_closure_condition("rnd_transfer", drafts_in_force)

A check with problems blocks the closure, and each problem is a reason of the refusal, named as
the user reads it on the change's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, object_session


@dataclass(frozen=True)
class ClosureCheck:
    """One thing attached to a change, and what still keeps the change open (empty: met)."""

    label: str
    problems: list[str] = field(default_factory=list)
    # Where a person looks at it (a page of the module that attached it), and the permission
    # that page asks for: the link is shown only to those who hold it.
    url: str | None = None
    url_permission: str = "records.read"

    @property
    def met(self) -> bool:
        return not self.problems


ClosureCondition = Callable[[Session, Any], list[ClosureCheck]]
_CONDITIONS: dict[str, ClosureCondition] = {}


def register_closure_condition(name: str, condition: ClosureCondition) -> None:
    _CONDITIONS[name] = condition


def closure_checks(session: Session, change: Any) -> list[ClosureCheck]:
    """Every registered module's checks on this change, in the order of their names."""
    checks: list[ClosureCheck] = []
    for _name, condition in sorted(_CONDITIONS.items()):
        checks.extend(condition(session, change))
    return checks


def closure_conditions_met(change: Any) -> list[str]:
    """The guard of the ``close`` transition: every problem of every check."""
    session = object_session(change)
    if session is None:  # a record outside a session has nothing attached to check
        return []
    return [
        f"{check.label}: {problem}"
        for check in closure_checks(session, change)
        for problem in check.problems
    ]
