from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.platform.company import count, sample, set_up_company

from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import ImportRun, Lineage, QuarantinedRow
from pharmaqms.platform.masterdata.models import Lot, MaterialConsumption
from pharmaqms.platform.timeseries.arrivals import (
    ArrivedReading,
    add_reading_listener,
    remove_reading_listener,
)
from pharmaqms.platform.timeseries.models import ProcessReading


def _run(db, people, content: bytes, source_code: str | None = None) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        run = ingest.ingest(
            s,
            actor=people.supervisor,
            kind="mes",
            content=content,
            filename="mes.csv",
            source_code=source_code,
        )
        return (
            run.rows_total,
            run.rows_accepted,
            run.rows_corrected,
            run.rows_duplicate,
            run.rows_quarantined,
        )


def _reasons(db) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return {
            q.position: [r["code"] for r in q.reasons]
            for q in s.scalars(select(QuarantinedRow).order_by(QuarantinedRow.id))
        }


@pytest.mark.postgres
def test_a_mixed_batch_record_file_is_taken_with_units_normalised_and_bad_rows_quarantined(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)

    counts = _run(db, people, sample("mes_batch_records.csv"))

    assert counts == (14, 8, 4, 0, 6)
    assert _reasons(db) == {
        "line 8": ["bad_unit"],
        "line 9": ["no_time_zone"],
        "line 10": ["in_the_future"],
        "line 11": ["unknown_batch"],
        "line 13": ["unknown_material_lot"],
        "line 14": ["unknown_entity"],
    }
    with unit_of_work(db, write=False) as s:
        batches = {
            lot.lot_number: (lot.status, lot.quantity, lot.unit, lot.manufacturing_ended_at)
            for lot in s.scalars(select(Lot).where(Lot.item_code == "PARA500"))
        }
        readings = {
            (r.parameter, r.batch_id): (r.value, r.unit, r.original_offset)
            for r in s.scalars(select(ProcessReading))
        }
        lot_ids = {lot.lot_number: lot.id for lot in s.scalars(select(Lot))}
        lineage = sorted(
            (row.field, row.original, row.corrected, row.rule) for row in s.scalars(select(Lineage))
        )
        [consumption] = s.scalars(select(MaterialConsumption)).all()
        consumed = (consumption.quantity, consumption.unit, consumption.step)
    assert batches == {
        # It consumed API lot GIL-2511-07 still in quarantine: held as the import reads it.
        "T26-0101": (
            "on_hold",
            250000.0,
            "tablets",
            datetime(2026, 2, 11, 15, 30, tzinfo=UTC),
        ),
        "T26-0102": ("quarantine", 248000.0, "tablets", None),
    }
    t1, t2 = lot_ids["T26-0101"], lot_ids["T26-0102"]
    assert readings == {
        ("product_temperature", t2): (36.2, "°C", "+01:00"),
        ("inlet_air_temperature", t1): (60.0, "°C", "+01:00"),
        ("product_temperature", t1): (38.5, "°C", "+01:00"),
        ("atomisation_pressure", t1): (1.99948, "bar", "+01:00"),
        ("compression_force", t1): (12.4, "kN", "+01:00"),
    }
    assert consumed == (125.0, "kg", "Dispensing")
    assert lineage == [
        ("value", "125000.0 g", "125.0 kg", "unit:gram→kilogram"),
        ("value", "140.0 °F", "60.0 °C", "unit:degF→degC"),
        ("value", "29.0 psi", "1.99948 bar", "unit:psi→bar"),
        ("value", "38,5", "38.5", "decimal_comma"),
    ]


def test_re_importing_the_same_batch_records_changes_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _run(db, people, sample("mes_batch_records.csv"))
    before = (count(db, ProcessReading), count(db, Lot), count(db, MaterialConsumption))
    lineage = count(db, Lineage)
    quarantined = count(db, QuarantinedRow)

    again = _run(db, people, sample("mes_batch_records.csv"))

    # Rows already stored and rows already waiting in the quarantine are both duplicates.
    assert again == (14, 0, 0, 14, 0)
    assert count(db, QuarantinedRow) == quarantined == 6
    assert (count(db, ProcessReading), count(db, Lot), count(db, MaterialConsumption)) == before
    assert count(db, Lineage) == lineage


@pytest.mark.postgres
def test_a_reading_delivered_again_with_another_value_is_quarantined_and_the_stored_one_kept(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _run(db, people, sample("mes_batch_records.csv"))
    header = sample("mes_batch_records.csv").splitlines()[0]
    same_again = (
        "process_reading,PARA500,T26-0101,,kN,,,,Compression,Main compression,,TP-02,"
        "compression_force,12.4,2026-02-11T10:00:00+01:00,,,,"
    )
    other_value = same_again.replace(",12.4,", ",12.9,").encode()
    new_instant = same_again.replace("T10:00:00", "T10:30:00").encode()
    stored = count(db, ProcessReading)
    quarantined = count(db, QuarantinedRow)

    again = _run(db, people, b"\n".join([header, same_again.encode(), new_instant]))
    # Another delivery: within one, the ingest service itself compares rows of the same key.
    changed = _run(db, people, b"\n".join([header, other_value]))

    # The same reading again is a duplicate, a new instant is stored; another value for a
    # stored instant is a conflict a person must look at, and the stored value stays.
    assert again == (2, 1, 0, 1, 0)
    assert changed == (1, 0, 0, 0, 1)
    assert count(db, ProcessReading) == stored + 1
    assert count(db, QuarantinedRow) == quarantined + 1
    with unit_of_work(db, write=False) as s:
        [reasons] = [
            q.reasons
            for q in s.scalars(select(QuarantinedRow).order_by(QuarantinedRow.id.desc()).limit(1))
        ]
        forces = sorted(
            (r.measured_at, r.value)
            for r in s.scalars(
                select(ProcessReading).where(ProcessReading.parameter == "compression_force")
            )
        )
    assert [r["code"] for r in reasons] == ["conflicting_value"]
    assert "is stored as 12.4 kN, not 12.9 kN" in reasons[0]["message"]
    assert forces == [
        (datetime(2026, 2, 11, 9, 0, tzinfo=UTC), 12.4),
        (datetime(2026, 2, 11, 9, 30, tzinfo=UTC), 12.4),
    ]


def test_declared_parameter_units_convert_and_a_quantity_of_another_kind_is_quarantined(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    with unit_of_work(db) as s:
        ingest.register_source(
            s,
            actor=people.admin,
            code="mes-fill-line",
            name="Fill line 3 MES",
            kind="mes",
            mapping={"parameters": {"room_temperature": "°C", "chamber_pressure": "mbar"}},
        )

    counts = _run(db, people, sample("mes_lyophilisation.json"), source_code="mes-fill-line")

    assert counts == (6, 4, 2, 0, 2)
    with unit_of_work(db, write=False) as s:
        reasons = {
            q.position: [r["message"] for r in q.reasons] for q in s.scalars(select(QuarantinedRow))
        }
        values = sorted((r.parameter, r.value, r.unit) for r in s.scalars(select(ProcessReading)))
    assert reasons == {
        "process_reading[3]": ["unknown column(s): comment"],
        "process_reading[4]": [
            "room_temperature: 'bar' can't be converted to '°C': a different kind of quantity"
        ],
    }
    assert values == [
        ("bulk_temperature", 5.1, "°C"),
        ("bulk_temperature", 5.3, "°C"),
        ("chamber_pressure", 1013.0, "mbar"),
    ]


def test_a_batch_is_completed_when_its_end_time_arrives_and_the_change_is_audited(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _run(db, people, sample("mes_batch_records.csv"))
    ended = (
        b"record_type,item_code,lot_number,quantity,unit,manufactured_on,manufacturing_ended_at\n"
        b"batch,PARA500,T26-0102,248000,tablets,2026-02-20,2026-02-21T18:00:00+01:00\n"
    )

    assert _run(db, people, ended) == (1, 1, 0, 0, 0)

    with unit_of_work(db, write=False) as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == "T26-0102")).one()
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.record_type == "lot", AuditEntry.record_id == lot.id)
            .order_by(AuditEntry.seq.desc())
        ).first()
        run_number = s.scalars(select(ImportRun.number).order_by(ImportRun.id.desc())).first()
        assert lot.manufacturing_ended_at == datetime(2026, 2, 21, 17, 0, tzinfo=UTC)
        assert entry is not None
        assert entry.actor_username == "supervisor"
        assert entry.reason == f"batch record completed by delivery {run_number}"


def test_a_re_delivered_batch_that_contradicts_the_lot_is_quarantined_and_changes_nothing(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _run(db, people, sample("mes_batch_records.csv"))
    other = (
        b"record_type,item_code,lot_number,quantity,unit,manufactured_on\n"
        b"batch,PARA500,T26-0101,260000,tablets,2026-02-10\n"
    )

    assert _run(db, people, other) == (1, 0, 0, 0, 1)

    with unit_of_work(db, write=False) as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == "T26-0101")).one()
        [latest] = s.scalars(
            select(QuarantinedRow).order_by(QuarantinedRow.id.desc()).limit(1)
        ).all()
        assert lot.quantity == 250000.0
        assert latest.reasons == [
            {
                "field": "lot_number",
                "code": "contradicts_batch",
                "message": "batch PARA500/T26-0101 is registered with quantity 250000.0 "
                "(delivered: 260000.0)",
            }
        ]


def test_a_quarantined_reading_with_a_wrong_unit_is_corrected_and_replayed(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    _run(db, people, sample("mes_batch_records.csv"))
    with unit_of_work(db, write=False) as s:
        row = s.scalars(select(QuarantinedRow).where(QuarantinedRow.position == "line 8")).one()
        row_id, raw = row.id, dict(row.raw)

    with unit_of_work(db) as s:
        ingest.replay(
            s,
            actor=people.supervisor,
            row_id=row_id,
            corrected={**raw, "unit": "N"},
            reason="the tester reports in newton; Kp was a template error",
        )

    with unit_of_work(db, write=False) as s:
        reading = s.scalars(
            select(ProcessReading).where(ProcessReading.parameter == "tablet_hardness")
        ).one()
        assert (reading.value, reading.unit) == (95.0, "N")
        assert s.get(QuarantinedRow, row_id).status == "replayed"  # type: ignore[union-attr]


def test_a_json_record_without_record_type_is_quarantined_with_that_reason(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    content = b'{"records": [{"item_code": "PARA500", "lot_number": "T26-0201"}]}'

    assert _run(db, people, content) == (1, 0, 0, 0, 1)

    with unit_of_work(db, write=False) as s:
        [row] = s.scalars(select(QuarantinedRow)).all()
        assert row.entity == "(no record_type)"
        assert row.reasons[0]["message"] == "this source does not deliver '(no record_type)'"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b'{"batch": [], "oven": []}',
            "unknown section(s) oven: an MES document holds batch, "
            "process_reading, material_consumption",
        ),
        (b'{"batch": {"lot_number": "x"}}', "the section 'batch' is not a list of records"),
        (b'{"batch": [', "not valid JSON: Expecting value at line 1 column 12"),
    ],
)
def test_an_mes_document_that_cannot_be_read_is_refused_with_the_reason(
    db, people, content: bytes, reason: str
) -> None:
    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.supervisor, kind="mes", content=content)
        assert (run.status, run.refused_reason) == ("refused", reason)
    assert count(db, ImportRun, ImportRun.status == "refused") == 1


def test_expiry_before_manufacture_is_a_specific_reason(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    content = (
        b"record_type,item_code,lot_number,quantity,unit,manufactured_on,expires_on\n"
        b"batch,PARA500,T26-0301,1000,tablets,2026-02-10,2026-01-31\n"
    )
    _run(db, people, content)
    assert _reasons(db) == {"line 2": ["expires_before_made"]}
    assert count(db, Lot, Lot.lot_number == "T26-0301") == 0


def test_stored_readings_reach_the_reading_listeners_once_the_delivery_is_committed(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    set_up_company(db, people)
    heard: list[tuple[str, float, str]] = []

    def listener(readings: Sequence[ArrivedReading]) -> None:
        heard.extend((r.parameter, r.value, r.unit) for r in readings)

    add_reading_listener(listener)
    try:
        with pytest.raises(RuntimeError), unit_of_work(db) as s:
            ingest.ingest(
                s, actor=people.supervisor, kind="mes", content=sample("mes_batch_records.csv")
            )
            raise RuntimeError("the delivery's transaction fails after storing")
        assert heard == []
        _run(db, people, sample("mes_batch_records.csv"))
    finally:
        remove_reading_listener(listener)

    assert heard == [
        ("product_temperature", 36.2, "°C"),
        ("inlet_air_temperature", 60.0, "°C"),
        ("product_temperature", 38.5, "°C"),
        ("atomisation_pressure", 1.99948, "bar"),
        ("compression_force", 12.4, "kN"),
    ]


def test_a_consumption_of_a_lot_not_released_holds_the_batch_at_once(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.masterdata.hold_models import LotHold

    set_up_company(db, people)

    _run(db, people, sample("mes_batch_records.csv"))

    with unit_of_work(db, write=False) as s:
        batch = s.scalars(select(Lot).where(Lot.lot_number == "T26-0101")).one()
        [hold] = s.scalars(select(LotHold).where(LotHold.lot_id == batch.id)).all()
        assert (batch.status, hold.holder, hold.previous_status) == (
            "on_hold",
            "MES: material not released",
            "quarantine",
        )
        assert hold.reason.startswith(
            "consumed API-PARA lot GIL-2511-07 while it was quarantine (step Dispensing)"
        )
        other = s.scalars(select(Lot).where(Lot.lot_number == "T26-0102")).one()
        assert other.status == "quarantine"  # consumed nothing


def test_a_consumption_of_a_released_lot_holds_nothing(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    from pharmaqms.platform.masterdata.service import set_lot_status

    set_up_company(db, people)
    with unit_of_work(db) as s:
        material = s.scalars(select(Lot).where(Lot.lot_number == "GIL-2511-07")).one()
        set_lot_status(s, material, "released", actor=people.qa, reason="QC released it")

    _run(db, people, sample("mes_batch_records.csv"))

    with unit_of_work(db, write=False) as s:
        batch = s.scalars(select(Lot).where(Lot.lot_number == "T26-0101")).one()
        assert batch.status == "quarantine"
