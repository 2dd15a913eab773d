"""Serial ranges (audited) and pack verifications (append-only, sealed)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base
from pharmaqms.kernel.records import Audited, SealedData


class SerialRange(Audited, Base):
    """Serials ``prefix`` + ``first``…``last`` (zero-padded to ``width`` digits) commissioned
    for one lot of one product: the marketing-authorisation holder's declaration that these
    packs exist, like an upload to a medicines-verification repository."""

    __tablename__ = "serial_ranges"
    __audit_type__ = "serial_range"
    __table_args__ = (Index("ix_serial_ranges_gtin_prefix", "gtin", "prefix"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(20), nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    prefix: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    first: Mapped[int] = mapped_column(Integer, nullable=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    def audit_label(self) -> str:
        return (
            f"serials {self.prefix}{self.first:0{self.width}d}–{self.prefix}"
            f"{self.last:0{self.width}d} of GTIN {self.gtin} lot {self.lot_number}"
        )

    def holds(self, serial: str) -> bool:
        digits = serial.removeprefix(self.prefix)
        return (
            serial.startswith(self.prefix)
            and len(digits) == self.width
            and digits.isdecimal()
            and self.first <= int(digits) <= self.last
        )


class SerialVerification(SealedData, Base):
    """One verification of a pack: what was asked, what the system answered, and who asked."""

    __tablename__ = "serial_verifications"
    __table_args__ = (Index("ix_serial_verifications_pack", "gtin", "serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), nullable=False)
    lot_number: Mapped[str] = mapped_column(String(20), nullable=False)
    serial: Mapped[str] = mapped_column(String(20), nullable=False)
    expiry_given: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str] = mapped_column(String(30), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    verified_at: Mapped[datetime] = mapped_column(nullable=False)
    verified_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
