"""The validation evidence report as a PDF (ReportLab): the run it reads, a summary per
regulation, the clauses not shown, then per clause the requirement as met and each test with its
result. Rendered invariantly (no creation time, no random id), so the same results give the same
bytes."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from pharmaqms.compliance.validation.clauses import REGULATIONS
from pharmaqms.compliance.validation.matrix import ClauseRow, Matrix, Status
from pharmaqms.compliance.validation.results import Outcome
from pharmaqms.kernel.reports.pdf import sandbox_marked
from pharmaqms.kernel.reports.text import format_time

GRID = [
    ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.93, 0.96)),
]
RED = colors.Color(0.73, 0.11, 0.11)
GREEN = colors.Color(0.08, 0.5, 0.24)
GREY = colors.Color(0.4, 0.4, 0.4)
STATUS_LABEL = {Status.SHOWN: "shown", Status.FAILING: "FAILING", Status.GAP: "GAP"}
OUTCOME_COLOUR = {Outcome.PASSED: GREEN, Outcome.FAILED: RED, Outcome.SKIPPED: GREY}


def run_line(matrix: Matrix) -> str:
    run = matrix.run
    if run is None:
        return "No test results: every clause is a gap."
    when = format_time(run.started_at) if run.started_at else "date unknown"
    counts = run.counts
    return (
        f"Test run of {when} ({run.source}): {len(run.results)} tests, "
        f"{counts[Outcome.PASSED]} passed, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.SKIPPED]} skipped."
    )


def _table(rows: list[list[Any]], widths: list[float], extra: list[Any]) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle(GRID + extra))
    return table


def render_report(matrix: Matrix) -> bytes:
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontSize = 8
    body.leading = 10
    cell = styles["Code"].clone("cell", fontSize=6.5, leading=8, leftIndent=0)

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, "Validation evidence - " + run_line(matrix)[:110])
        canvas.drawRightString(195 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    story: list[Any] = [
        Paragraph("Validation evidence: Part 11, Annex 11, ALCOA+", styles["Title"]),
        Paragraph(escape(run_line(matrix)), body),
        Paragraph(
            "Each clause, the requirement as this system meets it, and the automated tests "
            "marked with it, with their result in that run. A clause with no passing test is a "
            "gap; a clause with a failing test is not shown either.",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Summary", styles["Heading2"]),
    ]
    summary = [["Regulation", "Clauses", "Shown", "Failing", "Gaps", "Coverage"]] + [
        [c.title, c.clauses, c.shown, c.failing, c.gaps, f"{c.percent} %"]
        for c in matrix.coverage()
    ]
    story.append(_table(summary, [60, 20, 20, 20, 20, 25], []))
    not_shown = matrix.not_shown()
    story += [Spacer(1, 4 * mm), Paragraph(f"Not shown ({len(not_shown)})", styles["Heading2"])]
    if not_shown:
        rows = [["Clause", "Title", "Status"]] + [
            [r.clause.id, Paragraph(escape(r.clause.title), body), STATUS_LABEL[r.status]]
            for r in not_shown
        ]
        story.append(_table(rows, [35, 115, 20], [("TEXTCOLOR", (2, 1), (2, -1), RED)]))
    else:
        story.append(Paragraph("Every clause is shown by a passing test.", body))
    if matrix.unknown_clauses:
        story.append(
            Paragraph(
                "The results name clauses this catalogue does not hold (ignored): "
                + escape(", ".join(matrix.unknown_clauses)),
                body,
            )
        )
    for regulation in REGULATIONS:
        story.append(Paragraph(regulation.title, styles["Heading2"]))
        for row in matrix.rows:
            if row.clause.regulation == regulation.key:
                story += _clause(row, styles["Heading4"], body, cell)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title="Validation evidence",
        invariant=1,
    )
    marked = sandbox_marked(decorate)
    doc.build(story, onFirstPage=marked, onLaterPages=marked)
    return buffer.getvalue()


def _clause(row: ClauseRow, heading: Any, body: Any, cell: Any) -> list[Any]:
    colour = "#15803d" if row.status is Status.SHOWN else "#b91c1c"
    out: list[Any] = [
        Paragraph(
            f"{escape(row.clause.id)} - {escape(row.clause.title)} "
            f'<font color="{colour}">[{STATUS_LABEL[row.status]}]</font>',
            heading,
        ),
        Paragraph(escape(row.clause.requirement), body),
    ]
    if not row.tests:
        out.append(Paragraph("No test is marked with this clause: gap.", body))
        return out
    rows: list[list[Any]] = [["Test", "Result"]] + [
        [Paragraph(escape(t.nodeid), cell), t.outcome.value] for t in row.tests
    ]
    extra = [
        ("TEXTCOLOR", (1, i), (1, i), OUTCOME_COLOUR[t.outcome])
        for i, t in enumerate(row.tests, start=1)
    ]
    out.append(_table(rows, [150, 20], extra))
    return out
