"""Printable pack labels for serials of a commissioned range: each label carries the pack's
GS1 DataMatrix (the EU FMD / DSCSA unique identifier), a QR code with its GS1 Digital Link to
the public product page, and the human-readable line.

The DataMatrix holds the element string (01)(17)(10)(21), in that order: the fixed-length
GTIN and expiry first, then the variable-length lot, which must be ended by FNC1 before the
serial (GenSpecs 7.8.5); the serial, last, needs none. zxing-cpp writes FNC1 where the HRI
form implies it when asked for GS1 (``gs1=True``); a test decodes both symbols back."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.parse import quote

import numpy as np
import segno
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.lifecycle.distribution.serials.models import SerialRange
from pharmaqms.platform.masterdata.models import Product

MAX_LABELS: Final = 240
COLUMNS: Final = 3
ROWS: Final = 8


@dataclass(frozen=True, slots=True)
class PackCode:
    gtin: str
    expiry: date
    lot: str
    serial: str

    @property
    def yymmdd(self) -> str:
        return self.expiry.strftime("%y%m%d")

    @property
    def hri(self) -> str:
        return f"(01){self.gtin}(17){self.yymmdd}(10){self.lot}(21){self.serial}"

    @property
    def element_string(self) -> str:
        """What a scanner transmits after ``]d2``: FNC1 as GS (0x1D) after the lot only."""
        return f"01{self.gtin}17{self.yymmdd}10{self.lot}\x1d21{self.serial}"

    def digital_link(self, base_url: str) -> str:
        # Key qualifiers 10 then 21 in the path, the expiry (17) a data attribute; lot and
        # serial percent-encoded (they may hold '/', '%', '?' and the like).
        return (
            f"{base_url}/01/{self.gtin}/10/{quote(self.lot, safe='')}"
            f"/21/{quote(self.serial, safe='')}?17={self.yymmdd}"
        )


def datamatrix_png(code: PackCode, scale: int = 6) -> bytes:
    # force_square: left alone, zxing-cpp picks a rectangular DMRE symbol (ISO/IEC 21471,
    # read back as "]d8") when it is smaller, which many pharmacy scanners do not read; the
    # EU FMD code is a square ECC 200 symbol. zxing-cpp ignores keyword names it does not
    # know, so the test checks the symbol it reads back, not just the text.
    barcode = zxingcpp.create_barcode(
        code.hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, force_square=True
    )
    return _png(Image.fromarray(np.asarray(barcode.to_image(scale=scale))))


def qr_png(uri: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make_qr(uri, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def codes_of(record: SerialRange, start: int | None, count: int) -> list[PackCode]:
    first = record.first if start is None else start
    if not record.first <= first <= record.last:
        raise InvalidInput(
            f"start must lie in the range, {record.first} to {record.last}", field="start"
        )
    last = min(record.last, first + count - 1)
    return [
        PackCode(
            record.gtin,
            record.expires_on,
            record.lot_number,
            f"{record.prefix}{n:0{record.width}d}",
        )
        for n in range(first, last + 1)
    ]


def labels_pdf(
    session: Session, range_id: int, *, start: int | None, count: int, base_url: str
) -> tuple[bytes, str]:
    """(PDF bytes, file name): A4 sheets of 3 × 8 labels."""
    record = session.get(SerialRange, range_id)
    if record is None:
        raise NotFound(f"no serial range {range_id}")
    name = session.scalar(select(Product.name).where(Product.gtin == record.gtin)) or ""
    codes = codes_of(record, start, count)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"Pack labels {record.gtin} {record.lot_number}")
    width, height = A4
    cell_w, cell_h = (width - 20 * mm) / COLUMNS, (height - 20 * mm) / ROWS
    for index, code in enumerate(codes):
        if index and index % (COLUMNS * ROWS) == 0:
            canvas.showPage()
        slot = index % (COLUMNS * ROWS)
        x = 10 * mm + (slot % COLUMNS) * cell_w
        y = height - 10 * mm - (slot // COLUMNS + 1) * cell_h
        _label(canvas, code, name, x, y, cell_w, cell_h, base_url)
    canvas.save()
    return out.getvalue(), f"labels-{record.gtin}-{record.lot_number}.pdf"


def _label(
    canvas: Canvas,
    code: PackCode,
    name: str,
    x: float,
    y: float,
    w: float,
    h: float,
    base_url: str,
) -> None:
    canvas.setLineWidth(0.2)
    canvas.rect(x + 1 * mm, y + 1 * mm, w - 2 * mm, h - 2 * mm)
    side = 16 * mm
    canvas.drawImage(
        ImageReader(io.BytesIO(datamatrix_png(code))), x + 3 * mm, y + h - side - 3 * mm, side, side
    )
    canvas.drawImage(
        ImageReader(io.BytesIO(qr_png(code.digital_link(base_url)))),
        x + 3 * mm + side + 3 * mm,
        y + h - side - 3 * mm,
        side,
        side,
    )
    canvas.setFont("Helvetica-Bold", 7)
    canvas.drawString(x + 3 * mm, y + 11 * mm, name[:45])
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(x + 3 * mm, y + 8 * mm, f"GTIN {code.gtin}  EXP {code.expiry.isoformat()}")
    canvas.drawString(x + 3 * mm, y + 5 * mm, f"LOT {code.lot}  SN {code.serial}")
