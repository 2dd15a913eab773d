"""The record of ``pharmaqms audit verify`` runs that the metrics read (how long ago the trail
was last found intact)."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.observability.models import AuditVerifyRun
from pharmaqms.kernel.verify import VerifyReport


def record_verify_run(session: Session, report: VerifyReport) -> AuditVerifyRun | None:
    """Remember the outcome; None when the database has no place for it — verify also runs on
    a database without the schema, or from before it, and says so itself."""
    if not inspect(session.connection()).has_table(AuditVerifyRun.__tablename__):
        return None
    run = AuditVerifyRun(
        finished_at=clock.now(),
        intact=report.intact,
        entries=report.entries,
        head_seq=report.head_seq,
        findings=len(report.findings),
    )
    session.add(run)
    session.flush()
    return run
