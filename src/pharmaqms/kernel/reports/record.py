"""The printed report of any registered record, for an inspector's file: what the record is
(number, title, status, version, content hash), its fields with their labels, what its module
adds (linked records, results, steps), every signature's manifestation and its whole audit
trail in human terms. Handing it out is itself recorded in the audit trail, as an export."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.audit_query import AuditFilter, find_entries
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RecordType, readable_record_type
from pharmaqms.kernel.reports import pdf
from pharmaqms.kernel.reports.sections import sections_for
from pharmaqms.kernel.reports.text import NOTHING, format_time
from pharmaqms.kernel.reports.trail import TrailReader
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of

# A record's trail is printed whole; past this many entries the report says it stopped and
# points to the CSV export, rather than growing without bound.
MAX_TRAIL = 5000
EXPORT_ACTION = "export"
REPORT_FORMAT = "PDF record report"
# The fields the report's head already shows.
IN_HEAD = frozenset({"number", "status", "title"})


def report_title(rt: RecordType, record: GxPRecord) -> str:
    return f"{rt.label} {record.audit_label()}"


def _headline(record: GxPRecord) -> str:
    for name in ("title", "summary"):
        value = getattr(record, name, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def render_record_report(
    session: Session, rt: RecordType, record: GxPRecord, *, printed_by: Actor
) -> bytes:
    sheet = pdf.styles()
    reader = TrailReader(session)
    printed_at = clock.now()
    title = report_title(rt, record)
    headline = _headline(record)
    story: list[Any] = [
        Paragraph(escape(get_settings().site_name), sheet["Normal"]),
        Paragraph(escape(title), sheet["Title"]),
    ]
    if headline:
        story.append(Paragraph(escape(headline), sheet["Heading3"]))
    head = [
        ("Record", f"{rt.label} {record.audit_label()}"),
        ("Status", rt.workflow.state_label(record.status)),
        ("Record version", str(record.version)),
        ("Last changed", format_time(record.updated_at)),
        ("Content hash (SHA-256)", record.content_hash()),
    ]
    story += [pdf.key_value_table(head, sheet), Spacer(1, 5 * mm)]
    details = [
        (heading, reader.value(rt.name, name, getattr(record, name, None)))
        for name, heading in rt.detail_fields
        if name not in IN_HEAD
    ]
    if details:
        story.append(Paragraph("Details", sheet["Heading2"]))
        story.append(pdf.key_value_table(details, sheet))
    for section in sections_for(session, record):
        story.append(Paragraph(escape(section.heading), sheet["Heading2"]))
        if not section.rows:
            story.append(Paragraph(escape(section.note or "None."), sheet["Normal"]))
            continue
        if section.columns:
            story.append(
                pdf.data_table(section.columns, section.rows, sheet, widths=section.widths)
            )
        else:
            pairs = [(row[0], row[1] if len(row) > 1 else NOTHING) for row in section.rows]
            story.append(pdf.key_value_table(pairs, sheet))
        if section.note:
            story.append(Paragraph(escape(section.note), sheet["Cell"]))
    story.append(Spacer(1, 3 * mm))
    story += pdf.signatures_block(signatures_of(session, record), sheet)
    trail = AuditFilter(record_type=rt.name, record_id=record.id)
    entries = find_entries(session, trail, limit=MAX_TRAIL + 1, newest_first=False)
    story += pdf.audit_trail_block([reader.entry(e) for e in entries[:MAX_TRAIL]], sheet)
    if len(entries) > MAX_TRAIL:
        story.append(
            Paragraph(
                f"The trail continues beyond {MAX_TRAIL} entries: export it as CSV for the rest.",
                sheet["Normal"],
            )
        )
    footer = (
        f"{title} - printed {format_time(printed_at)} by {printed_by.full_name} "
        f"({printed_by.username})"
    )
    return pdf.build_pdf(story, title=title, author=get_settings().site_name, footer=footer)


def export_record_report(
    session: Session, rt: RecordType, record: GxPRecord, *, actor: Actor
) -> bytes:
    """The report, for whoever may read the record; the hand-out is recorded as an export."""
    actor.require("records.read", "read records")
    readable_record_type(rt.name, actor)
    content = render_record_report(session, rt, record, printed_by=actor)
    audit.record_event(
        session,
        actor=actor,
        action=EXPORT_ACTION,
        record=record,
        details={"format": REPORT_FORMAT, "bytes": len(content)},
    )
    return content


def report_filename(record: GxPRecord) -> str:
    return f"{record.audit_label().replace(' ', '_')}-report.pdf"
