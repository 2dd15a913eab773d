"""The periodic safety summary as a PDF (ReportLab), rendered only from the frozen figures and,
for a signed report, the QPPV's signature manifestation (Part 11 §11.50: printed name, date and
time, meaning). Rendered invariantly (no creation time, no random document id), so the same
figures and signature give the same bytes: the stored PDF can be checked by rendering it again.

A draft carries a watermark saying it is not signed, and is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from pharmaqms.kernel.reports.signed import (
    GRID,
    build_pdf,
    page_decorator,
    report_styles,
)

DRAFT_MARK = "DRAFT - NOT SIGNED"


@dataclass(frozen=True)
class Signed:
    """What the PDF prints of the signature."""

    number: str
    manifestation: str  # "Approved by … on … UTC"
    content_hash: str  # what the signature covers


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    table.setStyle(TableStyle(GRID if header else [GRID[0], GRID[2], GRID[3]]))
    return table


def _grouped(title: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[title, "Interval", "Cumulative"]] + [
        [r["group"], r["interval"], r["cumulative"]] for r in rows
    ]


def render_summary(figures: dict[str, Any], *, site: str, signed: Signed | None) -> bytes:
    styles, body = report_styles()
    number = signed.number if signed else "draft"
    footer = (
        f"Periodic safety summary {number} - {figures['product']} - "
        f"{figures['period_start']} to {figures['period_end']}"
    )

    story: list[Any] = [
        Paragraph(escape(site), styles["Normal"]),
        Paragraph("Periodic safety summary", styles["Title"]),
    ]
    totals = figures["totals"]
    meta = [
        ["Report", number],
        ["Product", figures["product"]],
        ["Period", f"{figures['period_start']} to {figures['period_end']}"],
        ["Counting rules", Paragraph(escape(figures["boundaries"]), body)],
    ]
    story += [_table(meta, [35, 145], header=False), Spacer(1, 4 * mm)]
    story.append(Paragraph("Cases", styles["Heading2"]))
    fields = ("cases", "serious", "non_serious", "fatal")
    story.append(
        _table(
            [
                ["", "Cases", "Serious", "Non-serious", "Fatal"],
                ["Interval", *(totals["interval"][f] for f in fields)],
                ["Cumulative", *(totals["cumulative"][f] for f in fields)],
            ],
            [40, 25, 25, 25, 25],
        )
    )
    story += [Spacer(1, 3 * mm), Paragraph("Reactions by term", styles["Heading2"])]
    # Reports signed before MedDRA was loaded keep their words (a signed PDF must render
    # again byte for byte); the SOC wording appears only where terms were grouped by SOC.
    by_soc = any(t.get("soc") for t in figures["terms"])
    story.append(
        Paragraph(
            "By System Organ Class › Preferred Term where the event is coded against the "
            "loaded MedDRA release, else the MedDRA code, else the reporter's verbatim term; "
            "a term is counted once per case. Serious and fatal are judged per event."
            if by_soc
            else "MedDRA code where the case is coded, else the reporter's verbatim term; a "
            "term is counted once per case. Serious and fatal are judged per event.",
            body,
        )
    )
    rows: list[list[Any]] = [
        [
            "Term",
            "Int. cases",
            "Int. serious",
            "Int. fatal",
            "Cum. cases",
            "Cum. serious",
            "Cum. non-serious",
            "Cum. fatal",
        ]
    ]
    for t in figures["terms"]:
        i, c = t["interval"], t["cumulative"]
        rows.append(
            [
                Paragraph(
                    escape(f"{t['soc']} › {t['label']}" if t.get("soc") else t["label"]), body
                ),
                i["cases"],
                i["serious"],
                i["fatal"],
                c["cases"],
                c["serious"],
                c["non_serious"],
                c["fatal"],
            ]
        )
    if len(rows) == 1:
        rows.append(["no cases", "", "", "", "", "", "", ""])
    story.append(_table(rows, [60, 16, 17, 15, 17, 18, 22, 15]))
    story += [Spacer(1, 3 * mm), Paragraph("By source and region", styles["Heading2"])]
    pairs = [
        (
            _grouped("Source (channel)", figures["sources"]),
            _grouped("Report type", figures["report_types"]),
        ),
        (_grouped("Region", figures["regions"]), _grouped("Country", figures["countries"])),
    ]
    for left, right in pairs:
        story.append(
            Table(
                [[_table(left, [40, 18, 22]), _table(right, [40, 18, 22])]],
                colWidths=[90 * mm, 90 * mm],
                style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
            )
        )
        story.append(Spacer(1, 2 * mm))
    story += [Spacer(1, 2 * mm), Paragraph("Cases of the interval", styles["Heading2"])]
    lines: list[list[Any]] = [
        ["Case", "Received", "Source", "Country", "Age", "Sex", "Events", "Seriousness"]
    ]
    for case in figures["cases"]:
        lines.append(
            [
                case["number"],
                case["received_on"],
                case["source"],
                case["country"],
                case["age"],
                case["sex"],
                Paragraph(escape(case["events"]), body),
                Paragraph(escape(", ".join(case["criteria"]) or "non-serious"), body),
            ]
        )
    if len(lines) == 1:
        lines.append(["none", "", "", "", "", "", "", ""])
    story.append(_table(lines, [24, 18, 18, 13, 10, 14, 50, 33]))
    story += [Spacer(1, 4 * mm), Paragraph("Signature", styles["Heading2"])]
    if signed is None:
        story.append(Paragraph("Draft: not signed. Not for submission.", styles["Normal"]))
    else:
        story.append(Paragraph(escape(signed.manifestation), styles["Normal"]))
        story.append(
            Paragraph(
                escape(
                    "The electronic signature of the QPPV covers the figures above "
                    f"(content SHA-256 {signed.content_hash})."
                ),
                body,
            )
        )
    return build_pdf(
        story,
        title=f"Periodic safety summary {number}",
        author=site,
        decorate=page_decorator(footer, draft_mark=DRAFT_MARK if signed is None else None),
    )
