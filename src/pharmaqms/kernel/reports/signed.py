"""What the signed reports share (the annual product quality review, the CTD submission
documents, the periodic safety summary): a PDF in one compact style, marked draft until it is
final, with a signature page that says what content hash each signature covers; its bytes
stored append-only with their SHA-256, and checked against it whenever they are handed out.

The modules keep what differs: their content, their cover, their signature meanings and when
they store the bytes (at approval, at signing, at generation)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.reports.pdf import sandbox_marked

# A table with a header row, in the reports' small type.
GRID = [
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.93, 0.96)),
]

Decorate = Callable[[Canvas, SimpleDocTemplate], None]


class SignatureLine(Protocol):
    @property
    def manifestation(self) -> str: ...  # "Approved by … on … UTC"

    @property
    def content_hash(self) -> str: ...  # what the signature covers


class StoredPdf(Protocol):
    """A module's append-only table of PDF bytes (a ``SealedData`` model)."""

    id: int
    sha256: str
    content: bytes

    def __init__(self, *, sha256: str, content: bytes, stored_at: datetime) -> None: ...


F = TypeVar("F", bound=StoredPdf)


def report_styles() -> tuple[StyleSheet1, ParagraphStyle]:
    """The sample style sheet and the small body text every signed report is set in."""
    sheet = getSampleStyleSheet()
    body = sheet["BodyText"]
    body.fontSize = 7.5
    body.leading = 9
    return sheet, body


def page_decorator(footer: str, *, draft_mark: str | None) -> Decorate:
    """The footer and page number on every page, and a diagonal mark while not final."""

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 9 * mm, footer[:140])
        canvas.drawRightString(195 * mm, 9 * mm, f"page {doc.page}")
        if draft_mark is not None:
            canvas.setFont("Helvetica-Bold", 40)
            canvas.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.16))
            canvas.translate(105 * mm, 150 * mm)
            canvas.rotate(40)
            canvas.drawCentredString(0, 0, draft_mark)
        canvas.restoreState()

    return decorate


def signature_lines(
    signed: Sequence[SignatureLine], sheet: StyleSheet1, body: ParagraphStyle, *, gap: bool
) -> list[Flowable]:
    """Each signature's manifestation (Part 11 §11.50) and the content hash it covers; "Not
    signed." when there is none. ``gap``: a little space after each."""
    if not signed:
        return [Paragraph("Not signed.", sheet["Normal"])]
    lines: list[Flowable] = []
    for s in signed:
        lines.append(Paragraph(escape(s.manifestation), sheet["Normal"]))
        lines.append(
            Paragraph(escape(f"The signature covers content SHA-256 {s.content_hash}."), body)
        )
        if gap:
            lines.append(Spacer(1, 2 * mm))
    return lines


def build_pdf(story: list[Any], *, title: str, author: str, decorate: Decorate) -> bytes:
    """A4 with 15 mm side margins; invariant, so the same story gives the same bytes."""
    pdf = SimpleDocTemplate(
        (buffer := io.BytesIO()),
        pagesize=A4,
        title=title,
        author=author,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        invariant=1,
    )
    marked = sandbox_marked(decorate)
    pdf.build(story, onFirstPage=marked, onLaterPages=marked)
    return buffer.getvalue()


def pdf_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def store_pdf(session: Session, file_type: type[F], content: bytes) -> F:
    """The bytes as a new row of the module's append-only file table, with their SHA-256.
    The caller names the change (``audit.changes``) that stores them."""
    stored = file_type(sha256=pdf_sha256(content), content=content, stored_at=clock.now())
    session.add(stored)
    session.flush()
    return stored


def checked_pdf(
    session: Session, file_type: type[F], file_id: int, digest: str, *, refusal: str
) -> bytes:
    """The stored bytes, refused with ``refusal`` when they are gone or no longer match the
    SHA-256 recorded for them."""
    stored = session.get(file_type, file_id)
    if stored is None or pdf_sha256(stored.content) != digest:
        raise InvalidInput(refusal, field="pdf")
    return stored.content
