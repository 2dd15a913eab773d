"""Scanned GS1 barcodes: what was scanned (the raw text, kept as received), what it says (GTIN,
lot, expiry, serial, SSCC) and which of our products, lots and packs it names. Append-only,
like every measured row: each belongs to an audited import run."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import SealedData


class Gs1Scan(SealedData, Base):
    __tablename__ = "gs1_scans"
    __table_args__ = (
        # One row per identifier and source: scanning the same pack again is a duplicate.
        UniqueConstraint("source_id", "hri"),
        Index("ix_gs1_scans_gtin_lot", "gtin", "lot_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("data_sources.id"), nullable=False)
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    # The canonical human-readable form "(01)…(17)…(10)…", whatever form was scanned.
    hri: Mapped[str] = mapped_column(String(600), nullable=False)
    form: Mapped[str] = mapped_column(String(20), nullable=False)
    symbology: Mapped[str | None] = mapped_column(String(3))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_number: Mapped[str | None] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)
    serial: Mapped[str | None] = mapped_column(String(20))
    sscc: Mapped[str | None] = mapped_column(String(18), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    pack_id: Mapped[int | None] = mapped_column(ForeignKey("serialised_packs.id"))
    scanned_at: Mapped[datetime] = mapped_column(nullable=False)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
