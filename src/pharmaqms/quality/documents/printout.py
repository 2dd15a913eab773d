"""The printed document: content, the signature manifestation (Part 11 §11.50: name, date and
time, meaning — and whether each signature still covers this content), and a watermark
whenever the copy is not the controlled, effective one."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
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
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    document = version.document
    mark = watermark_for(version, uncontrolled)
    printed_at = clock.now()
    footer = (
        f"{version.number} - printed {printed_at:%Y-%m-%d %H:%M} UTC by {printed_by.full_name}"
        f" ({printed_by.username})" + ("" if mark else " - controlled copy")
    )

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(192 * mm, 10 * mm, f"page {doc.page}")
        if mark:
            canvas.setFont("Helvetica-Bold", 44)
            canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
            canvas.translate(105 * mm, 150 * mm)
            canvas.rotate(40)
            canvas.drawCentredString(0, 0, mark)
        canvas.restoreState()

    story: list[object] = [
        Paragraph(escape(get_settings().site_name), styles["Normal"]),
        Paragraph(escape(f"{version.number}  {version.title}"), styles["Title"]),
    ]
    meta = [
        ["Type", TYPE_LABEL.get(DocumentType(document.doc_type), document.doc_type)],
        ["Version", version.label],
        ["Status", version.status.replace("_", " ")],
        [
            "Effective",
            f"{version.effective_at:%Y-%m-%d}" if version.effective_at else "not effective",
        ],
        ["Change summary", version.change_summary or "-"],
        ["Content hash (SHA-256)", version.content_hash()],
    ]
    table = Table(meta, colWidths=[45 * mm, 125 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    for paragraph in version.body.split("\n\n"):
        text = escape(paragraph.strip()).replace("\n", "<br/>")
        if text:
            story.append(Paragraph(text, styles["BodyText"]))
    story += [Spacer(1, 8 * mm), Paragraph("Electronic signatures", styles["Heading2"])]
    signatures = signatures_of(session, version)
    if signatures:
        rows = [["Meaning", "Signed by", "Date and time (UTC)", "Valid for this content"]]
        for s in signatures:
            rows.append(
                [
                    s.meaning,
                    f"{s.signer_name} ({s.signer_username})",
                    f"{s.signed_at:%Y-%m-%d %H:%M:%S}",
                    "yes" if s.valid_for_current_content else "NO - content changed after signing",
                ]
            )
        sig_table = Table(rows, colWidths=[28 * mm, 55 * mm, 40 * mm, 47 * mm])
        sig_table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                ]
            )
        )
        story.append(sig_table)
        for s in signatures:
            story.append(Paragraph(escape(s.manifestation), styles["Normal"]))
    else:
        story.append(Paragraph("Not signed.", styles["Normal"]))
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{version.number} {version.title}",
        author=get_settings().site_name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
    )
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
