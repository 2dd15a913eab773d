"""The disclosure bundle's verification report as a PDF, for the inspector's file: the same
lines as ``report.txt`` (verdict, public keys, each disclosed entry with who signed it, each
withheld entry's hash), printed."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Preformatted, SimpleDocTemplate, Spacer

from pharmaqms.kernel.reports.pdf import sandbox_marked


def report_pdf(title: str, text: str) -> bytes:
    styles = getSampleStyleSheet()
    body = styles["Code"].clone("report", fontSize=7, leading=9)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="pharmaqms",
    )
    # Preformatted takes the text as it is (no markup), wrapped at the page's width.
    document.build(
        [
            Paragraph(title.replace("&", "&amp;").replace("<", "&lt;"), styles["Heading2"]),
            Spacer(1, 4 * mm),
            Preformatted(text, body, maxLineLength=120),
        ],
        onFirstPage=sandbox_marked(None),
        onLaterPages=sandbox_marked(None),
    )
    return buffer.getvalue()
