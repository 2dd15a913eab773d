"""Scanned GS1 barcodes: one scan per line, as the scanner sent it — a raw element string with
GS separators (``]d2010…17…10…<GS>21…``), the human-readable ``(01)…(17)…`` line, or a GS1
Digital Link URI. Lines starting with ``#`` are comments.

Parsing is :func:`pharmaqms.platform.gs1.parse_gs1` (strict): a bad check digit, an impossible
date, an unknown AI or an over-long field each quarantine the scan with that specific reason.
A readable scan is recorded and linked to our product, batch and pack. Where the GTIN is ours,
the scan must name one of its batches with that batch's expiry: otherwise it is quarantined
for a person to look at, because that is how a missing GS separator shows (the lot swallowed
the next AI) — or a pack that is not what its label claims. Scanning the same pack again is a
duplicate: the table records what was seen, first seen when."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.platform.connectors.tabular import decode
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.gs1 import GS1Data, GS1Error, parse_gs1
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.masterdata.models import Lot, LotKind, Product
from pharmaqms.platform.traceability.models import SerialisedPack
from pharmaqms.platform.traceability.scans import Gs1Scan


def _parse(code: str) -> GS1Data:
    return parse_gs1(code, ref_year=clock.now().year)


def _readable(values: dict[str, Any]) -> list[Problem]:
    try:
        _parse(values["code"])
    except GS1Error as err:
        return [Problem("code", str(err.code), err.detail)]
    return []


SCAN = EntitySpec(
    entity="scan",
    # The GS1 parser bounds the length itself (and says so specifically); this bound only
    # keeps what is stored in the quarantine reasonable.
    fields=(FieldSpec("code", max_length=4000),),
    natural_key=("code",),
    checks=(_readable,),
)


def _problem(code: str, message: str) -> Stored:
    return Stored(problems=[Problem("code", code, message)])


SPECS: Final = {"scan": SCAN}


class Gs1ScanConnector:
    kind = "gs1"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        for number, line in enumerate(decode(content).split("\n"), start=1):
            text = line.removesuffix("\r")
            if text.strip() and not text.lstrip().startswith("#"):
                yield SourceRow("scan", f"line {number}", {"code": text})

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        data = _parse(checked.values["code"])
        # In AI order, so a pack scanned as a DataMatrix and as a Digital Link is one pack.
        hri = "".join(f"({code}){value}" for code, value in sorted(data.ais))
        existing = ctx.session.scalars(
            select(Gs1Scan.id).where(Gs1Scan.source_id == ctx.source_id, Gs1Scan.hri == hri)
        ).first()
        if existing is not None:
            return Stored(entity_id=existing, duplicate=True)
        product = (
            ctx.session.scalars(select(Product).where(Product.gtin == data.gtin)).first()
            if data.gtin
            else None
        )
        lot: Lot | None = None
        if product is not None and data.lot is not None:
            lot = ctx.session.scalars(
                select(Lot).where(
                    Lot.kind == LotKind.FINISHED,
                    Lot.product_id == product.id,
                    Lot.lot_number == data.lot,
                )
            ).first()
            if lot is None:
                return _problem(
                    "unknown_lot",
                    f"lot {data.lot} is not a batch of {product.code} (GTIN {data.gtin}): a "
                    "misread (a GS separator missing after the lot?) or a pack that is not ours",
                )
            if data.expiry and lot.expires_on and data.expiry != lot.expires_on:
                return _problem(
                    "expiry_mismatch",
                    f"the pack says expiry {data.expiry}; batch {lot.lot_number} expires "
                    f"{lot.expires_on}",
                )
        pack = (
            ctx.session.scalars(
                select(SerialisedPack).where(
                    SerialisedPack.gtin == data.gtin, SerialisedPack.serial == data.serial
                )
            ).first()
            if data.gtin and data.serial
            else None
        )
        if pack is not None and lot is not None and pack.lot_id not in (None, lot.id):
            return _problem(
                "pack_lot_mismatch",
                f"serial {data.serial} was commissioned in another batch than {data.lot}",
            )
        scan = Gs1Scan(
            source_id=ctx.source_id,
            raw=checked.values["code"],
            hri=hri,
            form=data.form.value,
            symbology=data.symbology.value if data.symbology else None,
            gtin=data.gtin,
            lot_number=data.lot,
            expires_on=data.expiry,
            serial=data.serial,
            sscc=data.sscc,
            product_id=product.id if product else None,
            lot_id=lot.id if lot else (pack.lot_id if pack else None),
            pack_id=pack.id if pack else None,
            scanned_at=ctx.received_at,
            run_id=ctx.run_id,
        )
        ctx.session.add(scan)
        ctx.session.flush()
        return Stored(entity_id=scan.id)


GS1_SCANS = register_connector(Gs1ScanConnector())
