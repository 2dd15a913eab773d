"""The printed document: content, the signature manifestation (Part 11 §11.50: name, date and
time, meaning — and whether each signature still covers this content), and a watermark
whenever the copy is not the controlled, effective one."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports import pdf
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.quality.documents.models import TYPE_LABEL, DocumentType, DocumentVersion


def watermark_for(version: DocumentVersion, uncontrolled: bool) -> str | None:
    if version.status in ("draft", "in_review", "approved"):
        return "DRAFT - NOT FOR USE"
    if version.status in ("superseded", "obsolete", "withdrawn"):
        return version.status.upper() + " - NOT FOR USE"
    if uncontrolled:
        return "UNCONTROLLED COPY"
    return None


def render_pdf(
    session: Session, version: DocumentVersion, *, printed_by: Actor, uncontrolled: bool = False
) -> bytes:
    sheet = pdf.styles()
    document = version.document
    mark = watermark_for(version, uncontrolled)
    printed_at = clock.now()
    footer = (
        f"{version.number} - printed {format_time(printed_at)} by {printed_by.full_name}"
        f" ({printed_by.username})" + ("" if mark else " - controlled copy")
    )
    story: list[object] = [
        Paragraph(escape(get_settings().site_name), sheet["Normal"]),
        Paragraph(escape(f"{version.number}  {version.title}"), sheet["Title"]),
    ]
    meta = [
        ("Type", TYPE_LABEL.get(DocumentType(document.doc_type), document.doc_type)),
        ("Version", version.label),
        ("Status", version.status.replace("_", " ")),
        (
            "Effective",
            format_time(version.effective_at) if version.effective_at else "not effective",
        ),
        ("Change summary", version.change_summary or "-"),
        ("Content hash (SHA-256)", version.content_hash()),
    ]
    story += [pdf.key_value_table(meta, sheet), Spacer(1, 6 * mm)]
    for paragraph in version.body.split("\n\n"):
        text = escape(paragraph.strip()).replace("\n", "<br/>")
        if text:
            story.append(Paragraph(text, sheet["BodyText"]))
    story.append(Spacer(1, 8 * mm))
    signatures = signatures_of(session, version)
    story += pdf.signatures_block(signatures, sheet)
    story += [Paragraph(escape(s.manifestation), sheet["Normal"]) for s in signatures]
    return pdf.build_pdf(
        story,
        title=f"{version.number} {version.title}",
        author=get_settings().site_name,
        footer=footer,
        watermark=mark,
    )
