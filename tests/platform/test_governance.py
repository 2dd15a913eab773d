from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.connectors.measures import Measure, normalise
from pharmaqms.platform.governance.rules import (
    Checked,
    Context,
    Correction,
    EntitySpec,
    FieldSpec,
    Problem,
    check,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.models import Lineage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORAGE = EntitySpec(
    "storage_check",
    (
        FieldSpec("gtin", "gtin"),
        FieldSpec("temperature", "float", unit="degC", unit_field="unit", minimum=-30, maximum=60),
        FieldSpec("checked_at", "datetime"),
        FieldSpec("zone", required=False, choices=("2-8", "15-25")),
    ),
    natural_key=("gtin", "checked_at"),
)


def _check(raw: dict[str, Any], zone: str | None = None) -> Checked:
    return check(STORAGE, raw, Context(now=NOW, source_timezone=zone))


def test_fahrenheit_becomes_celsius_and_a_gtin_13_becomes_14_digits_each_with_its_lineage() -> None:
    checked = _check(
        {
            "gtin": "8712345000011",
            "temperature": "41",
            "unit": "°F",
            "checked_at": "2026-03-01T08:00:00+01:00",
        }
    )

    assert checked.problems == []
    assert (checked.values["gtin"], checked.values["temperature"], checked.values["unit"]) == (
        "08712345000011",
        5.0,
        "degC",
    )
    assert checked.values["checked_at"] == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert checked.values["checked_at_offset"] == "+01:00"
    assert checked.corrections == [
        Correction("gtin", "8712345000011", "08712345000011", "gtin_to_14_digits"),
        Correction("temperature", "41.0 °F", "5.0 degC", "unit:degF→degC"),
    ]


def test_a_decimal_comma_and_a_local_time_of_a_source_that_declares_its_zone_are_corrected() -> (
    None
):
    checked = _check(
        {"gtin": "08712345000011", "temperature": "4,5", "checked_at": "2025-07-01 08:00:00"},
        zone="Europe/Amsterdam",
    )

    assert checked.problems == []
    assert checked.values["checked_at"] == datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
    assert checked.corrections == [
        Correction("temperature", "4,5", "4.5", "decimal_comma"),
        Correction(
            "checked_at",
            "2025-07-01 08:00:00",
            "2025-07-01T08:00:00+02:00",
            "source_timezone:Europe/Amsterdam",
        ),
    ]


@pytest.mark.clause("alcoa:accurate")
@pytest.mark.parametrize("typed", ["1,500", "-2,000", "12,345"])
def test_a_comma_that_may_be_a_thousands_separator_is_quarantined_not_guessed(typed: str) -> None:
    checked = _check(
        {"gtin": "08712345000011", "temperature": typed, "checked_at": "2026-03-02T08:00:00Z"}
    )

    assert [(p.field, p.code) for p in checked.problems] == [
        ("temperature", "ambiguous_decimal_comma")
    ]
    assert checked.corrections == []
    assert checked.values["temperature"] is None  # nothing guessed


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        (
            {"gtin": "08712345000012", "temperature": "5", "checked_at": "2026-03-01T08:00:00Z"},
            [("gtin", "bad_check_digit")],
        ),
        (
            {
                "gtin": "08712345000011",
                "temperature": "5",
                "unit": "bar",
                "checked_at": "2026-03-01T08:00:00Z",
            },
            [("unit", "bad_unit")],
        ),
        (
            {"gtin": "08712345000011", "temperature": "5", "checked_at": "2026-03-01 08:00"},
            [("checked_at", "no_time_zone")],
        ),
        (
            {"gtin": "08712345000011", "temperature": "5", "checked_at": "2026-03-02T09:06:00Z"},
            [("checked_at", "in_the_future")],
        ),
        (
            {"gtin": "08712345000011", "temperature": "95", "checked_at": "2026-03-01T08:00:00Z"},
            [("temperature", "above_range")],
        ),
        (
            {
                "gtin": "08712345000011",
                "temperature": "5",
                "checked_at": "2026-03-01T08:00:00Z",
                "zone": "2-25",
                "operator": "ann",
            },
            [("operator", "unknown_field"), ("zone", "not_allowed")],
        ),
    ],
)
def test_each_bad_value_gets_its_specific_reason_and_is_never_corrected(
    raw: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    checked = _check(raw)

    assert [(p.field, p.code) for p in checked.problems] == problems


@pytest.mark.parametrize(
    ("local", "code", "message"),
    [
        (
            "2026-03-29 02:30:00",
            "nonexistent_local_time",
            "checked_at: 2026-03-29 02:30:00 does not exist in Europe/Amsterdam (the clocks "
            "skip it when they go forward); send it with its UTC offset",
        ),
        (
            "2026-10-25 02:30:00",
            "ambiguous_local_time",
            "checked_at: 2026-10-25 02:30:00 happens twice in Europe/Amsterdam (+02:00, then "
            "+01:00 when the clocks go back); send it with its UTC offset",
        ),
    ],
)
def test_a_local_time_skipped_or_repeated_by_a_clock_change_is_a_problem_not_a_guess(
    local: str, code: str, message: str
) -> None:
    checked = check(
        STORAGE,
        {"gtin": "08712345000011", "temperature": "5", "checked_at": local},
        Context(now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), source_timezone="Europe/Amsterdam"),
    )

    assert [(p.field, p.code, p.message) for p in checked.problems] == [
        ("checked_at", code, message)
    ]
    assert checked.corrections == []
    assert (checked.values["checked_at"], "checked_at_offset" in checked.values) == (None, False)


def test_the_local_times_around_a_clock_change_that_exist_once_are_taken() -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    taken = [
        check(
            STORAGE,
            {"gtin": "08712345000011", "temperature": "5", "checked_at": local},
            Context(now=now, source_timezone="Europe/Amsterdam"),
        ).values["checked_at"]
        for local in (
            "2026-03-29 01:59:59",
            "2026-03-29 03:00:00",
            "2026-10-25 01:59:59",
            "2026-10-25 03:00:00",
        )
    ]

    assert taken == [
        datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 24, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    ]


def test_a_timestamp_within_the_allowed_clock_skew_is_not_the_future() -> None:
    checked = _check(
        {"gtin": "08712345000011", "temperature": "5", "checked_at": "2026-03-02T09:04:00Z"}
    )

    assert checked.problems == []


@pytest.mark.parametrize(
    ("value", "unit", "declared", "expected"),
    [
        (
            77.0,
            "°F",
            None,
            Measure(25.0, "°C", Correction("value", "77.0 °F", "25.0 °C", "unit:degF→degC")),
        ),
        (
            300.0,
            "K",
            None,
            Measure(26.85, "°C", Correction("value", "300.0 K", "26.85 °C", "unit:kelvin→degC")),
        ),
        (
            1500.0,
            "mbar",
            None,
            Measure(1.5, "bar", Correction("value", "1500.0 mbar", "1.5 bar", "unit:millibar→bar")),
        ),
        (
            1.013,
            "bar",
            "mbar",
            Measure(
                1013.0, "mbar", Correction("value", "1.013 bar", "1013.0 mbar", "unit:bar→millibar")
            ),
        ),
        (501.0, "mg", None, Measure(501.0, "mg")),
        (7.1, "C", None, Measure(7.1, "°C")),
        (7.2, "pH", "pH", Measure(7.2, "pH")),
        (5.0, "", "°C", Measure(5.0, "°C")),
    ],
)
def test_process_values_are_stored_in_the_declared_unit_or_by_kind(
    value: float, unit: str, declared: str | None, expected: Measure
) -> None:
    assert normalise("x", value, unit, declared) == expected


@pytest.mark.parametrize(
    ("unit", "declared", "message"),
    [
        ("Kp", None, "x: unknown unit 'Kp'"),
        ("bar", "°C", "x: 'bar' can't be converted to '°C': a different kind of quantity"),
        ("N", "pH", "x: 'N' given where 'pH' is declared"),
    ],
)
def test_a_unit_nobody_knows_or_of_another_kind_is_a_problem(
    unit: str, declared: str | None, message: str
) -> None:
    assert normalise("x", 1.0, unit, declared) == Problem("unit", "bad_unit", message)


SPECS = {"storage_check": STORAGE}


class _StorageChecks:
    """A connector for one test: checks of storage conditions, stored nowhere but the lineage."""

    kind = "storage-checks"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        yield SourceRow(
            "storage_check",
            "line 2",
            {
                "gtin": "8712345000011",
                "temperature": "41",
                "unit": "F",
                "checked_at": "2026-03-01T08:00:00+01:00",
            },
        )

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        return Stored(entity_id=4711)


@pytest.mark.clause("alcoa:original")
def test_the_corrections_of_an_accepted_row_are_kept_as_its_lineage(
    db, people, frozen_clock, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(ingest.CONNECTORS, "storage-checks", _StorageChecks())

    with unit_of_work(db) as s:
        run = ingest.ingest(s, actor=people.admin, kind="storage-checks", content=b"x")
        assert (run.rows_accepted, run.rows_corrected) == (1, 1)

    with unit_of_work(db, write=False) as s:
        lineage = [
            (row.entity, row.entity_id, row.field, row.original, row.corrected, row.rule)
            for row in s.scalars(select(Lineage).order_by(Lineage.id))
        ]
    assert lineage == [
        ("storage_check", 4711, "gtin", "8712345000011", "08712345000011", "gtin_to_14_digits"),
        ("storage_check", 4711, "temperature", "41.0 F", "5.0 degC", "unit:degF→degC"),
    ]
