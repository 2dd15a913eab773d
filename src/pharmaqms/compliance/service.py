"""The regulations register's services: import (and the shipped seed), export, reading, and the
change control QA opens from a regulation. Only these write, each with the actor named and
audited through the kernel.

Importing is planned before it writes: every regulation in the file is compared with the
register first, and any conflict refuses the whole import, so a refused file changes nothing.
A regulation already in the register with the same edition and the same content is left alone
(the seed is idempotent); a new edition supersedes the current one and opens an impact
assessment task for QA that lists the requirements added, removed or reworded."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.compliance.fileformat import (
    ControlEntry,
    RegulationEntry,
    RequirementEntry,
    shipped_register,
)
from pharmaqms.compliance.models import (
    ControlMapping,
    Regulation,
    RegulationStatus,
    Requirement,
)
from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.tasks import open_task
from pharmaqms.quality import events
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.links import LinkedRecord

MANAGE = "compliance.manage"
grant(MANAGE, "qa")

IMPACT_TASK = "regulation_impact"
IMPACT_DAYS = 30


@dataclass(frozen=True)
class Diff:
    """How a new edition's requirements differ from the one it supersedes (by clause)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reworded: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "reworded": list(self.reworded),
        }

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(clauses)}"
            for label, clauses in (
                ("added", self.added),
                ("removed", self.removed),
                ("reworded", self.reworded),
            )
            if clauses
        ]
        return "; ".join(parts) or "no requirement changed"


@dataclass
class ImportOutcome:
    added: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    impact_tasks: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Coverage:
    requirements: int
    covered: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.covered / self.requirements, 1) if self.requirements else 0.0


# --- reading -----------------------------------------------------------------------------


def regulations(session: Session, *, include_superseded: bool = True) -> list[Regulation]:
    query = select(Regulation).order_by(Regulation.code, Regulation.id)
    if not include_superseded:
        query = query.where(Regulation.status == RegulationStatus.CURRENT.value)
    return list(session.scalars(query))


def get_regulation(session: Session, regulation_id: int) -> Regulation:
    regulation = session.get(Regulation, regulation_id)
    if regulation is None:
        raise NotFound(f"no regulation with id {regulation_id}")
    return regulation


def current(session: Session, code: str) -> Regulation | None:
    return session.scalar(
        select(Regulation).where(
            Regulation.code == code, Regulation.status == RegulationStatus.CURRENT.value
        )
    )


def requirements(session: Session, regulation_id: int) -> list[Requirement]:
    return list(
        session.scalars(
            select(Requirement)
            .where(Requirement.regulation_id == regulation_id)
            .order_by(Requirement.position)
        )
    )


def controls_by_requirement(
    session: Session, requirement_ids: list[int]
) -> dict[int, list[ControlMapping]]:
    found: dict[int, list[ControlMapping]] = {i: [] for i in requirement_ids}
    if requirement_ids:
        rows = session.scalars(
            select(ControlMapping)
            .where(ControlMapping.requirement_id.in_(requirement_ids))
            .order_by(ControlMapping.id)
        )
        for row in rows:
            found[row.requirement_id].append(row)
    return found


def coverage(session: Session) -> dict[int, Coverage]:
    """Per regulation: how many requirements it has and how many have at least one control."""
    totals: Counter[int] = Counter()
    covered: Counter[int] = Counter()
    for (regulation_id,) in session.execute(select(Requirement.regulation_id)):
        totals[regulation_id] += 1
    with_controls = (
        select(Requirement.regulation_id, Requirement.id)
        .join(ControlMapping, ControlMapping.requirement_id == Requirement.id)
        .distinct()
    )
    for regulation_id, _requirement_id in session.execute(with_controls):
        covered[regulation_id] += 1
    return {rid: Coverage(totals[rid], covered[rid]) for rid in totals}


def entry_of(session: Session, regulation: Regulation) -> RegulationEntry:
    """A regulation as the file holds it."""
    rows = requirements(session, regulation.id)
    controls = controls_by_requirement(session, [r.id for r in rows])
    return RegulationEntry(
        code=regulation.code,
        title=regulation.title,
        issuer=regulation.issuer,
        jurisdiction=regulation.jurisdiction,
        edition=regulation.edition,
        effective_on=regulation.effective_on,
        source_url=regulation.source_url,
        requirements=tuple(
            RequirementEntry(
                clause=r.clause,
                summary=r.summary,
                applies_to=tuple(a for a in r.applies_to.split(", ") if a),
                controls=tuple(ControlEntry(c.kind, c.reference, c.note) for c in controls[r.id]),
            )
            for r in rows
        ),
    )


def export_register(session: Session) -> list[RegulationEntry]:
    """The regulations in force (superseded editions stay in the database, not in the file)."""
    return [entry_of(session, r) for r in regulations(session, include_superseded=False)]


def diff(old: RegulationEntry, new: RegulationEntry) -> Diff:
    before = {r.clause: r.summary for r in old.requirements}
    after = {r.clause: r.summary for r in new.requirements}
    return Diff(
        added=tuple(c for c in after if c not in before),
        removed=tuple(c for c in before if c not in after),
        reworded=tuple(c for c in after if c in before and before[c] != after[c]),
    )


# --- writing -----------------------------------------------------------------------------


def _add(session: Session, entry: RegulationEntry) -> Regulation:
    regulation = Regulation(
        status=RegulationStatus.CURRENT.value,
        code=entry.code,
        title=entry.title,
        issuer=entry.issuer,
        jurisdiction=entry.jurisdiction,
        edition=entry.edition,
        effective_on=entry.effective_on,
        source_url=entry.source_url,
    )
    session.add(regulation)
    session.flush()
    for position, item in enumerate(entry.requirements):
        requirement = Requirement(
            regulation_id=regulation.id,
            position=position,
            clause=item.clause,
            summary=item.summary,
            applies_to=", ".join(item.applies_to),
        )
        session.add(requirement)
        session.flush()
        for control in item.controls:
            session.add(
                ControlMapping(
                    requirement_id=requirement.id,
                    kind=control.kind,
                    reference=control.reference,
                    note=control.note,
                )
            )
    session.flush()
    return regulation


def import_register(
    session: Session, *, actor: Actor, entries: list[RegulationEntry], source: str
) -> ImportOutcome:
    """Bring the register in line with a file (already parsed): new codes are added, a new
    edition supersedes the current one and opens QA's impact assessment, the same edition with
    the same content is left alone. The same edition with other content is refused: a
    regulation's edition names its text, so a changed text needs a new edition."""
    actor.require(MANAGE, "import regulations")
    # Plan first: nothing is written unless the whole file fits.
    plan: list[tuple[RegulationEntry, Regulation | None, RegulationEntry | None]] = []
    for i, entry in enumerate(entries):
        existing = current(session, entry.code)
        before = entry_of(session, existing) if existing is not None else None
        if existing is not None and before is not None and existing.edition == entry.edition:
            if before != entry:
                raise Conflict(
                    f"regulations[{i}]: {entry.code} edition {entry.edition!r} is in the "
                    "register with other content; give the changed text a new edition"
                )
        else:
            older = session.scalar(
                select(Regulation.id).where(
                    Regulation.code == entry.code,
                    Regulation.edition == entry.edition,
                    Regulation.status == RegulationStatus.SUPERSEDED.value,
                )
            )
            if older is not None:
                raise Conflict(
                    f"regulations[{i}]: {entry.code} edition {entry.edition!r} was superseded "
                    "already; it can't become current again by import"
                )
        plan.append((entry, existing, before))
    outcome = ImportOutcome()
    with audit.changes(session, actor=actor, reason=f"regulations register import: {source}"[:500]):
        for entry, existing, before in plan:
            label = f"{entry.code} ({entry.edition})"
            if existing is None:
                _add(session, entry)
                outcome.added.append(label)
            elif existing.edition == entry.edition:
                outcome.unchanged.append(label)
            else:
                assert before is not None
                outcome.impact_tasks.append(_supersede(session, actor, existing, before, entry))
                outcome.superseded.append(f"{existing.code} ({existing.edition}) → {entry.edition}")
    return outcome


def _supersede(
    session: Session,
    actor: Actor,
    old: Regulation,
    before: RegulationEntry,
    entry: RegulationEntry,
) -> int:
    changes = diff(before, entry)
    new = _add(session, entry)
    new.changes_from_previous = json.dumps(
        {"previous_id": old.id, "previous_edition": old.edition, **changes.as_dict()},
        ensure_ascii=False,
    )
    old.status = RegulationStatus.SUPERSEDED.value
    old.superseded_by_id = new.id
    old.retired_at = new.created_at
    session.flush()
    task = open_task(
        session,
        new,
        actor=actor,
        kind=IMPACT_TASK,
        title=f"Assess the impact of {entry.code} {entry.edition}: {changes.describe()}",
        role="qa",
        due_in=timedelta(days=IMPACT_DAYS),
    )
    session.flush()
    return task.id


def seed(session: Session, *, actor: Actor) -> ImportOutcome:
    """Load the register that ships with pharmaqms; running it again changes nothing."""
    return import_register(
        session, actor=actor, entries=shipped_register(), source="shipped register"
    )


def request_change(
    session: Session, *, actor: Actor, regulation_id: int, title: str, description: str
) -> ChangeRequest:
    """QA opens a change control from a regulation (usually after its impact assessment). The
    quality link records it both ways: the regulation shows what it led to, the change request
    what it was raised from."""
    actor.require(MANAGE, "open change controls from regulations")
    regulation = get_regulation(session, regulation_id)
    if not title.strip():
        raise InvalidInput("give the change a title", field="title")
    return events.request_change(
        session,
        actor=actor,
        source_type="regulation",
        source_id=regulation.id,
        source_label=f"{regulation.number} {regulation.audit_label()}"[:200],
        title=title.strip(),
        description=description.strip() or f"Change required by {regulation.audit_label()}",
        justification=f"regulatory change: {regulation.audit_label()}",
        reason=f"regulation {regulation.audit_label()} changed",
    )


def led_to(session: Session, regulation_id: int) -> list[LinkedRecord]:
    return events.links_of(session, "regulation", regulation_id).led_to
