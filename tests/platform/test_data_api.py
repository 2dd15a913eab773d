from __future__ import annotations

import io
import json

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.platform.company import count, sample, set_up_company

from pharmaqms.kernel import auth
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest.models import ImportRun, QuarantinedRow
from pharmaqms.platform.timeseries.models import ProcessReading, SensorReading


def _service_account(db, people) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        user = auth.add_user(
            s,
            actor=people.admin,
            username="mes-bridge",
            full_name="MES bridge (line 1)",
            roles=["integration"],
            service_account=True,
        )
        _token, raw = auth.create_api_token(s, actor=people.admin, user_id=user.id, name="MES push")
    return {"authorization": f"Bearer {raw}"}


def _push(app, db, people) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.headers.update(_service_account(db, people))
    return client


@pytest.mark.postgres
def test_an_integration_pushes_a_document_with_its_bearer_token_and_gets_the_run_summary(
    app, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    client = _push(app, db, people)

    response = client.post(
        "/api/v1/data/ingest/mes?filename=line1-2026-02.csv",
        content=sample("mes_batch_records.csv"),
        headers={"content-type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("status", "source", "kind", "filename")} == {
        "status": "completed",
        "source": "mes-default",
        "kind": "mes",
        "filename": "line1-2026-02.csv",
    }
    counted = ("rows_total", "accepted", "corrected", "duplicate", "quarantined")
    assert [body[k] for k in counted] == [14, 8, 4, 0, 6]
    with unit_of_work(db, write=False) as s:
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.record_type == "import_run", AuditEntry.action == "create"
            )
        ).one()
        assert (entry.actor_username, entry.channel) == ("mes-bridge", "api")


def test_a_push_without_a_token_is_refused_and_records_nothing(app, db, people) -> None:  # type: ignore[no-untyped-def]
    response = TestClient(app).post(
        "/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv")
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "login_required"
    assert count(db, ImportRun) == 0


def test_a_person_without_the_right_to_deliver_is_refused(api, db, people) -> None:  # type: ignore[no-untyped-def]
    response = api("auditor").post("/api/v1/data/ingest/lims", content=b"item_code\nX\n")

    assert response.status_code == 403
    assert count(db, ImportRun) == 0


def test_a_document_that_cannot_be_read_answers_422_and_the_refusal_is_on_record(
    app, db, people
) -> None:  # type: ignore[no-untyped-def]
    client = _push(app, db, people)

    response = client.post("/api/v1/data/ingest/faers", content=b'{"results": [')

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"]) == (
        "document_refused",
        "not valid JSON: Expecting value at line 1 column 14",
    )
    with unit_of_work(db, write=False) as s:
        run = s.scalars(select(ImportRun)).one()
        assert (run.number, run.status, run.refused_reason) == (
            problem["import_run"],
            "refused",
            problem["detail"],
        )


def test_several_files_in_one_form_are_several_runs_and_loggers_upload_the_same_way(
    app, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))
    client = _push(app, db, people)
    logger = b"sensor,measured_at,temperature,unit\nLOG-0917,2026-03-01T10:00:00+01:00,41.0,F\n"

    scans = client.post(
        "/api/v1/data/ingest/gs1",
        files=[
            ("file", ("hs07.txt", sample("gs1_scans.txt"), "text/plain")),
            ("file", ("empty.txt", b"", "text/plain")),
        ],
    )
    loggers = client.post(
        "/api/v1/data/loggers/upload",
        files=[("file", ("LOG-0917.csv", logger, "text/csv"))],
    )

    assert scans.status_code == 200, scans.text
    assert [
        (r["filename"], r["status"], r["accepted"], r["quarantined"], r["refused_reason"])
        for r in scans.json()["runs"]
    ] == [
        ("hs07.txt", "completed", 5, 6, None),
        ("empty.txt", "refused", 0, 0, "the file is empty"),
    ]
    assert loggers.status_code == 200, loggers.text
    [run] = loggers.json()["runs"]
    assert (run["kind"], run["rows_total"], run["quarantined"]) == ("sensors", 1, 1)


def test_a_logger_upload_whose_only_file_is_unreadable_answers_422_and_is_on_record(
    app, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    client = _push(app, db, people)

    response = client.post(
        "/api/v1/data/loggers/upload",
        files=[("file", ("LOG-0917.csv", b"\xff\xfe\x00garbage", "text/csv"))],
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"], problem["import_run"]) == (
        "document_refused",
        "the file is not UTF-8 text (byte 0)",
        "IMP-2026-0001",
    )
    assert count(db, SensorReading) == 0
    assert count(db, QuarantinedRow) == 0
    with unit_of_work(db, write=False) as s:
        run = s.scalars(select(ImportRun)).one()
        assert (run.kind, run.status, run.filename) == ("sensors", "refused", "LOG-0917.csv")


def test_an_upload_whose_files_are_all_refused_answers_422_with_each_files_reason(
    app, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    client = _push(app, db, people)

    response = client.post(
        "/api/v1/data/loggers/upload",
        files=[
            ("file", ("LOG-0917.csv", b"", "text/csv")),
            ("file", ("LOG-0918.csv", b"\xff\xfe", "text/csv")),
        ],
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"]) == (
        "document_refused",
        "every file was refused: LOG-0917.csv: the file is empty; "
        "LOG-0918.csv: the file is not UTF-8 text (byte 0)",
    )
    assert [(r["number"], r["filename"], r["status"]) for r in problem["runs"]] == [
        ("IMP-2026-0001", "LOG-0917.csv", "refused"),
        ("IMP-2026-0002", "LOG-0918.csv", "refused"),
    ]
    assert count(db, SensorReading) == 0
    assert count(db, QuarantinedRow) == 0
    assert count(db, ImportRun, ImportRun.status == "refused") == count(db, ImportRun) == 2


def test_a_quarantined_row_is_fixed_and_replayed_through_the_api_and_the_fix_is_audited(
    api, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    supervisor = api("supervisor")
    supervisor.post("/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv"))
    listing = supervisor.get(
        "/api/v1/data/quarantine", params={"source": "mes-default", "status": "open"}
    ).json()
    [held] = [row for row in listing["items"] if row["position"] == "line 9"]
    detail = supervisor.get(f"/api/v1/data/quarantine/{held['id']}").json()
    assert detail["reasons"] == [
        {
            "field": "measured_at",
            "code": "no_time_zone",
            "message": "measured_at: '2026-02-11 10:15:00' has no UTC offset and the source "
            "declares no time zone",
        }
    ]
    assert detail["fields"][:3] == ["lot_number", "item_code", "unit_procedure"]
    readings, entries = count(db, ProcessReading), count(db, AuditEntry)

    still_bad = supervisor.post(
        f"/api/v1/data/quarantine/{held['id']}/replay",
        json={"values": {**detail["raw"], "measured_at": "11-02-2026 10:15"}, "reason": "typo"},
    )

    assert still_bad.status_code == 422
    assert still_bad.json()["reasons"] == [
        "measured_at: '11-02-2026 10:15' is not an ISO 8601 timestamp (e.g. "
        "2026-03-01T08:15:00+01:00)"
    ]
    assert (count(db, ProcessReading), count(db, AuditEntry)) == (readings, entries)
    assert supervisor.get(f"/api/v1/data/quarantine/{held['id']}").json()["status"] == "open"

    fixed = supervisor.post(
        f"/api/v1/data/quarantine/{held['id']}/replay",
        json={
            "values": {**detail["raw"], "measured_at": "2026-02-11T10:15:00+01:00"},
            "reason": "the tablet press logs local time (CET); checked against the batch record",
        },
    )

    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["accepted"], fixed.json()["status"]) == (1, "completed")
    assert count(db, ProcessReading) == readings + 1
    after = supervisor.get(f"/api/v1/data/quarantine/{held['id']}").json()
    assert (after["status"], after["replay_run"]) == ("replayed", fixed.json()["number"])
    with unit_of_work(db, write=False) as s:
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.record_type == "quarantined_row",
                AuditEntry.record_id == held["id"],
                AuditEntry.action == "replay",
            )
        ).one()
        assert (entry.actor_username, entry.reason) == (
            "supervisor",
            "the tablet press logs local time (CET); checked against the batch record",
        )
        assert json.loads(entry.changes)["status"] == ["open", "replayed"]


def test_a_quarantined_row_is_discarded_with_a_reason_and_kept(
    api, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    qc = api("supervisor")
    qc.post("/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv"))
    held = qc.get("/api/v1/data/quarantine", params={"entity": "batchh"}).json()["items"][0]

    without = qc.post(f"/api/v1/data/quarantine/{held['id']}/discard", json={"reason": ""})
    done = qc.post(
        f"/api/v1/data/quarantine/{held['id']}/discard",
        json={"reason": "test record typed by the MES vendor during the upgrade"},
    )

    assert without.status_code == 422
    assert done.status_code == 200
    assert done.json()["status"] == "discarded"
    assert count(db, QuarantinedRow) == 6


def test_entity_lists_filter_and_page_and_refuse_an_unknown_filter(
    api, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    reader = api("qa")
    api("supervisor").post("/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv"))

    page = reader.get(
        "/api/v1/data/process-readings",
        params={"lot_number": "T26-0101", "limit": 2, "offset": 1, "order": "parameter"},
    )
    period = reader.get(
        "/api/v1/data/process-readings",
        params={
            "measured_at_from": "2026-02-11T00:00:00Z",
            "measured_at_to": "2026-02-12",
        },
    )
    unknown = reader.get("/api/v1/data/process-readings", params={"colour": "red"})
    wrong = reader.get("/api/v1/data/lots", params={"expires_on_from": "31-01-2029"})

    assert page.status_code == 200
    assert (page.json()["total"], page.json()["limit"], page.json()["offset"]) == (4, 2, 1)
    assert [(r["parameter"], r["value"], r["unit"]) for r in page.json()["items"]] == [
        ("compression_force", 12.4, "kN"),
        ("inlet_air_temperature", 60.0, "°C"),
    ]
    assert [r["parameter"] for r in period.json()["items"]] == ["compression_force"]
    assert period.json()["items"][0]["measured_at"] == "2026-02-11T09:00:00+00:00"
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith(
        "process-readings has no filter colour; its filters:"
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == "filter expires_on_from: '31-01-2029' is not a date YYYY-MM-DD"


@pytest.mark.postgres
def test_an_api_export_to_parquet_and_csv_holds_exactly_the_listed_rows_and_is_audited(
    api, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    api("supervisor").post("/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv"))
    reader = api("qa")
    listed = reader.get(
        "/api/v1/data/process-readings", params={"lot_number": "T26-0101", "limit": 100}
    ).json()["items"]

    parquet = reader.get(
        "/api/v1/data/process-readings", params={"lot_number": "T26-0101", "format": "parquet"}
    )
    csv = reader.get(
        "/api/v1/data/process-readings", params={"lot_number": "T26-0101", "format": "csv"}
    )

    assert parquet.status_code == 200
    frame = pl.read_parquet(io.BytesIO(parquet.content))
    assert frame.schema["measured_at"] == pl.Datetime("us", "UTC")
    assert frame.schema["value"] == pl.Float64
    assert frame.select("parameter", "value", "unit").rows() == [
        (r["parameter"], r["value"], r["unit"]) for r in listed
    ]
    assert [t.isoformat() for t in frame["measured_at"]] == [
        r["measured_at"].replace("Z", "+00:00") for r in listed
    ]
    lines = csv.text.splitlines()
    assert lines[0] == (
        "id,item_code,lot_number,unit_procedure,operation,phase,equipment,parameter,value,unit,"
        "measured_at,original_offset,import_run"
    )
    assert len(lines) == 1 + len(listed) == 5
    assert lines[1].split(",")[7:11] == [
        "atomisation_pressure",
        "1.99948",
        "bar",
        "2026-02-10T07:05:00+00:00",
    ]
    with unit_of_work(db, write=False) as s:
        exports = [
            json.loads(e.changes)
            for e in s.scalars(
                # In the order they were written: PostgreSQL returns an unordered read in any.
                select(AuditEntry)
                .where(AuditEntry.action == "data_export")
                .order_by(AuditEntry.seq)
            )
        ]
    assert exports == [
        {
            "entity": "process-readings",
            "filters": {"lot_number": "T26-0101"},
            "format": "parquet",
            "rows": 4,
        },
        {
            "entity": "process-readings",
            "filters": {"lot_number": "T26-0101"},
            "format": "csv",
            "rows": 4,
        },
    ]


def test_data_quality_figures_of_a_source_come_from_its_deliveries(
    api, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    supervisor = api("supervisor")
    supervisor.post("/api/v1/data/ingest/mes", content=sample("mes_batch_records.csv"))
    supervisor.post("/api/v1/data/ingest/mes", content=b"")

    figures = supervisor.get(
        "/api/v1/data/sources/mes-default/quality",
        params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    ).json()

    assert {
        k: figures[k] for k in ("deliveries", "refused", "accepted", "quarantined", "rejected")
    } == {
        "deliveries": 2,
        "refused": 1,
        "accepted": 8,
        "quarantined": 6,
        "rejected": 7,
    }
    assert figures["validity"] == pytest.approx(8 / 14)
    # The median accepted row was measured 20 days 1 h 55 min before the delivery.
    assert figures["timeliness_median_seconds"] == 1_734_900.0
    # Required fields only: 58 in the 13 rows of known kinds (2 batches × 5, 9 process
    # readings × 4, 2 consumptions × 6); 2 unusable (a timestamp without offset, one in the
    # future). Optional fields left empty (phases, a running batch's end time) are no gap.
    assert figures["completeness"] == pytest.approx(56 / 58)
    assert figures["open_quarantine"] == 6


def test_a_source_with_a_mapping_that_names_unknown_fields_is_refused(api, db) -> None:  # type: ignore[no-untyped-def]
    admin = api("admin")

    refused = admin.post(
        "/api/v1/data/sources",
        json={
            "code": "lims-leiden",
            "name": "LabWare LIMS Leiden",
            "kind": "lims",
            "mapping": {"columns": {"SAMPLE": "sample_no"}, "timezone": "Europe/Leiden"},
        },
    )
    created = admin.post(
        "/api/v1/data/sources",
        json={
            "code": "lims-leiden",
            "name": "LabWare LIMS Leiden",
            "kind": "lims",
            "mapping": {"columns": {"SAMPLE": "sample_id"}, "timezone": "Europe/Amsterdam"},
        },
    )

    assert refused.status_code == 422
    assert refused.json()["reasons"][0] == (
        "timezone 'Europe/Leiden' is not an IANA time zone (Europe/Amsterdam)"
    )
    assert refused.json()["reasons"][1].startswith(
        "columns map onto unknown field(s) sample_no; fields: analyst, item_code"
    )
    assert created.status_code == 201
