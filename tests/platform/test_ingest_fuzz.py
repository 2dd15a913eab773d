"""Issue 9 §4: whatever a delivery holds, ingest never crashes and never loses a row.

Per connector, hypothesis writes deliveries from rows that mix good values with the values
that broke ingest before (units "1/0", "mg/", timestamps beyond the UTC years, NUL, integers
beyond bigint, Unicode line separators, huge and non-finite numbers…) and asserts: no exception
escapes ``ingest`` or the MQTT batch store, the run is recorded, and every row is accounted for
— rows in = accepted + duplicate + quarantined (corrected rows are a subset of the accepted),
with one quarantine record per quarantined row. The examples share one database per test, so
later examples also meet the rows earlier ones stored (duplicates, conflicts)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.platform.company import sample, set_up_company
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import ImportRun, QuarantinedRow
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.mqtt.batch import ensure_source, store_batch
from pharmaqms.platform.mqtt_messages import Message

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# What broke ingest before, and what lies at the edges of each kind of value.
EDGES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u2028",
    "\x85",
    "\x1c",
    "\ufeff",
    "1/0",
    "(",
    "°C)",
    "mg/",
    "a=b",
    "kg**99999999",
    "NaN",
    "inf",
    "-1e309",
    "1e308",
    "18446744073709551616",
    "-9223372036854775809",
    "99,5",
    "1,000.5",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01",
    "2026-03-01T10:00:00",
    "2026-03-31T02:30:00",
    "2026-02-30",
    "x" * 300,
    "PB26-€1\x0f",
    "'; DROP TABLE import_runs; --",
]
# The edges of a field's own kind, tried more often on that field.
TIME_EDGES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "2026-03-29T02:30:00",
    "2026-13-01T00:00:00Z",
    "2099-01-01T00:00:00Z",
]
NUMBER_EDGES = ["NaN", "inf", "-1e309", "1e308", "18446744073709551616", "-0", "99,5", "1,000.5"]
UNIT_EDGES = ["1/0", "(", "°C)", "mg/", "a=b", "kg**99999999", "F", "K", "bar", "furlong", "%"]
TEXT_EDGES = ["\x00", "a\x00b", "\u2028", "x" * 300, "PB26-€1\x0f", " "]


def _edges(name: str, good: Any) -> list[str]:
    text = str(good)
    if name in ("unit", "humidity_unit"):
        return UNIT_EDGES
    if len(text) >= 19 and text[4] == "-" and "T" in text:
        return TIME_EDGES
    try:
        float(text)
    except ValueError:
        return TEXT_EDGES
    return NUMBER_EDGES


NASTY_TEXT = st.one_of(st.sampled_from(EDGES), st.text(max_size=24))
NASTY = st.one_of(
    NASTY_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _row(good: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A good row with up to three changes: a field set to an edge or to anything, a field
    left out, an unknown field added. Unchanged rows reach the store (and the database)."""

    @st.composite
    def row(draw: st.DrawFn) -> dict[str, Any]:
        values = dict(good)
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.sampled_from(sorted(good)))
            change = draw(st.sampled_from(["own", "own", "own", "edge", "any", "drop", "unknown"]))
            if change == "own":
                values[name] = draw(st.sampled_from(_edges(name, good[name])))
            elif change == "edge":
                values[name] = draw(st.sampled_from(EDGES))
            elif change == "any":
                values[name] = draw(NASTY)
            elif change == "drop":
                values.pop(name, None)
            else:
                values[draw(st.sampled_from(["zz", "\x00k", "x" * 70]))] = draw(NASTY)
        return values

    return row()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"'


def _document(rows: list[dict[str, Any]], as_json: bool) -> bytes:
    if as_json:
        return json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass")
    header = sorted({k for row in rows for k in row}) or ["empty"]
    lines = [",".join(_cell(h) for h in header)]
    lines += [",".join(_cell(row.get(h)) for h in header) for row in rows]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _documents(good: dict[str, Any]) -> st.SearchStrategy[bytes]:
    return st.builds(_document, st.lists(_row(good), min_size=1, max_size=6), st.booleans())


def accounted(db: Database, actor: Any, kind: str, content: bytes) -> int:
    """Deliver; nothing escapes, and every row is accounted for. Returns the rows taken."""
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=actor, kind=kind, content=content, filename="fuzz")
        s.flush()
        run_id, taken = run.id, run.rows_accepted
    _check_run(db, run_id)
    return taken


def _check_run(db: Database, run_id: int) -> None:
    with unit_of_work(db, write=False) as s:
        run = s.get(ImportRun, run_id)
        assert run is not None
        held = s.scalar(
            select(func.count()).select_from(QuarantinedRow).where(QuarantinedRow.run_id == run_id)
        )
        counts = (run.rows_accepted, run.rows_duplicate, run.rows_quarantined)
        if run.status == "refused":
            assert run.refused_reason
            assert (run.rows_total, *counts, held) == (0, 0, 0, 0, 0)
            return
        assert run.status == "completed"
        assert run.rows_total == sum(counts), (run.rows_total, counts)
        assert run.rows_corrected <= run.rows_accepted
        assert held == run.rows_quarantined


LIMS_GOOD = {
    "item_code": "PARA500",
    "lot_number": "T26-0101",
    "sample_id": "S-1",
    "test_code": "ASSAY",
    "value": "99.5",
    "unit": "%",
    "spec_min": "95",
    "spec_max": "105",
    "tested_at": "2026-02-10T09:30:00+01:00",
}
SENSOR_GOOD = {
    "sensor": "T-100",
    "measured_at": "2026-03-01T10:00:00+01:00",
    "temperature": "5.0",
    "unit": "C",
    "humidity": "40",
    "place": "CR-1",
    "seq": "7",
}
MES_GOOD = {
    "batch": {
        "item_code": "PARA500",
        "lot_number": "T26-0150",
        "quantity": "120",
        "unit": "kg",
        "manufactured_on": "2026-02-09",
    },
    "process_reading": {
        "item_code": "PARA500",
        "lot_number": "T26-0101",
        "parameter": "inlet_temperature",
        "value": "61.5",
        "unit": "C",
        "measured_at": "2026-02-10T09:30:00+01:00",
    },
    "material_consumption": {
        "item_code": "PARA500",
        "lot_number": "T26-0101",
        "material_code": "API-PARA",
        "material_lot": "GIL-2511-07",
        "quantity": "12.5",
        "unit": "kg",
        "consumed_at": "2026-02-10T08:00:00+01:00",
    },
}


@pytest.mark.postgres
def test_lims_deliveries_never_crash_and_lose_no_row(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))

    @FUZZ
    @given(_documents(LIMS_GOOD))
    def deliver(content: bytes) -> None:
        taken.append(accounted(db, people.qc, "lims", content))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


def test_sensor_logger_files_never_crash_and_lose_no_row(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)

    @FUZZ
    @given(_documents(SENSOR_GOOD))
    def deliver(content: bytes) -> None:
        taken.append(accounted(db, people.qc, "sensors", content))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


@pytest.mark.postgres
def test_mes_batch_records_never_crash_and_lose_no_row(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101",))
    kinds = st.sampled_from(sorted(MES_GOOD))

    @FUZZ
    @given(
        st.lists(
            kinds.flatmap(lambda k: _row({"record_type": k, **MES_GOOD[k]})),
            min_size=1,
            max_size=6,
        ),
        st.booleans(),
    )
    def deliver(rows: list[dict[str, Any]], as_json: bool) -> None:
        taken.append(accounted(db, people.supervisor, "mes", _document(rows, as_json)))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


FAERS_REPORTS = json.loads(sample("faers_drug_events.json"))["results"]
PATIENT_KEYS = ["patientonsetage", "patientweight", "reaction", "drug", "patientsex"]


@pytest.mark.postgres
def test_faers_feeds_never_crash_and_lose_no_report(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    report_keys = sorted({k for r in FAERS_REPORTS for k in r})

    @st.composite
    def report(draw: st.DrawFn) -> dict[str, Any]:
        chosen = json.loads(json.dumps(draw(st.sampled_from(FAERS_REPORTS))))
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):
                chosen[draw(st.sampled_from(report_keys))] = draw(NASTY)
            elif isinstance(chosen.get("patient"), dict):
                chosen["patient"][draw(st.sampled_from(PATIENT_KEYS))] = draw(NASTY)
        chosen["safetyreportid"] = draw(st.one_of(st.sampled_from(["1", "2", "3"]), NASTY))
        return chosen

    @FUZZ
    @given(st.lists(report(), min_size=1, max_size=5))
    def deliver(reports: list[dict[str, Any]]) -> None:
        content = json.dumps({"meta": {}, "results": reports}, ensure_ascii=False)
        taken.append(accounted(db, people.qc, "faers", content.encode("utf-8", "surrogatepass")))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


EPC = "https://id.gs1.org/01/09506000134352/21/S1"


def test_epcis_documents_never_crash_and_lose_no_event(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    good = {
        "type": "ObjectEvent",
        "eventTime": "2026-02-01T08:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "epcList": [EPC],
        "eventID": "urn:uuid:1",
    }
    event = st.one_of(_row(good), NASTY)

    @FUZZ
    @given(st.lists(event, min_size=1, max_size=5))
    def deliver(events: list[Any]) -> None:
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-02-01T10:00:00Z",
            "epcisBody": {"eventList": events},
        }
        content = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
        taken.append(accounted(db, people.logistics, "epcis", content))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


def test_gs1_scans_never_crash_and_lose_no_scan(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people, batches=("T26-0101", "T26-0102"))
    good = [line for line in sample("gs1_scans.txt").decode().split("\n") if line]
    line = st.one_of(st.sampled_from(good), NASTY_TEXT, st.sampled_from(good).map(lambda g: g[:-3]))

    @FUZZ
    @given(st.lists(line, min_size=1, max_size=8))
    def deliver(lines: list[str]) -> None:
        content = "\n".join(lines).encode("utf-8", "surrogatepass")
        taken.append(accounted(db, people.logistics, "gs1", content))

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


@pytest.mark.postgres
def test_mqtt_batches_never_crash_and_lose_no_message(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    cold_chain(db, people.admin)
    with unit_of_work(db, write=False) as s:
        actor = auth.system_actor(s, Channel.MQTT)
    ensure_source(db, actor, "sensors-mqtt")
    payload_good = {"ts": "2026-03-01T10:00:00+01:00", "temperature": 5.0, "unit": "C", "seq": 1}
    topics = st.one_of(
        st.sampled_from(["pharmaqms/LEI/CR-1/T-100/reading", "pharmaqms/LEI/SHP-1/LOG-7/reading"]),
        NASTY_TEXT,
    )
    payloads = st.one_of(
        _row(payload_good).map(
            lambda p: json.dumps(p, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
        st.binary(max_size=40),
        NASTY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    )

    @FUZZ
    @given(st.lists(st.builds(Message, topics, payloads), min_size=1, max_size=6))
    def deliver(messages: list[Message]) -> None:
        outcome = store_batch(db, actor, "sensors-mqtt", messages, acknowledge=lambda: None)
        taken.append(outcome.accepted)
        assert outcome.messages == len(messages)
        assert outcome.accepted + outcome.duplicate + outcome.quarantined == len(messages)
        with unit_of_work(db, write=False) as s:
            run_id = s.scalar(select(ImportRun.id).where(ImportRun.number == outcome.run_number))
        assert run_id is not None
        _check_run(db, run_id)

    taken: list[int] = []
    deliver()
    # The good rows among the fuzz were taken, not only refused or quarantined.
    assert sum(taken) > 0


def test_the_lot_rule_holds_for_any_text(db, people) -> None:  # type: ignore[no-untyped-def]
    """Whatever text is offered as a lot number, add_lot either registers a lot a GS1 barcode
    can carry or refuses it with InvalidInput — never a database error."""
    set_up_company(db, people)
    import re

    from pharmaqms.kernel.errors import InvalidInput
    from pharmaqms.platform.gs1 import GS1_LOT

    @FUZZ
    @given(st.one_of(NASTY_TEXT, st.from_regex(GS1_LOT, fullmatch=True)))
    def register(lot_number: str) -> None:
        try:
            with unit_of_work(db) as s:
                lot = masterdata.add_lot(
                    s, actor=people.qc, kind="finished", item_code="PARA500", lot_number=lot_number
                )
                stored = lot.lot_number
        except InvalidInput as refused:
            assert refused.field in ("lot_number", None)
            return
        except Exception as err:  # a Conflict: the same lot again
            assert type(err).__name__ == "Conflict"
            return
        assert re.fullmatch(GS1_LOT, stored)

    register()


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.builds(
            Message,
            st.text(max_size=40),
            st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)),
            st.one_of(st.none(), st.text(max_size=20)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_every_mqtt_message_becomes_exactly_one_row_whatever_it_holds(
    messages: list[Message],
) -> None:
    """The worker's envelope: any topic, any payload bytes (U+2028, U+0085, invalid UTF-8…),
    a failure note or none — one row per message, in order, never a refused batch."""
    from pharmaqms.platform.mqtt_messages import decode_batch, encode_batch

    rows = list(decode_batch(encode_batch(messages)))

    assert [position for position, _ in rows] == [
        f"message {n}" for n in range(1, len(messages) + 1)
    ]
