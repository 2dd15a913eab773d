"""Issue 9 §4: each delivery below was lost whole, with a traceback (or an HTTP 500) and no
import run on record. Now the bad row is quarantined with a specific reason, the good rows are
taken and the run is recorded; a document that is no records at all is one recorded refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.kernel.cli import run_cli
from tests.platform.company import count, sample
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.models import ImportRun, Lineage, QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import SensorReading
from pharmaqms.platform.timeseries.models import TestResult as QCResult

LIMS_HEADER = "item_code,lot_number,sample_id,test_code,value,unit,tested_at\n"
GOOD_RESULT = "PARA500,L2026-001,S-1,ASSAY,99.2,%,2026-02-10T09:30:00+01:00\n"
SENSOR_HEADER = "sensor,measured_at,temperature,unit\n"
GOOD_READING = "T-100,2026-03-01T10:00:00+01:00,5.0,C\n"


def _lims_company(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        masterdata.add_product(
            s, actor=people.admin, gtin="08712345000011", code="PARA500", name="Paracetamol"
        )
        masterdata.add_lot(
            s,
            actor=people.qc,
            kind="finished",
            item_code="PARA500",
            lot_number="L2026-001",
            expires_on=date(2029, 1, 31),
        )


def _deliver(db, people, kind: str, content: bytes) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.qc, kind=kind, content=content, filename="f")
        s.flush()
        return {
            "status": run.status,
            "reason": run.refused_reason,
            "counts": (run.rows_total, run.rows_accepted, run.rows_duplicate, run.rows_quarantined),
            "held": {
                q.position: [r["code"] for r in q.reasons]
                for q in s.scalars(select(QuarantinedRow).where(QuarantinedRow.run_id == run.id))
            },
        }


def _chain_intact(db) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.intact, report.findings


@pytest.mark.postgres
@pytest.mark.parametrize("tested_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-01:00"])
def test_a_lims_result_timed_outside_the_utc_years_is_quarantined_and_the_rest_taken(
    db, people, frozen_clock, tested_at: str
) -> None:  # type: ignore[no-untyped-def]
    _lims_company(db, people)
    bad = f"PARA500,L2026-001,S-2,ASSAY,99.0,%,{tested_at}\n"

    run = _deliver(db, people, "lims", (LIMS_HEADER + GOOD_RESULT + bad).encode())

    assert run["status"] == "completed"
    assert run["counts"] == (2, 1, 0, 1)
    assert run["held"] == {"line 3": ["timestamp_out_of_range"]}
    assert count(db, QCResult) == 1
    _chain_intact(db)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("unit", "code"),
    [
        ("1/0", "unit_arithmetic"),
        ("(", "unit_syntax"),
        ("°C)", "unit_syntax"),
        ("mg/", "unit_syntax"),
        # pint would read "a=b" as barn·year: a unit text is a plain unit expression.
        ("a=b", "unit_syntax"),
    ],
)
def test_a_unit_that_is_no_unit_expression_quarantines_the_row_in_lims_and_sensors(
    db, people, frozen_clock, unit: str, code: str
) -> None:  # type: ignore[no-untyped-def]
    _lims_company(db, people)
    cold_chain(db, people.admin)
    quoted = '"' + unit.replace('"', '""') + '"'
    result = f"PARA500,L2026-001,S-2,ASSAY,99.0,{quoted},2026-02-10T09:30:00+01:00\n"
    reading = f"T-100,2026-03-01T10:05:00+01:00,5.0,{quoted}\n"

    lims = _deliver(db, people, "lims", (LIMS_HEADER + GOOD_RESULT + result).encode())
    sensors = _deliver(db, people, "sensors", (SENSOR_HEADER + GOOD_READING + reading).encode())

    assert (lims["status"], lims["counts"], lims["held"]) == (
        "completed",
        (2, 1, 0, 1),
        {"line 3": [code]},
    )
    assert (sensors["status"], sensors["counts"], sensors["held"]) == (
        "completed",
        (2, 1, 0, 1),
        {"line 3": [code]},
    )
    assert (count(db, QCResult), count(db, SensorReading)) == (1, 1)


def test_the_lims_push_and_the_logger_upload_quarantine_a_time_outside_utc_years(
    app, db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    """They answered 500 (OverflowError); now 200 with the row held."""
    _lims_company(db, people)
    cold_chain(db, people.admin)
    client = _service_client(app, db, people)
    bad_result = "PARA500,L2026-001,S-2,ASSAY,99.0,%,0001-01-01T00:00:00+14:00\n"
    bad_reading = "T-100,9999-12-31T23:59:59-01:00,5.0,C\n"

    pushed = client.post(
        "/api/v1/data/ingest/lims", content=(LIMS_HEADER + GOOD_RESULT + bad_result).encode()
    )
    uploaded = client.post(
        "/api/v1/data/loggers/upload",
        files=[("file", ("T-100.csv", SENSOR_HEADER + GOOD_READING + bad_reading, "text/csv"))],
    )

    assert pushed.status_code == 200, pushed.text
    assert (pushed.json()["accepted"], pushed.json()["quarantined"]) == (1, 1)
    assert uploaded.status_code == 200, uploaded.text
    [logger_run] = uploaded.json()["runs"]
    assert (logger_run["accepted"], logger_run["quarantined"]) == (1, 1)


def _service_client(app, db, people) -> TestClient:  # type: ignore[no-untyped-def]
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
    client = TestClient(app)
    client.headers.update({"authorization": f"Bearer {raw}"})
    return client


@pytest.mark.postgres
def test_a_negative_age_at_onset_in_a_faers_report_is_quarantined_not_stored(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(sample("faers_drug_events.json"))
    document["results"][0]["patient"]["patientonsetage"] = "-67"

    run = _deliver(db, people, "faers", json.dumps(document).encode())

    total = len(document["results"])
    assert run["status"] == "completed"
    assert run["counts"][0] == total
    assert run["counts"][3] >= 1
    assert run["held"]["record 0"] == ["below_range"]
    assert run["counts"][1] + run["counts"][2] + run["counts"][3] == total


JSON_SCALARS = [b'"just a string"', b"42", b"null", b"true", b'  "x"\n']


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["lims", "sensors", "mes", "faers", "epcis", "gs1", "wms"])
@pytest.mark.parametrize("content", JSON_SCALARS[:2])
def test_a_document_that_is_a_bare_json_value_is_one_recorded_refusal(
    db, people, kind: str, content: bytes
) -> None:  # type: ignore[no-untyped-def]
    """It was stored as a "completed" run of 0 rows (read as a CSV header): no records at all
    is a refusal, on record, with nothing else stored."""
    if kind == "gs1":
        # One scan per line: a line of text is a scan to read, quarantined with GS1's reason.
        run = _deliver(db, people, kind, content)
        assert (run["status"], run["counts"][0], run["counts"][3]) == ("completed", 1, 1)
        return

    run = _deliver(db, people, kind, content)

    assert run["status"] == "refused"
    assert run["reason"]
    assert run["counts"] == (0, 0, 0, 0)
    assert count(db, QuarantinedRow) == 0
    assert count(db, Lineage) == 0
    with unit_of_work(db, write=False) as s:
        assert [r.status for r in s.scalars(select(ImportRun))] == ["refused"]


@pytest.mark.parametrize("content", JSON_SCALARS)
def test_the_cli_refuses_a_bare_json_value_with_exit_2_and_one_line(
    db, tmp_path: Path, content: bytes
) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "results.json"
    file.write_bytes(content)

    result = run_cli(db, "ingest", "lims", str(file))

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "results.json refused (IMP-" in result.stderr
    assert "single JSON" in result.stderr
    assert count(db, QCResult) == 0


def test_the_push_api_refuses_a_bare_json_string_with_422_problem_json(app, db, people) -> None:  # type: ignore[no-untyped-def]
    client = _service_client(app, db, people)

    response = client.post("/api/v1/data/ingest/lims", content=b'"results"')

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the document is a single JSON str, not a list of records"
    with unit_of_work(db, write=False) as s:
        assert [r.status for r in s.scalars(select(ImportRun))] == ["refused"]


@pytest.mark.postgres
def test_a_row_holding_a_nul_character_is_quarantined_naming_the_field(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL can't store U+0000 in text; the row is held on both databases alike."""
    _lims_company(db, people)
    bad = "PARA500,L2026-001,S-2,ASSAY,99.0,%,2026-02-10T09:30:00+01:00\n".replace("S-2", "S-\x002")

    run = _deliver(db, people, "lims", (LIMS_HEADER + GOOD_RESULT + bad).encode())

    assert (run["status"], run["counts"]) == ("completed", (2, 1, 0, 1))
    assert run["held"] == {"line 3": ["nul_character"]}
    with unit_of_work(db, write=False) as s:
        held = s.scalars(select(QuarantinedRow)).one()
        assert held.raw["sample_id"] == "S-\x002"  # kept as sent (escaped in the JSON text)
        assert held.reasons[0]["field"] == "sample_id"
    _chain_intact(db)


@pytest.mark.postgres
def test_a_nul_in_a_json_key_is_quarantined_too(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    document = [
        {"sensor": "T-100", "measured_at": "2026-03-01T10:00:00+01:00", "temperature": 5.0},
        {"sensor": "T-100", "measured_at": "2026-03-01T10:01:00+01:00", "temp\x00": 5.0},
    ]

    run = _deliver(db, people, "sensors", json.dumps(document).encode())

    assert (run["status"], run["counts"]) == ("completed", (2, 1, 0, 1))
    assert run["held"] == {"record 1": ["nul_character"]}


@pytest.mark.postgres
def test_a_lot_number_a_gs1_barcode_cannot_carry_is_refused_on_every_lot_path(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        masterdata.add_product(
            s, actor=people.admin, gtin="08712345000011", code="PARA500", name="Paracetamol"
        )
    for lot_number in ("PB26-€1\x0f", "PB26 01", "A" * 21, "L\x00"):
        with pytest.raises(InvalidInput) as refused, unit_of_work(db) as s:
            masterdata.add_lot(
                s, actor=people.qc, kind="finished", item_code="PARA500", lot_number=lot_number
            )
        assert refused.value.field == "lot_number"
    assert count(db, Lot) == 0


def test_the_cli_checks_the_size_of_a_file_before_reading_it(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "big.csv"
    file.write_bytes(LIMS_HEADER.encode() + b"x" * 5000)

    result = run_cli(db, "ingest", "lims", str(file), env={"PHARMAQMS_MAX_UPLOAD_BYTES": "2048"})

    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "big.csv is 5,062 bytes; the limit is 2,048 (PHARMAQMS_MAX_UPLOAD_BYTES)" in (
        result.stderr
    )
    with unit_of_work(db, write=False) as s:
        run = s.scalars(select(ImportRun)).one()
        assert (run.status, run.size_bytes) == ("refused", 0)


class _Probe:
    """A minimal connector whose store writes a sealed row and then may fail: a reader's bug
    ("boom") or a value the database can't hold (an integer beyond bigint)."""

    kind = "probe"

    def __init__(self) -> None:
        self.specs = {
            "probe": EntitySpec(
                "probe",
                (FieldSpec("name", max_length=40), FieldSpec("size", "int", required=False)),
                natural_key=("name",),
            )
        }

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        for number, line in enumerate(content.decode().split("\n"), 1):
            if line:
                name, _, size = line.partition(",")
                yield SourceRow("probe", f"line {number}", {"name": name, "size": size or None})

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        v = checked.values
        row = Lineage(
            run_id=ctx.run_id,
            entity="probe",
            entity_id=v["size"] or 0,
            field="name",
            original=v["name"],
            corrected=None,
            rule="probe",
        )
        ctx.session.add(row)
        ctx.session.flush()
        if v["name"] == "boom":
            raise RuntimeError("the connector's own bug")
        return Stored(entity_id=row.id)


@pytest.fixture
def probe() -> Iterator[None]:
    ingest.register_connector(_Probe())
    yield
    ingest.CONNECTORS.pop("probe")


@pytest.mark.postgres
def test_a_row_that_breaks_its_store_or_the_database_is_rolled_back_alone(
    db, people, probe, backend: str
) -> None:  # type: ignore[no-untyped-def]
    """Each row is stored in a savepoint: the rows that fail leave no sealed row and no audit
    entry behind, are quarantined with the reason, and the chain still verifies."""
    content = b"first,1\nboom,2\nhuge,18446744073709551616\nlast,3\n"

    run = _deliver(db, people, "probe", content)

    assert (run["status"], run["counts"]) == ("completed", (4, 2, 0, 2))
    assert run["held"]["line 2"] == ["unreadable_row"]
    # PostgreSQL refuses the integer (bigint); SQLite's driver can't even bind it.
    assert run["held"]["line 3"] == (
        ["storage_refused"] if backend == "postgresql" else ["unreadable_row"]
    )
    with unit_of_work(db, write=False) as s:
        assert sorted(s.scalars(select(Lineage.original))) == ["first", "last"]
    _chain_intact(db)


@pytest.mark.postgres
@pytest.mark.parametrize("event_time", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-01:00"])
def test_an_epcis_event_timed_outside_the_utc_years_is_quarantined_not_the_document(
    db, people, frozen_clock, event_time: str
) -> None:  # type: ignore[no-untyped-def]
    def event(at: str, serial: str) -> dict[str, Any]:
        return {
            "type": "ObjectEvent",
            "eventTime": at,
            "eventTimeZoneOffset": "+01:00",
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "epcList": [f"https://id.gs1.org/01/09506000134352/21/{serial}"],
        }

    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-02-01T10:00:00Z",
        "epcisBody": {
            "eventList": [event("2026-02-01T08:00:00+01:00", "S1"), event(event_time, "S2")]
        },
    }

    run = _deliver(db, people, "epcis", json.dumps(document).encode())

    assert (run["status"], run["counts"]) == ("completed", (2, 1, 0, 1))
    assert list(run["held"]) == ["event 1"]


def test_a_failing_row_in_a_later_chunk_leaves_the_earlier_chunks_and_its_neighbours(
    db, people, probe
) -> None:  # type: ignore[no-untyped-def]
    """Rows go in chunks of ``CHUNK_ROWS`` per savepoint; a chunk with a failing row is taken
    again row by row. Every row is counted once, whichever chunk it was in."""
    names = [f"row{n}" for n in range(ingest.CHUNK_ROWS + 50)]
    names[ingest.CHUNK_ROWS + 20] = "boom"
    content = "".join(f"{name},{n}\n" for n, name in enumerate(names)).encode()

    run = _deliver(db, people, "probe", content)

    total = len(names)
    assert (run["status"], run["counts"]) == ("completed", (total, total - 1, 0, 1))
    assert run["held"] == {f"line {ingest.CHUNK_ROWS + 21}": ["unreadable_row"]}
    assert count(db, Lineage) == total - 1
    _chain_intact(db)


@pytest.mark.postgres
def test_a_replay_that_still_holds_a_nul_is_refused_and_changes_nothing(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _lims_company(db, people)
    bad = "PARA500,L2026-001,S-\x002,ASSAY,99.0,%,2026-02-10T09:30:00+01:00\n"
    _deliver(db, people, "lims", (LIMS_HEADER + bad).encode())
    with unit_of_work(db, write=False) as s:
        held = s.scalars(select(QuarantinedRow)).one()
        row_id, values = held.id, dict(held.raw)
    runs = count(db, ImportRun)

    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as s:
        ingest.replay(s, actor=people.qc, row_id=row_id, corrected=values, reason="typo")

    assert refused.value.field == "sample_id"
    assert (count(db, ImportRun), count(db, QCResult)) == (runs, 0)
    with unit_of_work(db) as s:
        fixed = {**values, "sample_id": "S-2"}
        ingest.replay(s, actor=people.qc, row_id=row_id, corrected=fixed, reason="NUL removed")
    assert count(db, QCResult) == 1


@pytest.mark.postgres
def test_a_nul_in_an_mes_record_type_is_quarantined_on_postgresql_too(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    """The record type becomes the quarantined row's entity, a text column."""
    content = json.dumps([{"record_type": "bat\x00ch", "lot_number": "T26-0101"}]).encode()

    run = _deliver(db, people, "mes", content)

    assert (run["status"], run["counts"]) == ("completed", (1, 0, 0, 1))
    assert run["held"] == {"record 0": ["unknown_entity"]}
