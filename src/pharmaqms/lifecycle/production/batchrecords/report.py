"""What a batch record's printed report shows beyond its fields: every step with who performed
and verified it, the exceptions with the deviation each led to, and the quality records raised
from its steps and exceptions (EU GMP Chapter 4.20: the batch record shows the steps, who did
them, and any deviation)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.sections import Section, report_section
from pharmaqms.kernel.reports.trail import TrailReader
from pharmaqms.lifecycle.production.batchrecords.models import (
    BatchRecord,
    BatchRecordException,
    BatchStep,
)
from pharmaqms.quality.links import links_of


@report_section("batch_record")
def steps_and_exceptions(session: Session, record: GxPRecord) -> list[Section]:
    assert isinstance(record, BatchRecord)
    reader = TrailReader(session)
    steps = list(
        session.scalars(
            select(BatchStep)
            .where(BatchStep.batch_record_id == record.id)
            .order_by(BatchStep.position)
        )
    )
    exceptions = list(
        session.scalars(
            select(BatchRecordException)
            .where(BatchRecordException.batch_record_id == record.id)
            .order_by(BatchRecordException.occurred_at, BatchRecordException.id)
        )
    )

    def shown(kind: str, row: GxPRecord, field: str) -> str:
        return reader.value(kind, field, getattr(row, field))

    step_rows = [
        [
            step.number,
            step.title,
            shown("batch_step", step, "status"),
            shown("batch_step", step, "performed_by_id"),
            shown("batch_step", step, "performed_at"),
            shown("batch_step", step, "verified_by_id"),
            shown("batch_step", step, "verified_at"),
        ]
        for step in steps
    ]
    kind = "batch_record_exception"
    exception_rows = [
        [
            x.number,
            shown(kind, x, "kind"),
            x.description,
            shown(kind, x, "status"),
            shown(kind, x, "occurred_at"),
            shown(kind, x, "deviation_id"),
        ]
        for x in exceptions
    ]
    raised = [
        [source.audit_label(), other.type_label, other.label, other.reason]
        for source, name in [(s, "batch_step") for s in steps]
        + [(x, "batch_record_exception") for x in exceptions]
        for other in links_of(session, name, source.id).led_to
    ]
    return [
        Section(
            "Steps",
            step_rows,
            columns=(
                "Step",
                "Title",
                "Status",
                "Performed by",
                "Performed",
                "Verified by",
                "Verified",
            ),
            widths=(25, 30, 14, 23, 20, 23, 20),
            note="" if step_rows else "No steps.",
        ),
        Section(
            "Exceptions",
            exception_rows,
            columns=("Exception", "Kind", "What happened", "Status", "When", "Deviation"),
            widths=(18, 14, 44, 14, 20, 18),
            note="" if exception_rows else "No exceptions were recorded.",
        ),
        Section(
            "Quality records raised from its steps and exceptions",
            raised,
            columns=("Raised from", "Type", "Record", "Why"),
            widths=(30, 15, 20, 35),
            note="" if raised else "None.",
        ),
    ]
