"""The batch release certificate as a PDF: the batch, every rule of the checklist with its
result and the evidence it looked at, and the qualified person's signature manifestation (Part
11 §11.50: printed name, date and time, meaning; and whether it still covers this content).
A batch not (yet) released carries a watermark saying so; the checklist shown is then the one
evaluated at printing, not a certification."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports.pdf import GRID, build_pdf, key_value_table
from pharmaqms.kernel.reports.pdf import styles as report_styles
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord
from pharmaqms.lifecycle.production.release.models import ReleaseStatus
from pharmaqms.lifecycle.production.release.service import decision_of, evaluate_release
from pharmaqms.platform.masterdata.models import Lot, Product

CERTIFICATION = (
    "I certify that this batch has been manufactured and checked in compliance with the "
    "marketing authorisation and Good Manufacturing Practice, every condition of the release "
    "checklist above being met (EU GMP Annex 16; Annex 11 §15)."
)


def _stamp(value: Any) -> str:
    return format_time(value) if value is not None else "-"


def render_release_certificate(
    session: Session, lot_id: int, *, printed_by: Actor
) -> tuple[bytes, str]:
    """(PDF bytes, file name)."""
    evaluation = evaluate_release(session, lot_id)
    lot = session.get(Lot, lot_id)
    assert lot is not None  # evaluate_release refused an unknown lot
    product = session.get(Product, lot.product_id) if lot.product_id else None
    record = (
        session.get(BatchRecord, evaluation.batch_record_id) if evaluation.batch_record_id else None
    )
    decided = decision_of(session, lot_id)
    rules: list[dict[str, Any]] = (
        decided.evaluation if decided is not None else evaluation.as_list()
    )
    signatures = signatures_of(session, decided) if decided is not None else []
    if decided is None:
        mark: str | None = "NOT RELEASED - CHECKLIST PREVIEW"
    elif decided.status == ReleaseStatus.REJECTED:
        mark = "BATCH REJECTED"
    elif not any(s.meaning == "Released" and s.valid_for_current_content for s in signatures):
        mark = "SIGNATURE NOT VALID FOR THIS CONTENT"
    else:
        mark = None
    styles = report_styles()
    number = decided.number if decided is not None else f"preview of {lot.lot_number}"
    printed_at = clock.now()
    footer = (
        f"{number} - printed {format_time(printed_at)} by {printed_by.full_name} "
        f"({printed_by.username})"
    )

    item = (
        f"{product.name} {product.strength} ({product.code}, GTIN {product.gtin})".replace(
            "  ", " "
        )
        if product
        else lot.item_code
    )
    meta = [
        ["Release certificate", number],
        ["Product", item],
        ["Batch", lot.lot_number],
        [
            "Batch record",
            f"{record.number} (master {record.master_number})" if record else "none",
        ],
        ["Manufactured", lot.manufactured_on.isoformat() if lot.manufactured_on else "-"],
        ["End of manufacture", _stamp(lot.manufacturing_ended_at)],
        ["Expiry", lot.expires_on.isoformat() if lot.expires_on else "-"],
        ["Batch status", lot.status.replace("_", " ")],
    ]
    if decided is not None:
        meta += [
            ["Decision", f"{decided.decision} ({decided.status})"],
            ["Decided", _stamp(decided.decided_at)],
            [
                "Release cycle time",
                f"{decided.cycle_time_hours:.1f} h from end of manufacture"
                if decided.cycle_time_hours is not None
                else "-",
            ],
            ["Checklist hash (SHA-256)", decided.evaluation_hash],
            ["Content hash (SHA-256)", decided.content_hash()],
        ]
    else:
        meta.append(["Checklist hash (SHA-256)", evaluation.hash])
    story: list[object] = [
        Paragraph(escape(get_settings().site_name), styles["Normal"]),
        Paragraph("Batch release certificate", styles["Title"]),
    ]
    story += [
        key_value_table(meta, styles, label_width=40),
        Spacer(1, 5 * mm),
        Paragraph("Release checklist", styles["Heading2"]),
    ]
    body = styles["BodyText"]
    body.fontSize = 7.5
    body.leading = 9
    rows: list[list[object]] = [["Rule", "Result", "Findings and evidence"]]
    for rule in rules:
        lines = [f"<b>{escape(f)}</b>" for f in rule["findings"]]
        lines += [escape(e) for e in rule["evidence"]]
        rows.append(
            [
                Paragraph(
                    f"{escape(rule['title'])}<br/><font size=6>{escape(rule['basis'])}</font>",
                    body,
                ),
                "PASS" if rule["passed"] else "FAIL",
                Paragraph("<br/>".join(lines) or "-", body),
            ]
        )
    checklist = Table(rows, colWidths=[50 * mm, 14 * mm, 106 * mm], repeatRows=1)
    style = [*GRID, ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8)]
    for index, rule in enumerate(rules, 1):
        colour = colors.Color(0.85, 0.95, 0.87) if rule["passed"] else colors.Color(1, 0.85, 0.85)
        style.append(("BACKGROUND", (1, index), (1, index), colour))
    checklist.setStyle(TableStyle(style))
    story += [checklist, Spacer(1, 5 * mm)]
    passed = sum(1 for r in rules if r["passed"])
    story.append(Paragraph(escape(f"{passed} of {len(rules)} rules pass."), styles["Heading3"]))
    if decided is not None and decided.status == ReleaseStatus.RELEASED:
        story.append(Paragraph(escape(CERTIFICATION), styles["Normal"]))
    story += [Spacer(1, 4 * mm), Paragraph("Qualified person", styles["Heading2"])]
    if signatures:
        for s in signatures:
            validity = (
                "valid for this content"
                if s.valid_for_current_content
                else "NOT valid for this content"
            )
            story.append(Paragraph(escape(f"{s.manifestation} ({validity})"), styles["Normal"]))
            if s.comment:
                story.append(Paragraph(escape(f"Comment: {s.comment}"), styles["Normal"]))
    else:
        story.append(Paragraph("Not signed: no decision yet.", styles["Normal"]))
    content = build_pdf(
        story,
        title=f"Batch release certificate {number}, batch {lot.lot_number}",
        author=get_settings().site_name,
        footer=footer,
        watermark=mark,
    )
    return content, f"release-{lot.item_code}-{lot.lot_number}.pdf"
