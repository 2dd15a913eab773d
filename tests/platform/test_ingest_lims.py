from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.lims import TEST_RESULT
from pharmaqms.platform.governance.rules import Context, check
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import Lineage, QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.timeseries.models import TestResult as QCResult

CSV = b"""item_code,lot_number,sample_id,test_code,test_name,value,unit,spec_min,spec_max,analyst,\
tested_at
PARA500,L2026-001,S-1001,ASSAY,Assay (HPLC),99.2,%,95,105,chen,2026-02-10T09:30:00+01:00
PARA500,L2026-001,S-1001,DISS,Dissolution 30 min,"84,5",%,80,,chen,2026-02-10T11:00:00+01:00
PARA500,L2026-001,S-1002,ASSAY,Assay (HPLC),ninety,%,95,105,chen,2026-02-10T09:30:00+01:00
PARA500,L9999-404,S-1003,ASSAY,Assay (HPLC),100.1,%,95,105,chen,2026-02-10T09:30:00+01:00
PARA500,L2026-001,S-1004,ASSAY,Assay (HPLC),101.0,%,95,105,chen,2099-01-01T00:00:00+00:00
"""
CONTEXT = Context(now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def _setup(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        masterdata.add_product(
            s,
            actor=people.admin,
            gtin="05012345678900",
            code="PARA500",
            name="Paracetamol 500 mg tablets",
        )
        masterdata.add_lot(
            s,
            actor=people.qc,
            kind="finished",
            item_code="PARA500",
            lot_number="L2026-001",
            expires_on=date(2029, 1, 31),
        )


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.postgres
def test_a_lims_file_is_taken_row_by_row_with_bad_rows_quarantined(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind="lims", content=CSV, filename="lims.csv")
        counts = (
            run.status,
            run.rows_total,
            run.rows_accepted,
            run.rows_corrected,
            run.rows_quarantined,
        )
    assert counts == ("completed", 5, 2, 1, 3)
    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [r["code"] for r in q.reasons] for q in s.scalars(select(QuarantinedRow))
        }
        lineage = [(x.field, x.original, x.corrected, x.rule) for x in s.scalars(select(Lineage))]
        results = {r.test_code: (r.value, r.outcome) for r in s.scalars(select(QCResult))}
    assert reasons == {
        "line 4": ["not_a_number"],
        "line 5": ["unknown_lot"],
        "line 6": ["in_the_future"],
    }
    assert lineage == [("value", "84,5", "84.5", "decimal_comma")]
    assert results == {"ASSAY": (99.2, "pass"), "DISS": (84.5, "pass")}


def test_re_importing_the_same_file_changes_no_data(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.qc, kind="lims", content=CSV)
    before = (_count(db, QCResult), _count(db, QuarantinedRow))
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.qc, kind="lims", content=CSV)
        # 2 results already stored + 3 rows already waiting in the quarantine.
        assert (again.rows_accepted, again.rows_quarantined, again.rows_duplicate) == (0, 0, 5)
    assert (_count(db, QCResult), _count(db, QuarantinedRow)) == before == (2, 3)


def test_re_importing_a_file_after_its_rows_were_fixed_or_discarded_quarantines_nothing_again(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    # Given a delivery whose bad rows were decided: one fixed and replayed, one discarded.
    _setup(db, people)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.qc, kind="lims", content=CSV)
    with unit_of_work(db) as s:
        held = {q.position: (q.id, dict(q.raw)) for q in s.scalars(select(QuarantinedRow))}
        fixed_id, raw = held["line 4"]
        ingest.replay(
            s,
            actor=people.qc,
            row_id=fixed_id,
            corrected={**raw, "value": "99.0"},
            reason="transcription error, checked against the raw data",
        )
        ingest.discard(s, actor=people.qc, row_id=held["line 6"][0], reason="test row")
    with unit_of_work(db, write=False) as s:
        results_before = sorted(
            (r.sample_id, r.test_code, r.value, r.outcome, r.run_id)
            for r in s.scalars(select(QCResult))
        )
        quarantine_before = sorted(
            (q.id, q.position, q.status) for q in s.scalars(select(QuarantinedRow))
        )

    # When the same file is sent again.
    with unit_of_work(db) as s:
        again = ingest.ingest(s, actor=people.qc, kind="lims", content=CSV)
        counts = (again.rows_accepted, again.rows_quarantined, again.rows_duplicate)

    # Then every row is a duplicate: of a stored result, of the open quarantined row (unknown
    # lot), or of the earlier decision on the fixed and the discarded rows.
    assert counts == (0, 0, 5)
    with unit_of_work(db, write=False) as s:
        results_after = sorted(
            (r.sample_id, r.test_code, r.value, r.outcome, r.run_id)
            for r in s.scalars(select(QCResult))
        )
        quarantine_after = sorted(
            (q.id, q.position, q.status) for q in s.scalars(select(QuarantinedRow))
        )
    assert results_after == results_before
    assert quarantine_after == quarantine_before
    assert [status for _id, _pos, status in quarantine_after] == ["replayed", "open", "discarded"]


def test_local_times_a_clock_change_skips_or_repeats_are_quarantined_with_their_reason(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    with unit_of_work(db) as s:
        ingest.register_source(
            s,
            actor=people.admin,
            code="lims-leiden",
            name="LIMS Leiden",
            kind="lims",
            mapping={"timezone": "Europe/Amsterdam"},
        )
    local = b"""item_code,lot_number,sample_id,test_code,value,unit,tested_at
PARA500,L2026-001,S-2001,ASSAY,99.2,%,2025-03-30 02:30:00
PARA500,L2026-001,S-2002,ASSAY,99.4,%,2025-10-26 02:30:00
PARA500,L2026-001,S-2003,ASSAY,99.6,%,2025-10-26 03:30:00
"""

    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.qc, kind="lims", content=local, source_code="lims-leiden"
        )
        counts = (run.rows_accepted, run.rows_quarantined)

    assert counts == (1, 2)
    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [r["code"] for r in q.reasons] for q in s.scalars(select(QuarantinedRow))
        }
        stored = [(r.sample_id, r.tested_at) for r in s.scalars(select(QCResult))]
    assert reasons == {
        "line 2": ["nonexistent_local_time"],
        "line 3": ["ambiguous_local_time"],
    }
    assert stored == [("S-2003", datetime(2025, 10, 26, 2, 30, tzinfo=UTC))]


def test_two_rows_with_one_identity_and_different_values_are_not_silently_merged(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    header, first = CSV.splitlines()[:2]
    conflicting = first.replace(b",99.2,", b",97.0,")
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s, actor=people.qc, kind="lims", content=b"\n".join([header, first, first, conflicting])
        )
        assert (run.rows_accepted, run.rows_duplicate, run.rows_quarantined) == (1, 1, 1)
    with unit_of_work(db, write=False) as s:
        [row] = s.scalars(select(QuarantinedRow))
        assert (row.position, [r["code"] for r in row.reasons]) == ("line 4", ["conflicting_row"])
        assert s.scalar(select(QCResult.value)) == 99.2


def test_a_quarantined_row_is_corrected_and_replayed_and_a_still_bad_fix_changes_nothing(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    with unit_of_work(db) as s:
        ingest.ingest(s, actor=people.qc, kind="lims", content=CSV)
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow).where(QuarantinedRow.position == "line 4")).one()
        row_id, raw = row.id, dict(row.raw)
    entries = _count(db, AuditEntry)
    with pytest.raises(InvalidInput, match="not a number"), unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.qc,
            row_id=row_id,
            corrected={**raw, "value": "ninety-nine"},
            reason="typo",
        )
    assert _count(db, AuditEntry) == entries
    with unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.qc,
            row_id=row_id,
            corrected={**raw, "value": "99.0"},
            reason="transcription error, checked against the raw data",
        )
    with unit_of_work(db, write=False) as s:
        assert s.get(QuarantinedRow, row_id).status == "replayed"  # type: ignore[union-attr]
        assert s.scalar(select(QCResult.value).where(QCResult.sample_id == "S-1002")) == 99.0


def test_a_file_that_is_not_csv_or_json_is_refused_and_the_refusal_is_recorded(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind="lims", content=b"\xff\xfe\x00garbage")
        assert run.status == "refused"
        assert "not UTF-8" in (run.refused_reason or "")
    assert _count(db, QCResult) == 0


def _result(unit: str, **more: str) -> dict[str, str]:
    return {
        "item_code": "PARA500",
        "lot_number": "L2026-001",
        "sample_id": "S-3001",
        "test_code": "T",
        "value": "1.5",
        "unit": unit,
        "tested_at": "2026-02-10T09:30:00+01:00",
        **more,
    }


@pytest.mark.parametrize(
    "unit",
    [
        "",
        "%",
        "% w/w",
        "% w/v",
        "mg/g",
        "ppm",
        "ppb",
        "CFU/g",
        "cfu/mL",
        "EU/mL",
        "IU/mL",
        "µg HA/dose",
        "AV",
        "pH",
        "NTU",
        "mOsm/kg",
        "mg/mL",
        "µm",
        "min",
        "°C",
        "N",
        "mPa·s",
    ],
)
def test_the_units_qc_labs_report_in_are_taken_with_specification_limits(unit: str) -> None:
    checked = check(TEST_RESULT, _result(unit, spec_min="1", spec_max="2"), CONTEXT)

    assert checked.problems == []


@pytest.mark.parametrize(
    ("unit", "code", "message"),
    [
        ("blorbs", "unknown_unit", "unit: 'blorbs' is not a unit of measurement"),
        ("CFU/blorb", "unknown_unit", "unit: 'CFU/blorb' is not a unit of measurement"),
        (
            "furlongs",
            "non_metric_unit",
            "unit: 'furlongs' is not a metric unit (furlong); QC results are reported in SI units",
        ),
        (
            "mg/lb",
            "non_metric_unit",
            "unit: 'mg/lb' is not a metric unit (pound); QC results are reported in SI units",
        ),
    ],
)
def test_a_result_in_a_unit_no_lab_reports_in_is_a_problem_with_or_without_limits(
    unit: str, code: str, message: str
) -> None:
    with_limits = check(TEST_RESULT, _result(unit, spec_min="1", spec_max="2"), CONTEXT)
    without = check(TEST_RESULT, _result(unit), CONTEXT)

    assert [(p.field, p.code, p.message) for p in with_limits.problems] == [("unit", code, message)]
    assert without.problems == with_limits.problems


def test_a_result_in_furlongs_is_quarantined_and_neither_stored_nor_judged(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _setup(db, people)
    furlongs = CSV.splitlines()[0] + b"\n" + CSV.splitlines()[1].replace(b",%,", b",furlongs,")

    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind="lims", content=furlongs)
        counts = (run.rows_total, run.rows_accepted, run.rows_quarantined)

    assert counts == (1, 0, 1)
    assert _count(db, QCResult) == 0
    with unit_of_work(db, write=False) as s:
        [row] = s.scalars(select(QuarantinedRow))
        assert [r["code"] for r in row.reasons] == ["non_metric_unit"]
