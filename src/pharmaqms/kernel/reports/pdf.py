"""The building blocks every printed record shares (ReportLab, A4): the page footer and
watermark, a label/value table, a table with a header row, the signature manifestation (Part 11
§11.50: printed name, date and time, meaning — and whether each signature still covers the
content) and the audit trail in human terms."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from pharmaqms.kernel.configuration import sandbox
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.reports.trail import HumanEntry
from pharmaqms.kernel.signatures import SignatureView

PAGE_WIDTH_MM = 174  # A4 less 18 mm margins each side
FONT_SIZE = 8
HEADER_BACKGROUND = colors.Color(0.92, 0.92, 0.92)
GRID = [
    ("FONT", (0, 0), (-1, -1), "Helvetica", FONT_SIZE),
    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]
HEADED = [
    *GRID,
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", FONT_SIZE),
    ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
]
LABELLED = [*GRID, ("FONT", (0, 0), (0, -1), "Helvetica-Bold", FONT_SIZE)]
STALE = "NO - content changed after signing"


def styles() -> StyleSheet1:
    sheet = getSampleStyleSheet()
    sheet.add(ParagraphStyle("Cell", parent=sheet["BodyText"], fontSize=FONT_SIZE, leading=10))
    return sheet


def cell(text: str, style: ParagraphStyle) -> Paragraph:
    """A table cell that wraps; the text is escaped (it is data, not markup)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def page_decorator(
    footer: str, watermark: str | None = None
) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """Draws the footer (what, printed when and by whom) and page number on every page, and a
    diagonal watermark when the copy is not the valid one."""

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(18 * mm, 10 * mm, footer[:150])
        canvas.drawRightString(192 * mm, 10 * mm, f"page {doc.page}")
        if watermark:
            # A long mark in a smaller size, so it stays on the page.
            canvas.setFont("Helvetica-Bold", 40 if len(watermark) <= 24 else 34)
            canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.18))
            canvas.translate(105 * mm, 150 * mm)
            canvas.rotate(40)
            canvas.drawCentredString(0, 0, watermark)
        canvas.restoreState()

    return decorate


def sandbox_marked(
    decorate: Callable[[Canvas, SimpleDocTemplate], None] | None,
) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """``decorate``, and in a sandbox copy a red line at the head of every page saying so: a
    batch record or certificate printed there must not pass for a real one."""
    found = sandbox.process_mark()

    def both(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        if decorate is not None:
            decorate(canvas, doc)
        if found is not None:
            canvas.saveState()
            canvas.setFont("Helvetica-Bold", 9)
            canvas.setFillColor(colors.Color(0.75, 0.05, 0.05))
            width, height = doc.pagesize
            canvas.drawCentredString(width / 2, height - 7 * mm, found.print_line)
            canvas.restoreState()

    return both


def key_value_table(
    rows: Sequence[Sequence[str]], sheet: StyleSheet1, *, label_width: float = 45
) -> Table:
    """Label and value per row (a value wraps)."""
    data = [[row[0], cell(row[1], sheet["Cell"])] for row in rows]
    table = Table(data, colWidths=[label_width * mm, (PAGE_WIDTH_MM - label_width) * mm])
    table.setStyle(TableStyle(LABELLED))
    return table


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    sheet: StyleSheet1,
    *,
    widths: Sequence[float] = (),
) -> Table:
    """A table with a header row repeated on every page; widths are relative shares."""
    shares = list(widths) or [1.0] * len(header)
    total = sum(shares)
    data: list[list[Any]] = [list(header)]
    data += [[cell(text, sheet["Cell"]) for text in row] for row in rows]
    table = Table(data, colWidths=[PAGE_WIDTH_MM * s / total * mm for s in shares], repeatRows=1)
    table.setStyle(TableStyle(HEADED))
    return table


def signature_rows(signatures: Sequence[SignatureView]) -> list[list[str]]:
    return [
        [
            s.meaning,
            f"{s.signer_name} ({s.signer_username})",
            format_time(s.signed_at, seconds=True),
            ("yes" if s.valid_for_current_content else STALE)
            + (f"\nComment: {s.comment}" if s.comment else ""),
        ]
        for s in signatures
    ]


def signatures_block(signatures: Sequence[SignatureView], sheet: StyleSheet1) -> list[Flowable]:
    """§11.50's manifestation of every signature, as one table."""
    heading = Paragraph("Electronic signatures", sheet["Heading2"])
    if not signatures:
        return [heading, Paragraph("Not signed.", sheet["Normal"])]
    table = data_table(
        ("Meaning", "Signed by (printed name)", "Date and time", "Valid for this content"),
        signature_rows(signatures),
        sheet,
        widths=(28, 55, 40, 51),
    )
    return [heading, table]


def audit_trail_block(entries: Sequence[HumanEntry], sheet: StyleSheet1) -> list[Flowable]:
    """Oldest first, one row per changed field; an entry's when, who, action and reason are
    printed on its first row only."""
    heading = Paragraph("Audit trail", sheet["Heading2"])
    if not entries:
        return [heading, Paragraph("No audit entries.", sheet["Normal"])]
    rows: list[list[str]] = []
    for e in entries:
        changes = e.changes or []
        head = [e.when, f"{e.actor_name} ({e.actor_username})", e.action]
        if not changes:
            rows.append([*head, "", "", e.reason])
        for index, change in enumerate(changes):
            values = f"{change.old} → {change.new}" if change.paired else change.new
            lead = head if index == 0 else ["", "", ""]
            rows.append([*lead, change.field, values, e.reason if index == 0 else ""])
    table = data_table(
        ("When", "Who", "Action", "Field", "Old → new", "Reason"),
        rows,
        sheet,
        widths=(20, 23, 22, 19, 50, 28),
    )
    return [heading, table]


def build_pdf(
    story: list[Any],
    *,
    title: str,
    author: str,
    footer: str,
    watermark: str | None = None,
    invariant: bool = False,
) -> bytes:
    """The story on A4 with the shared margins, footer and watermark. ``invariant``: no
    creation time or random id in the file, so the same content gives the same bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=author,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        invariant=1 if invariant else 0,
    )
    decorate = page_decorator(footer, watermark)
    marked = sandbox_marked(decorate)
    document.build(story, onFirstPage=marked, onLaterPages=marked)
    return buffer.getvalue()
