"""Printable pack labels: each label's GS1 DataMatrix and Digital Link QR code, decoded back
with zxing-cpp, give exactly what was meant; the PDF is for staff who manage serials."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from tests.lifecycle.distribution.productpage.page_steps import GTIN

from pharmaqms.lifecycle.distribution.productpage.labels import PackCode, datamatrix_png, qr_png

# Lots and serials with what a URI must escape ('/', '%', '?', '&') and lengths that make the
# encoder choose different symbol sizes.
CODES = [
    PackCode(GTIN, date(2028, 1, 31), "L1", "S1"),
    PackCode(GTIN, date(2028, 1, 31), "ABC-123", "S1"),  # DMRE unless a square is forced
    PackCode(GTIN, date(2027, 6, 30), "L/1%", "S0001"),
    PackCode(GTIN, date(2027, 6, 30), "B?7&x", "12345678901234567890"),
]


def _read(png: bytes) -> Any:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("code", CODES, ids=lambda c: f"{c.lot}-{c.serial}")
def test_the_datamatrix_reads_back_as_the_gs1_element_string(code: PackCode) -> None:
    read = _read(datamatrix_png(code))
    assert read.format == zxingcpp.BarcodeFormat.DataMatrix
    # ]d2: ECC 200 with FNC1 first, i.e. GS1 DataMatrix, square (not DMRE, "]d8").
    assert read.symbology_identifier == "]d2"
    assert read.content_type == zxingcpp.ContentType.GS1
    # FNC1 (GS) after the variable-length lot, none after the fixed-length GTIN and expiry.
    assert read.bytes == (f"01{GTIN}17{code.yymmdd}10{code.lot}\x1d21{code.serial}".encode())
    assert read.text == code.hri


@pytest.mark.parametrize("code", CODES, ids=lambda c: f"{c.lot}-{c.serial}")
def test_the_qr_code_reads_back_as_the_digital_link(code: PackCode) -> None:
    uri = code.digital_link("https://pack.example.org")
    read = _read(qr_png(uri))
    assert read.format == zxingcpp.BarcodeFormat.QRCode
    assert read.text == uri


def test_the_digital_link_percent_encodes_lot_and_serial() -> None:
    link = PackCode(GTIN, date(2027, 6, 30), "L/1%", "B?7&x").digital_link("https://x.org")
    assert link == f"https://x.org/01/{GTIN}/10/L%2F1%25/21/B%3F7%26x?17=270630"


@pytest.fixture
def serial_range(db, people, frozen_clock, api) -> int:  # type: ignore[no-untyped-def]
    declared = api("qa").post(
        "/api/v1/serials/ranges",
        json={
            "gtin": GTIN,
            "lot_number": "L2",
            "expires_on": "2027-06-30",
            "prefix": "R",
            "first": 1,
            "last": 30,
            "width": 5,
        },
    )
    assert declared.status_code == 201, declared.text
    return int(declared.json()["id"])


def test_staff_print_a_sheet_of_labels_as_a_pdf(serial_range: int, api: Any) -> None:
    url = f"/distribution/serials/ranges/{serial_range}/labels"
    sheet = api("qa").get(url, params={"start": 5, "count": 26})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"] == "application/pdf"
    assert sheet.content.startswith(b"%PDF")
    assert b"/Count 2" in sheet.content  # 26 labels from R00005: 24 + 2, two pages
    # Outside the range, and for someone who may not manage serials: refused.
    assert api("qa").get(url, params={"start": 31}).status_code == 422
    assert api("qa").get("/distribution/serials/ranges/999/labels").status_code == 404
    assert api("qc").get(url).status_code == 403
