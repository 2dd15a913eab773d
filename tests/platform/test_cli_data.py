from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from tests.kernel.cli import run_cli
from tests.platform.company import SAMPLES, count, set_up_company

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import DataSource, ImportRun, Lineage
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import ProcessReading
from pharmaqms.platform.timeseries.models import TestResult as QCResult


def test_a_source_registered_with_a_mapping_file_delivers_its_own_format(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))

    registered = run_cli(
        db,
        "sources",
        "register",
        "lims-leiden",
        "--kind",
        "lims",
        "--name",
        "LabWare LIMS, Leiden QC lab",
        "--mapping",
        str(SAMPLES / "lims_labware_mapping.json"),
    )
    taken = run_cli(
        db, "ingest", "lims", str(SAMPLES / "lims_labware.csv"), "--source-code", "lims-leiden"
    )

    assert registered.exit_code == 0, registered.output
    assert taken.exit_code == 0, taken.output
    assert "no lot T26-0404 of PARA500 is known" in taken.output
    with unit_of_work(db, write=False) as s:
        source = s.scalars(select(DataSource).where(DataSource.code == "lims-leiden")).one()
        run = s.scalars(select(ImportRun)).one()
        results = {
            r.test_code: (r.value, r.spec_max, r.outcome, r.tested_at, r.original_offset)
            for r in s.scalars(select(QCResult))
        }
        rules = sorted({row.rule for row in s.scalars(select(Lineage))})
        assert (source.kind, source.mapping["timezone"]) == ("lims", "Europe/Amsterdam")
        assert (run.source_id, run.rows_accepted, run.rows_corrected, run.rows_quarantined) == (
            source.id,
            3,
            3,
            1,
        )
    assert results == {
        "ASSAY": (99.6, 105.0, "pass", datetime(2026, 2, 12, 13, 5, tzinfo=UTC), "+01:00"),
        "DISS30": (88.0, None, "pass", datetime(2026, 2, 12, 14, 40, tzinfo=UTC), "+01:00"),
        "WATER": (1.9, 3.0, "pass", datetime(2026, 2, 12, 15, 10, tzinfo=UTC), "+01:00"),
    }
    assert rules == ["decimal_comma", "source_timezone:Europe/Amsterdam"]


def test_a_refused_document_exits_2_with_the_reason_and_the_refusal_is_on_record(
    db, frozen_clock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "faers-2026-02.json"
    bad.write_text('{"results": [{"safetyreportid": "1"', encoding="utf-8")

    result = run_cli(db, "ingest", "faers", str(bad))

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: faers-2026-02.json refused (IMP-2026-0001): not valid JSON: Expecting ',' "
        "delimiter at line 1 column 36"
    )
    with unit_of_work(db, write=False) as s:
        run = s.scalars(select(ImportRun)).one()
        assert (run.status, run.filename) == ("refused", "faers-2026-02.json")


def test_an_unknown_kind_of_source_exits_2_and_records_nothing(db, tmp_path: Path) -> None:
    # (a warehouse system once stood here: it became a real kind, "wms")
    file = tmp_path / "erp.csv"
    file.write_text("a,b\n1,2\n", encoding="utf-8")

    result = run_cli(db, "ingest", "erp", str(file))

    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown source kind 'erp'; one of: epcis, faers, gs1")
    assert count(db, ImportRun) == 0


@pytest.mark.postgres
def test_export_to_parquet_and_csv_gives_back_exactly_the_stored_rows(
    db, people, frozen_clock, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    assert run_cli(db, "ingest", "mes", str(SAMPLES / "mes_batch_records.csv")).exit_code == 0
    parquet, csv = tmp_path / "readings.parquet", tmp_path / "readings.csv"

    as_parquet = run_cli(
        db,
        "export",
        "process-readings",
        "--filter",
        "lot_number=T26-0101",
        "--filter",
        "measured_at_from=2026-02-10",
        "--format",
        "parquet",
        "--out",
        str(parquet),
    )
    as_csv = run_cli(
        db,
        "export",
        "process-readings",
        "--filter",
        "parameter=compression_force",
        "--out",
        str(csv),
    )

    assert as_parquet.exit_code == 0, as_parquet.output
    assert "4 process readings written to" in as_parquet.output
    with unit_of_work(db, write=False) as s:
        stored = sorted(
            (r.parameter, r.value, r.unit, r.measured_at, r.original_offset)
            for r in s.scalars(
                select(ProcessReading)
                .join(Lot, Lot.id == ProcessReading.batch_id)
                .where(Lot.lot_number == "T26-0101")
            )
        )
    frame = pl.read_parquet(parquet)
    assert frame.columns[:3] == ["id", "item_code", "lot_number"]
    assert (
        sorted(frame.select("parameter", "value", "unit", "measured_at", "original_offset").rows())
        == stored
    )
    assert set(frame["lot_number"]) == {"T26-0101"}
    assert as_csv.exit_code == 0, as_csv.output
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[1].split(",")[1:] == [
        "PARA500",
        "T26-0101",
        "Compression",
        "Main compression",
        "",
        "TP-02",
        "compression_force",
        "12.4",
        "kN",
        "2026-02-11T09:00:00+00:00",
        "+01:00",
        lines[1].split(",")[-1],
    ]
    assert lines[1].split(",")[-1].startswith("IMP-")


def test_export_refuses_an_unknown_filter_and_an_existing_file(db, tmp_path: Path) -> None:
    existing = tmp_path / "lots.csv"
    existing.write_text("keep me\n", encoding="utf-8")

    unknown = run_cli(
        db, "export", "lots", "--filter", "colour=red", "--out", str(tmp_path / "x.csv")
    )
    taken = run_cli(db, "export", "lots", "--out", str(existing))

    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: lots has no filter colour; its filters: ")
    assert taken.exit_code == 2
    assert existing.read_text(encoding="utf-8") == "keep me\n"


def test_a_mapping_that_names_unknown_fields_is_not_registered(db, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"columns": {"LOT": "batch_no"}, "sheet": 2}', encoding="utf-8")

    result = run_cli(
        db,
        "sources",
        "register",
        "lims-x",
        "--kind",
        "lims",
        "--name",
        "X",
        "--mapping",
        str(mapping),
    )

    assert result.exit_code == 2
    assert "unknown key(s) sheet" in result.stderr
    assert "columns map onto unknown field(s) batch_no" in result.stderr
    assert count(db, DataSource) == 0
