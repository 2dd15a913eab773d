"""The annual product quality review as a PDF (ReportLab), rendered only from the frozen figures,
the conclusions and, once signed, the signature manifestations (Part 11 §11.50: printed name,
date and time, meaning). Charts are ReportLab drawings (vector, no image files). Rendered
invariantly (no creation time, no random document id): the same review gives the same bytes.

Until the review is effective every page carries a watermark saying it is not approved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from pharmaqms.compliance.apqr.figures import columns
from pharmaqms.kernel.reports.signed import (
    GRID,
    build_pdf,
    page_decorator,
    report_styles,
    signature_lines,
)

DRAFT_MARK = "DRAFT - NOT APPROVED"
SERIES = (colors.HexColor("#3d7ab8"), colors.HexColor("#2e9958"), colors.HexColor("#c0392b"))
LINES = ("#3d7ab8", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89")
# Entries of a section that are not single figures: drawn as charts or tables of their own.
SKIP = {"key", "title", "basis", "empty", "rows", "lots", "months", "parameters", "terms"}
SKIP |= {"tests", "investigations"}  # shown as their own tables


@dataclass(frozen=True)
class Signed:
    """What the PDF prints of one signature."""

    meaning: str  # "Authored", "Approved"
    manifestation: str  # "Approved by … on … UTC"
    content_hash: str  # what the signature covers


def _label(name: str) -> str:
    return name.replace("_", " ").replace("pct", "%").replace("oos", "OOS").replace("oot", "OOT")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    return str(value)


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths] if widths else None, repeatRows=1)
    table.setStyle(TableStyle(GRID))
    return table


def _rows(items: list[dict[str, Any]], body: Any) -> Table:
    keys = columns(items[0])
    return _table(
        [[_label(k) for k in keys]]
        + [[Paragraph(escape(_text(item.get(k))), body) for k in keys] for item in items]
    )


def _batch_chart(months: list[dict[str, Any]]) -> Drawing:
    drawing = Drawing(180 * mm, 55 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 125 * mm, 40 * mm
    chart.data = [[m[k] for m in months] for k in ("made", "released", "rejected")]
    chart.categoryAxis.categoryNames = [m["month"][5:] for m in months]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    for index, colour in enumerate(SERIES):
        chart.bars[index].fillColor = colour
        chart.bars[index].strokeColor = None
    legend = Legend()
    legend.x, legend.y = 142 * mm, 45 * mm
    legend.fontSize = 7
    legend.colorNamePairs = list(zip(SERIES, ("made", "released", "rejected"), strict=True))
    drawing.add(chart)
    drawing.add(legend)
    drawing.add(String(12 * mm, 52 * mm, "Batches per month of manufacture", fontSize=7))
    return drawing


def _cpk_chart(parameters: list[dict[str, Any]]) -> Drawing:
    drawing = Drawing(180 * mm, 60 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, 125 * mm, 42 * mm
    # A month without enough points has no Cpk: the line breaks there (None), never 0.
    chart.data = [[m["cpk"] for m in p["months"]] for p in parameters]
    chart.categoryAxis.categoryNames = [m["month"][5:] for m in parameters[0]["months"]]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    pairs = []
    for index, p in enumerate(parameters):
        colour = colors.HexColor(LINES[index % len(LINES)])
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.2
        pairs.append((colour, f"{p['parameter']} {p['name']}"[:40]))
    legend = Legend()
    legend.x, legend.y = 142 * mm, 50 * mm
    legend.fontSize = 6
    legend.colorNamePairs = pairs
    drawing.add(chart)
    drawing.add(legend)
    drawing.add(String(12 * mm, 56 * mm, "Cpk per month (1.33 is the usual minimum)", fontSize=7))
    return drawing


def _section(section: dict[str, Any], styles: Any, body: Any) -> list[Any]:
    story: list[Any] = [
        Paragraph(escape(section["title"]), styles["Heading2"]),
        Paragraph(f"<i>{escape(section['basis'])}</i>", body),
        Spacer(1, 1.5 * mm),
    ]
    if section["empty"]:
        story.append(Paragraph(f"<b>{escape(section['empty'])}</b>", styles["Normal"]))
        return story
    figures = [[_label(k), _text(v)] for k, v in section.items() if k not in SKIP]
    if section["key"] == "previous_actions":
        figures = [["review", section["review"]]]
        story += [_table([["", ""], *figures], [45, 135]), Spacer(1, 1.5 * mm)]
        story.append(Paragraph(escape(section["actions"]).replace("\n", "<br/>"), body))
        return story
    if figures:
        story += [
            _table([["figure", "value"], *[[k, Paragraph(escape(v), body)] for k, v in figures]]),
            Spacer(1, 2 * mm),
        ]
    if section["key"] == "batches":
        story.append(_batch_chart(section["months"]))
    if section["key"] == "capability":
        story.append(_cpk_chart(section["parameters"]))
        story.append(
            _rows(
                [{k: v for k, v in p.items() if k != "months"} for p in section["parameters"]], body
            )
        )
    for key in ("tests", "investigations", "terms", "rows"):
        if section.get(key):
            story += [_rows(section[key], body), Spacer(1, 2 * mm)]
    return story


def render_review(
    figures: dict[str, Any],
    *,
    number: str,
    edition: int,
    conclusions: str,
    actions: str,
    figures_sha256: str,
    site: str,
    signed: list[Signed],
    final: bool,
) -> bytes:
    styles, body = report_styles()
    product = figures["product"]
    footer = (
        f"Annual product quality review {number} edition {edition} - {product['code']} "
        f"{figures['year']}"
    )

    period = f"{figures['period_start']} to {figures['period_end']}"
    if figures["interim"]:
        period += f" (interim: the year is not over; data up to {figures['data_cut_off']})"
    meta = [
        ["Review", f"{number}, edition {edition}"],
        ["Product", f"{product['code']} {product['name']}"],
        ["Year", Paragraph(escape(period), body)],
        ["Figures gathered", figures["data_cut_off"]],
        ["Figures SHA-256", figures_sha256],
        [
            "Basis",
            Paragraph("EU GMP Part I 1.10 (product quality review); 21 CFR 211.180(e)", body),
        ],
    ]
    story: list[Any] = [
        Paragraph(escape(site), styles["Normal"]),
        Paragraph("Annual product quality review", styles["Title"]),
        _table([["", ""], *meta], [35, 145]),
    ]
    for section in figures["sections"]:
        story += _section(section, styles, body)
    story.append(Paragraph("Conclusions (QA)", styles["Heading2"]))
    for title, text in (("Conclusions", conclusions), ("Actions decided", actions)):
        story.append(Paragraph(f"<b>{title}</b>", body))
        shown = escape(text).replace("\n", "<br/>") if text else "not written yet"
        story += [Paragraph(shown, body), Spacer(1, 2 * mm)]
    story.append(Paragraph("Signatures", styles["Heading2"]))
    story += signature_lines(signed, styles, body, gap=False)
    if not final:
        story.append(Paragraph(f"<b>{DRAFT_MARK}</b>", styles["Normal"]))
    return build_pdf(
        story,
        title=f"Annual product quality review {number}",
        author=site,
        decorate=page_decorator(footer, draft_mark=None if final else DRAFT_MARK),
    )
