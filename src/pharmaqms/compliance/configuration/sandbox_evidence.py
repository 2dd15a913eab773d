"""Reading a sandbox copy back into the live database: its audit trail verified, what was done
in it after it was made, and the actions that ran under the draft — kept as sealed evidence
(``config_sandbox_evidence``) that the draft's sandbox run cites (``evidence_lines``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration.sandbox_copy import (
    MANAGE,
    copies_of,
    copy_database,
    registered_copy,
    that_copy,
)
from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.configuration.models import (
    ConfigUse,
    ConfigVersion,
    SandboxEvidence,
    SandboxMark,
)
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.sealing import SEAL_ACTION
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify

# Actions named one by one in the evidence; beyond this, a count.
LISTED_ACTIONS = 40


def _actions(session: Session, after_seq: int) -> tuple[int, list[str]]:
    """The entries made in the copy after it was marked: how many, and the first ones named
    (the mark's own seal entry is the copy's making, not something tried in it)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.seq > after_seq)
        .where(
            ~(
                (AuditEntry.action == SEAL_ACTION)
                & (AuditEntry.record_type == SandboxMark.__tablename__)
            )
        )
        .order_by(AuditEntry.seq)
    )
    count = 0
    lines: list[str] = []
    for entry in session.scalars(query):
        count += 1
        if len(lines) < LISTED_ACTIONS:
            lines.append(
                f"entry {entry.seq}, {format_time(entry.occurred_at)}: {entry.record_label} "
                f"— {entry.action} by {entry.actor_username}"
            )
    if count > LISTED_ACTIONS:
        lines.append(f"… and {count - LISTED_ACTIONS} more")
    return count, lines


def collect_evidence(
    live: Database, *, actor: Actor, copy_id: int, copy_url: str
) -> SandboxEvidence:
    """Read the sandbox copy ``copy_id`` at ``copy_url`` back into the live database's
    evidence. Refused, and nothing kept, when that database is not that copy."""
    actor.require(MANAGE, "collect sandbox evidence")
    registered, copy_url = registered_copy(live, copy_id, copy_url)
    copy_db = copy_database(live, copy_url)
    try:
        mark = that_copy(copy_db, registered, copy_url)
        # A new session: verify asks for one snapshot (REPEATABLE READ on PostgreSQL) for the
        # whole check, and the counts below are read in the same one.
        with unit_of_work(copy_db, write=False) as session:
            report = verify(session)
            copied_last = session.scalar(select(SandboxMark.copied_last_seq).limit(1)) or 0
            actions, listed = _actions(session, copied_last)
            uses = (
                session.scalar(
                    select(func.count())
                    .select_from(ConfigUse)
                    .where(
                        ConfigUse.key == mark.key,
                        ConfigUse.content_sha256 == mark.content_sha256,
                        ConfigUse.used_at >= mark.made_at,
                    )
                )
                or 0
            )
    finally:
        copy_db.dispose()
    trail = (
        f"its audit trail verified intact ({report.entries:,} entries)"
        if report.intact
        else f"its audit trail is NOT intact: {len(report.findings)} finding(s), the first: "
        f"{report.findings[0].message}"
    )
    findings = [
        f"sandbox copy #{copy_id} ({registered.target}), made {format_time(registered.made_at)} "
        f"by {registered.made_by} for {registered.config_number}: {trail}",
        f"{actions} action(s) taken in the copy after it was made; {uses} ran under "
        f"{registered.config_number}",
        *listed,
    ]
    with unit_of_work(live) as session:
        evidence = SandboxEvidence(
            copy_id=copy_id,
            collected_by_id=actor.user_id,
            collected_by=actor.username,
            collected_at=clock.now(),
            trail_intact=report.intact,
            actions=actions,
            uses_of_draft=uses,
            findings=findings,
        )
        with audit.changes(
            session, actor=actor, reason=f"what was done on sandbox copy #{copy_id}"
        ):
            session.add(evidence)
    return evidence


def latest_evidence(session: Session, copy_ids: list[int]) -> dict[int, SandboxEvidence]:
    found: dict[int, SandboxEvidence] = {}
    if copy_ids:
        for row in session.scalars(
            select(SandboxEvidence)
            .where(SandboxEvidence.copy_id.in_(copy_ids))
            .order_by(SandboxEvidence.id)
        ):
            found[row.copy_id] = row
    return found


def evidence_lines(session: Session, version: ConfigVersion) -> list[str]:
    """What the draft's test run cites: the latest evidence of each copy made of the draft
    as it is now (a copy of an earlier content tried something else)."""
    current = [c for c in copies_of(session, version) if c.content_sha256 == version.content_sha256]
    if not current:
        return [
            "no sandbox copy of this content has been tried "
            "(pharmaqms compliance sandbox-copy makes one)"
        ]
    evidence = latest_evidence(session, [c.id for c in current])
    lines: list[str] = []
    for copy in current:
        found = evidence.get(copy.id)
        if found is None:
            lines.append(
                f"sandbox copy #{copy.id} made {format_time(copy.made_at)} by {copy.made_by}: "
                "not read back yet (pharmaqms compliance sandbox-evidence)"
            )
        else:
            lines += found.findings
    return lines
