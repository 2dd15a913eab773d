"""Shared steps of the annual product quality review tests: a small fixed data set (one product,
batches in 2024 and 2025, a deviation on one batch, a complaint), the rows a refusal must leave
untouched, and the workflow steps the tests repeat."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.models import ProductQualityReview, ReviewFile
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.quality.complaints import service as complaints
from pharmaqms.quality.deviations import service as deviations

PRODUCT = "APQRTAB"
NAME = "Reviewtab 10 mg tablets"
# lot number: (manufactured on, status)
BATCHES = {
    "RT24-001": (date(2024, 11, 5), "released"),
    "RT25-001": (date(2025, 2, 3), "released"),
    "RT25-002": (date(2025, 6, 9), "released"),
    "RT25-003": (date(2025, 9, 20), "rejected"),
}


def small_data_set(db: Database, people: Any) -> None:
    with unit_of_work(db) as s:
        masterdata.add_product(
            s, actor=people.admin, gtin="04012345000016", code=PRODUCT, name=NAME
        )
        for number, (made, status) in BATCHES.items():
            masterdata.add_lot(
                s,
                actor=people.admin,
                kind="finished",
                item_code=PRODUCT,
                lot_number=number,
                quantity=100_000,
                unit="each",
                manufactured_on=made,
                status=status,
            )
        # One on a batch; one naming the product, not a batch; one of another year, which is
        # not counted. (title, area, discovered, product, batches)
        for title, area, day, product, batches in (
            ("Compression force drift on RT25-002", "Compression", (2025, 6, 9), "", ["RT25-002"]),
            ("Label roll of the wrong version issued", "Packaging", (2025, 3, 1), PRODUCT, []),
            ("Old deviation", "Packaging", (2024, 12, 1), NAME, []),
        ):
            deviations.report_deviation(
                s,
                actor=people.qa,
                title=title,
                description="What happened, as the reporter saw it.",
                area=area,
                occurred_at=datetime(*day, 8, tzinfo=UTC),
                discovered_at=datetime(*day, 9, tzinfo=UTC),
                product=product,
                batch_ids=batches,
            )
        complaints.register_complaint(
            s,
            actor=people.qa,
            product=NAME,
            lot="RT25-001",
            complainant_name="A pharmacy",
            complainant_type="pharmacist",
            received_at=datetime(2025, 10, 2, 9, tzinfo=UTC),
            description="Two broken tablets in a blister.",
        )


COUNTED = {
    "reviews": ProductQualityReview,
    "files": ReviewFile,
    "audit": AuditEntry,
    "signatures": ElectronicSignature,
}


def counts(db: Database) -> dict[str, int]:
    with unit_of_work(db, write=False) as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }


def review_state(db: Database, review_id: int) -> tuple[Any, ...]:
    with unit_of_work(db, write=False) as s:
        r = s.get(ProductQualityReview, review_id)
        assert r is not None
        return (r.status, r.version, r.conclusions, r.actions, r.figures_sha256, r.pdf_sha256)


def generate(db: Database, people: Any, year: int = 2025, who: str = "qa") -> int:
    with unit_of_work(db) as s:
        return service.generate_review(s, actor=people.actor(who), product=PRODUCT, year=year).id


def conclude(db: Database, people: Any, review_id: int, who: str = "qa") -> None:
    with unit_of_work(db) as s:
        service.write_conclusions(
            s,
            actor=people.actor(who),
            review_id=review_id,
            conclusions="The process is in control; one rejected batch investigated.",
            actions="Tighten the compression force alert limit.",
        )
    with unit_of_work(db) as s:
        service.conclude_review(s, actor=people.actor(who), review_id=review_id, password=PASSWORD)


def approve(db: Database, people: Any, review_id: int, who: str = "qp") -> None:
    with unit_of_work(db) as s:
        service.approve_review(s, actor=people.actor(who), review_id=review_id, password=PASSWORD)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
