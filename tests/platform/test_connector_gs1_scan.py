from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from tests.platform.company import TABLET_GTIN, count, sample, set_up_company

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import QuarantinedRow
from pharmaqms.platform.masterdata.models import Lot, Product
from pharmaqms.platform.traceability.scans import Gs1Scan


def _ingest(db, people, content: bytes) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.logistics, kind="gs1", content=content)
        return (
            run.rows_total,
            run.rows_accepted,
            run.rows_corrected,
            run.rows_duplicate,
            run.rows_quarantined,
        )


@pytest.mark.postgres
def test_scans_are_recorded_and_linked_and_each_bad_scan_says_what_is_wrong(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))

    assert _ingest(db, people, sample("gs1_scans.txt")) == (12, 5, 0, 1, 6)

    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [(r["code"], r["message"]) for r in q.reasons]
            for q in s.scalars(select(QuarantinedRow))
        }
        lots = {lot.id: lot.lot_number for lot in s.scalars(select(Lot))}
        tablet = s.scalars(select(Product.id).where(Product.code == "PARA500")).one()
        scans = [
            (
                scan.form,
                scan.symbology,
                scan.hri,
                scan.product_id == tablet,
                lots.get(scan.lot_id or 0),
                scan.expires_on,
                scan.scanned_at,
            )
            for scan in s.scalars(select(Gs1Scan).order_by(Gs1Scan.id))
        ]
    assert reasons == {
        "line 6": [
            (
                "bad_check_digit",
                "AI (01): Invalid GTIN check digit for '08712345000012': Expected 1, got 2.",
            )
        ],
        "line 7": [("impossible_date", "month 13 in date 291331")],
        "line 8": [("unknown_ai", "AI (23) is not a GS1 application identifier")],
        "line 9": [("field_too_long", "AI (10) allows at most 20 characters, got 21")],
        "line 10": [
            (
                "unknown_lot",
                f"lot T26-010121SN000022 is not a batch of PARA500 (GTIN {TABLET_GTIN}): a "
                "misread (a GS separator missing after the lot?) or a pack that is not ours",
            )
        ],
        "line 11": [
            (
                "expiry_mismatch",
                "the pack says expiry 2029-02-28; batch T26-0101 expires 2029-01-31",
            )
        ],
    }
    scanned = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    expiry = date(2029, 1, 31)
    assert scans == [
        (
            "element_string",
            "]d2",
            f"(01){TABLET_GTIN}(10)T26-0101(17)290131(21)SN000017",
            True,
            "T26-0101",
            expiry,
            scanned,
        ),
        (
            "hri",
            None,
            f"(01){TABLET_GTIN}(10)T26-0101(17)290131(21)SN000018",
            True,
            "T26-0101",
            expiry,
            scanned,
        ),
        (
            "digital_link",
            None,
            f"(01){TABLET_GTIN}(10)T26-0102(17)290131(21)SN000501",
            True,
            "T26-0102",
            expiry,
            scanned,
        ),
        (
            "hri",
            None,
            "(01)04006381333931(10)AB123(17)280630(21)XYZ",
            False,
            None,
            date(2028, 6, 30),
            scanned,
        ),
        ("hri", None, "(00)387123450000000012", False, None, None, scanned),
    ]


def test_scanning_the_same_packs_again_changes_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))
    _ingest(db, people, sample("gs1_scans.txt"))

    quarantined = count(db, QuarantinedRow)
    # Scans already stored and scans already waiting in the quarantine are both duplicates.
    assert _ingest(db, people, sample("gs1_scans.txt")) == (12, 0, 0, 12, 0)
    assert count(db, Gs1Scan) == 5
    assert count(db, QuarantinedRow) == quarantined == 6


def test_a_scan_with_the_separator_restored_is_replayed_and_linked(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))
    _ingest(db, people, sample("gs1_scans.txt"))
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow).where(QuarantinedRow.position == "line 10")).one()
        row_id = row.id

    with unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.logistics,
            row_id=row_id,
            corrected={"code": "]d201087123450000111729013110T26-0101<GS>21SN000022"},
            reason="scanner HS-07 dropped the FNC1; re-keyed from the pack",
        )

    with unit_of_work(db, write=False) as s:
        scan = s.scalars(select(Gs1Scan).where(Gs1Scan.serial == "SN000022")).one()
        assert (scan.lot_number, scan.lot_id is not None) == ("T26-0101", True)
