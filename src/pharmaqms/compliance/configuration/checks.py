"""The checks a configuration version passes at every step, as functions returning the
reasons it can't go on (empty: it may): its content against the kind's schema and against the
controls the code demands, its change control, and its effective date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.configuration.models import ConfigStatus, ConfigVersion
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.quality.changes.models import OPEN_STATUSES, ChangeRequest, ChangeStatus


def schema_problems(key: str, content: Any) -> list[str]:
    return store.kind(key).validate(content)


def reference_problems(session: Session, key: str, content: Any) -> list[str]:
    """What the content names that does not exist (checked on well-formed content only)."""
    config_kind = store.kind(key)
    return config_kind.references(session, content) if config_kind.references else []


def control_problems(key: str, content: Any) -> list[str]:
    """What the version would take away that the code demands (checked on well-formed content
    only: a malformed one is refused as such first)."""
    return store.kind(key).controls(content)


def content_problems(key: str, content: Any) -> list[str]:
    return schema_problems(key, content) or control_problems(key, content)


@dataclass(frozen=True)
class StaleVersion:
    """A version in force that this code's checks no longer pass, with the reasons."""

    key: str
    version_no: int
    number: str | None
    problems: list[str]


def in_force_problems(session: Session) -> list[StaleVersion]:
    """Every key's version in force, checked again as if it were drafted today.

    Each version passed these checks when it was drafted, tested and approved; a problem now
    means the ground moved under it: an upgrade of the code (a new built-in role with a site
    role's name, a transition a sign-off precedes renamed, a guard taken out of the catalogue)
    or a record it names gone. The version still applies — nothing is changed behind QA's back
    — but QA must know, and draft a corrected version under change control. Run after every
    upgrade (``pharmaqms compliance config-check``) and shown on the configuration page."""
    found = []
    for config_kind in store.kinds():
        current = store.in_force(session, config_kind.key)
        problems = schema_problems(config_kind.key, current.content)
        if not problems:
            problems = control_problems(config_kind.key, current.content) + reference_problems(
                session, config_kind.key, current.content
            )
        if problems:
            found.append(
                StaleVersion(config_kind.key, current.version_no, current.number, problems)
            )
    return found


def change_problems(session: Session, change_id: int | None, *, approving: bool) -> list[str]:
    """A version is drafted under an open change control, and approved only once that change
    is approved and being implemented (its impact assessed, its functions signed)."""
    if change_id is None:
        return ["name the change control the configuration change is made under"]
    change = session.get(ChangeRequest, change_id)
    if change is None:
        return [f"there is no change control with id {change_id}"]
    if change.status not in {s.value for s in OPEN_STATUSES}:
        return [f"{change.number} is {change.status.replace('_', ' ')}: it is no longer open"]
    if approving and change.status != ChangeStatus.IMPLEMENTATION:
        return [
            f"{change.number} is in {change.status.replace('_', ' ')}: a configuration version "
            "is approved only under an approved change control (in implementation)"
        ]
    return []


def effective_date_problems(session: Session, key: str, effective_from: datetime) -> list[str]:
    """Approval is never back-dated, and versions come into force in the order of their
    dates, so ``in_force`` at any moment is what applied then."""
    problems = []
    now = clock.now()
    if effective_from < now:
        problems.append(
            f"the effective date {format_time(effective_from)} has passed: a version comes "
            "into force from its approval at the earliest; set a later date"
        )
    latest = session.scalars(
        select(ConfigVersion)
        .where(ConfigVersion.key == key, ConfigVersion.status == ConfigStatus.APPROVED.value)
        .order_by(ConfigVersion.effective_from.desc())
        .limit(1)
    ).first()
    if latest is not None and effective_from < latest.effective_from:
        problems.append(
            f"{latest.audit_label()} comes into force on {format_time(latest.effective_from)}: "
            "a later version can't come into force before it"
        )
    return problems
