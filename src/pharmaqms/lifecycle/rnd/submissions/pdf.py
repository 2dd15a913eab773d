"""A submission document as a PDF (ReportLab), rendered only from its frozen content and, once
approved, the signature manifestations (Part 11 §11.50: printed name, date and time, meaning).
The cover names the authority it is for; the content is the same for NMPA, FDA and EMA. Charts
are ReportLab drawings (vector). Rendered invariantly (no creation time, no random document id):
the same content and signatures give the same bytes.

Until the document is approved every page carries a watermark saying so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from pharmaqms.kernel.reports.signed import (
    GRID,
    build_pdf,
    page_decorator,
    report_styles,
    signature_lines,
)

DRAFT_MARK = "DRAFT - NOT APPROVED"
LINES = ("#3d7ab8", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89")
WIDTH = 180  # mm of text width on A4 with 15 mm margins


@dataclass(frozen=True)
class Signed:
    """What the PDF prints of one signature."""

    meaning: str  # "Reviewed", "Approved"
    manifestation: str  # "Approved by … on …"
    content_hash: str  # what the signature covers


def _table(spec: dict[str, Any], body: Any) -> Table:
    columns = spec["columns"]
    n = len(columns)
    first = min(45.0, WIDTH / n * 1.6) if n > 2 else WIDTH / n
    rest = (WIDTH - first) / (n - 1) if n > 1 else WIDTH
    widths = [first, *([rest] * (n - 1))]
    if columns and columns[-1] == "Evidence":  # the evidence is the long text: give it room
        widths = [*([28.0] * (n - 1)), WIDTH - 28.0 * (n - 1)]
    rows = [[Paragraph(f"<b>{escape(str(c))}</b>", body) for c in columns]]
    rows += [[Paragraph(escape(str(cell)), body) for cell in row] for row in spec["rows"]]
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle(GRID))
    return table


def _chart(spec: dict[str, Any]) -> Drawing:
    """Each batch's results (markers) and its fitted line, the limit(s) dashed, the proposed
    shelf life as a vertical line."""
    drawing = Drawing(WIDTH * mm, 62 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 14 * mm, 10 * mm, 120 * mm, 44 * mm
    points = [p for b in spec["batches"] for p in b["points"]]
    shelf = spec.get("shelf_life_months")
    x_max = max([p[0] for p in points] + ([float(shelf)] if shelf else []) + [1.0])
    values = [p[1] for p in points] + [v for v in (spec.get("lower"), spec.get("upper")) if v]
    y_low, y_high = min(values), max(values)
    pad = (y_high - y_low) * 0.1 or 1.0
    data: list[list[tuple[float, float]]] = []
    for b in spec["batches"]:
        data.append([(float(m), float(v)) for m, v in b["points"]])
        if b.get("slope") is not None:
            a, s = float(b["intercept"]), float(b["slope"])
            data.append([(0.0, a), (x_max, a + s * x_max)])
        else:
            data.append([(0.0, y_low), (0.0, y_low)])  # keeps the colours in pairs
    for limit in (spec.get("lower"), spec.get("upper")):
        if limit is not None:
            data.append([(0.0, float(limit)), (x_max, float(limit))])
    plot.data = data
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, x_max
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = y_low - pad, y_high + pad
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 6
    for index, b in enumerate(spec["batches"]):
        colour = colors.HexColor(LINES[index % len(LINES)])
        dots, fit = plot.lines[2 * index], plot.lines[2 * index + 1]
        dots.strokeColor = None
        dots.symbol = makeMarker("FilledCircle", size=3, fillColor=colour)
        fit.strokeColor, fit.strokeWidth = colour, 0.8
        drawing.add(
            String(
                138 * mm, (52 - 4 * index) * mm, f"batch {b['batch']}", fontSize=6, fillColor=colour
            )
        )
    for index in range(2 * len(spec["batches"]), len(data)):
        plot.lines[index].strokeColor = colors.red
        plot.lines[index].strokeDashArray = (3, 2)
        plot.lines[index].strokeWidth = 0.8
    drawing.add(plot)
    if shelf:
        x = plot.x + plot.width * float(shelf) / x_max
        drawing.add(Line(x, plot.y, x, plot.y + plot.height, strokeColor=colors.green))
        drawing.add(
            String(x - 2, plot.y + plot.height - 8, f"{shelf} months", fontSize=6, textAnchor="end")
        )
    unit = f" ({spec['unit']})" if spec.get("unit") else ""
    drawing.add(String(14 * mm, 58 * mm, f"{spec['title']}{unit}", fontSize=7))
    drawing.add(String(70 * mm, 2 * mm, "months", fontSize=6))
    return drawing


def _section(section: dict[str, Any], styles: Any, body: Any) -> list[Any]:
    story: list[Any] = [
        Paragraph(escape(section["title"]), styles["Heading2"]),
        Paragraph(f"<i>{escape(section['basis'])}</i>", body),
        Spacer(1, 1.5 * mm),
    ]
    for text in section["text"]:
        story += [Paragraph(escape(text), body), Spacer(1, 1 * mm)]
    if section["empty"]:
        story.append(Paragraph(f"<b>{escape(section['empty'])}</b>", styles["Normal"]))
    for spec in section["tables"]:
        story.append(
            KeepTogether([Paragraph(f"<b>{escape(spec['heading'])}</b>", body), Spacer(1, 1 * mm)])
        )
        story += [_table(spec, body), Spacer(1, 1 * mm)]
        if spec.get("note"):
            story.append(Paragraph(f"<i>{escape(spec['note'])}</i>", body))
        story.append(Spacer(1, 2 * mm))
    for spec in section["charts"]:
        story += [_chart(spec), Spacer(1, 2 * mm)]
    return story


def render_document(
    content: dict[str, Any],
    *,
    number: str,
    edition: int,
    content_sha256: str,
    site: str,
    signed: list[Signed],
    final: bool,
) -> bytes:
    styles, body = report_styles()
    product = content["product"]
    heading = f"{content['ctd_section']} {content['title']}"
    footer = f"{number} edition {edition} - {heading} - {product['code']} - {content['authority']}"

    cover = [
        ["Document", f"{number}, edition {edition}"],
        ["CTD Module 3 section", heading],
        ["Product", f"{product['code']} {product['name']}"],
        ["Submitted to", content["authority_name"]],
        ["Data as of", content["data_cut_off"]],
        ["Content SHA-256", content_sha256],
        ["Generated from", Paragraph(escape(content["sources"]), body)],
    ]
    story: list[Any] = [
        Paragraph(escape(site), styles["Normal"]),
        Paragraph(escape(f"Module 3 — {heading}"), styles["Title"]),
        Table(cover, colWidths=[40 * mm, 140 * mm], style=TableStyle(GRID[:3])),
        Spacer(1, 3 * mm),
    ]
    for section in content["sections"]:
        story += _section(section, styles, body)
    story += [PageBreak(), Paragraph("Signatures", styles["Heading2"])]
    story += signature_lines(signed, styles, body, gap=True)
    if not final:
        story.append(Paragraph(f"<b>{DRAFT_MARK}</b>", styles["Normal"]))
    return build_pdf(
        story,
        title=f"{heading} {product['code']} ({content['authority']})",
        author=site,
        decorate=page_decorator(footer, draft_mark=None if final else DRAFT_MARK),
    )
