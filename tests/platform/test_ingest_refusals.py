"""Malformed deliveries are refused as a whole — recorded with the reason, nothing else stored —
never a crash (CLI traceback, HTTP 500) that leaves no trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.kernel.cli import run_cli
from tests.platform.company import count

from pharmaqms.kernel import auth
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import ImportRun, Lineage, QuarantinedRow
from pharmaqms.platform.timeseries.models import SensorReading
from pharmaqms.platform.timeseries.models import TestResult as QCResult

# One cell longer than the csv module's field limit (128 KiB).
HUGE_CELL_CSV = (
    b"sample_id,test_code,value\nS-1," + b"A" * (128 * 1024 + 10) + b",1.0\nS-2,ASSAY,2.0\n"
)
HUGE_CELL_REASON = "line 2: a cell is longer than 131,072 characters"
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_DICT_JSON = b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_REASON = "the JSON nests too deeply"


def _nothing_but_refused_runs(db) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    assert count(db, QCResult) == 0
    assert count(db, SensorReading) == 0
    assert count(db, QuarantinedRow) == 0
    assert count(db, Lineage) == 0
    with unit_of_work(db, write=False) as s:
        return [(r.status, r.refused_reason) for r in s.scalars(select(ImportRun))]


@pytest.mark.parametrize(
    ("kind", "content", "reason"),
    [
        ("lims", HUGE_CELL_CSV, HUGE_CELL_REASON),
        ("sensors", HUGE_CELL_CSV, HUGE_CELL_REASON),
        ("mes", HUGE_CELL_CSV, HUGE_CELL_REASON),
        ("lims", DEEP_JSON, DEEP_REASON),
        ("faers", DEEP_DICT_JSON, DEEP_REASON),
        ("sensors", DEEP_JSON, DEEP_REASON),
        ("mes", DEEP_DICT_JSON, DEEP_REASON),
        ("mes", DEEP_JSON, DEEP_REASON),
    ],
)
@pytest.mark.clause("annex11:5")
def test_a_document_the_readers_cannot_take_is_refused_with_the_reason(
    db, people, kind: str, content: bytes, reason: str
) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind=kind, content=content, filename="bad")
        outcome = (run.status, run.refused_reason, run.rows_total)

    assert outcome == ("refused", reason, 0)
    assert _nothing_but_refused_runs(db) == [("refused", reason)]


def test_the_cli_refuses_a_file_with_a_huge_cell_in_one_line_with_exit_2(
    db, tmp_path: Path
) -> None:
    file = tmp_path / "results.csv"
    file.write_bytes(HUGE_CELL_CSV)

    result = run_cli(db, "ingest", "lims", str(file))

    assert result.exit_code == 2
    assert result.stderr == f"error: results.csv refused (IMP-2026-0001): {HUGE_CELL_REASON}\n"
    assert _nothing_but_refused_runs(db) == [("refused", HUGE_CELL_REASON)]


def test_the_cli_refuses_a_directory_and_records_the_refusal(db, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()

    result = run_cli(db, "ingest", "lims", str(folder))

    assert result.exit_code == 2
    reason = "results is a directory, not a file"
    assert result.stderr == f"error: results refused (IMP-2026-0001): {reason}\n"
    assert _nothing_but_refused_runs(db) == [("refused", reason)]
    with unit_of_work(db, write=False) as s:
        run = s.scalars(select(ImportRun)).one()
        assert (run.kind, run.filename, run.size_bytes) == ("lims", "results", 0)


def test_the_cli_refuses_deeply_nested_json_with_exit_2(db, tmp_path: Path) -> None:
    file = tmp_path / "deep.json"
    file.write_bytes(DEEP_JSON)

    result = run_cli(db, "ingest", "lims", str(file))

    assert result.exit_code == 2
    assert result.stderr == f"error: deep.json refused (IMP-2026-0001): {DEEP_REASON}\n"
    assert _nothing_but_refused_runs(db) == [("refused", DEEP_REASON)]


@pytest.mark.parametrize(
    ("kind", "content", "reason"),
    [
        ("lims", HUGE_CELL_CSV, HUGE_CELL_REASON),
        ("sensors", HUGE_CELL_CSV, HUGE_CELL_REASON),
        ("lims", DEEP_JSON, DEEP_REASON),
    ],
)
@pytest.mark.clause("annex11:5")
def test_a_push_the_readers_cannot_take_answers_422_and_the_refusal_is_on_record(
    app, db, people, kind: str, content: bytes, reason: str
) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        user = auth.add_user(
            s,
            actor=people.admin,
            username="lims-bridge",
            full_name="LIMS bridge",
            roles=["integration"],
            service_account=True,
        )
        _token, raw = auth.create_api_token(s, actor=people.admin, user_id=user.id, name="push")
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["authorization"] = f"Bearer {raw}"

    response = client.post(f"/api/v1/data/ingest/{kind}", content=content)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"], problem["import_run"]) == (
        "document_refused",
        reason,
        "IMP-2026-0001",
    )
    assert _nothing_but_refused_runs(db) == [("refused", reason)]
