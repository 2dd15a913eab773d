"""The certificate of analysis as a PDF: the lot, the specification, each test with its
criterion, result and conclusion, and the signature manifestation of QC's review and QA's
approval (Part 11 §11.50: printed name, date and time, meaning — and whether each signature
still covers this content). A certificate that is not approved, or whose lot is not released,
carries a watermark saying so."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.reports import pdf
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.production.qc.models import CertificateOfAnalysis, CertificateStatus
from pharmaqms.lifecycle.production.qc.specifications import get_specification
from pharmaqms.platform.masterdata.models import (
    Lot,
    LotKind,
    LotStatus,
    Material,
    Product,
    Supplier,
)

CONCLUSION_TEXT = {
    "pass": "complies",
    "fail": "DOES NOT COMPLY",
    "not_evaluated": "not evaluated",
    "missing": "not tested",
}


def watermark_for(coa: CertificateOfAnalysis, lot: Lot) -> str | None:
    if coa.status == CertificateStatus.WITHDRAWN:
        return "WITHDRAWN - NOT VALID"
    if coa.status != CertificateStatus.APPROVED:
        return "DRAFT - NOT VALID"
    if lot.status != LotStatus.RELEASED:
        return f"LOT {lot.status.replace('_', ' ').upper()} - NOT RELEASED"
    return None


def _item(session: Session, lot: Lot) -> str:
    if lot.kind == LotKind.FINISHED and lot.product_id:
        product = session.get(Product, lot.product_id)
        if product:
            strength = f" {product.strength}" if product.strength else ""
            return f"{product.name}{strength} ({product.code}, GTIN {product.gtin})"
    if lot.material_id:
        material = session.get(Material, lot.material_id)
        if material:
            return f"{material.name} ({material.code})"
    return lot.item_code


def render_certificate(session: Session, coa: CertificateOfAnalysis, *, printed_by: Actor) -> bytes:
    lot = session.get(Lot, coa.lot_id)
    assert lot is not None  # a certificate's lot is a foreign key: it exists
    spec = get_specification(session, coa.specification_id)
    styles = pdf.styles()
    mark = watermark_for(coa, lot)
    printed_at = clock.now()
    footer = (
        f"{coa.number} - printed {format_time(printed_at)} by {printed_by.full_name} "
        f"({printed_by.username})"
    )

    supplier = session.get(Supplier, lot.supplier_id) if lot.supplier_id else None
    meta = [
        ["Certificate", coa.number],
        ["Item", _item(session, lot)],
        ["Lot", lot.lot_number],
        ["Manufactured", lot.manufactured_on.isoformat() if lot.manufactured_on else "-"],
        ["Expiry / retest", lot.expires_on.isoformat() if lot.expires_on else "-"],
        ["Lot status", lot.status.replace("_", " ")],
        ["Specification", f"{spec.number} - {spec.title} (market {spec.market})"],
    ]
    if supplier is not None:
        meta.insert(
            3, ["Supplier", f"{supplier.name} ({supplier.code}); lot {lot.supplier_lot or '-'}"]
        )
    meta.append(["Content hash (SHA-256)", coa.content_hash()])
    story: list[object] = [
        Paragraph(escape(get_settings().site_name), styles["Normal"]),
        Paragraph("Certificate of analysis", styles["Title"]),
    ]
    story += [pdf.key_value_table(meta, styles, label_width=38), Spacer(1, 6 * mm)]
    rows: list[list[object]] = [["Test", "Method", "Acceptance criterion", "Result", "Conclusion"]]
    for line in coa.reported:
        rows.append(
            [
                Paragraph(escape(line["test_name"]), styles["BodyText"]),
                Paragraph(escape(line.get("method") or "-"), styles["BodyText"]),
                Paragraph(escape(line["criterion"]), styles["BodyText"]),
                Paragraph(escape(", ".join(line["results"]) or "-"), styles["BodyText"]),
                CONCLUSION_TEXT.get(line["outcome"], line["outcome"]),
            ]
        )
    results = Table(rows, colWidths=[38 * mm, 32 * mm, 40 * mm, 35 * mm, 25 * mm], repeatRows=1)
    results.setStyle(TableStyle(pdf.HEADED))
    story += [Paragraph("Results", styles["Heading2"]), results, Spacer(1, 4 * mm)]
    complies = all(line["outcome"] == "pass" for line in coa.reported) and bool(coa.reported)
    verdict = (
        f"The lot complies with specification {spec.number}."
        if complies
        else f"The lot does NOT comply with specification {spec.number}."
    )
    story += [Paragraph(escape(verdict), styles["Heading3"]), Spacer(1, 6 * mm)]
    signatures = signatures_of(session, coa)
    story += pdf.signatures_block(signatures, styles)
    story += [Paragraph(escape(s.manifestation), styles["Normal"]) for s in signatures]
    return pdf.build_pdf(
        story,
        title=f"{coa.number} certificate of analysis, lot {lot.lot_number}",
        author=get_settings().site_name,
        footer=footer,
        watermark=mark,
    )
