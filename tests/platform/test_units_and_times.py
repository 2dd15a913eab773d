"""The one unit parser and the one UTC conversion every ingest path uses (issue 9 §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pharmaqms.platform.governance.times import TimeProblem, to_utc
from pharmaqms.platform.governance.units import UnitProblem, parse_unit, registry


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1/0", "unit_arithmetic"),
        ("(", "unit_syntax"),
        ("°C)", "unit_syntax"),
        ("mg/", "unit_syntax"),
        ("a=b", "unit_syntax"),
        ("mg;kg", "unit_syntax"),
        ("__import__('os')", "unit_syntax"),
        ("2 mg", "unit_syntax"),
        ("m" * 101, "unit_syntax"),
        ("blorbs", "unknown_unit"),
        ("", "unknown_unit"),
    ],
)
def test_a_unit_text_that_is_not_a_unit_gets_a_specific_code(text: str, code: str) -> None:
    with pytest.raises(UnitProblem) as problem:
        parse_unit(text)
    assert problem.value.code == code


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("°C", "degree_Celsius"),
        ("C", "degree_Celsius"),
        ("mg/mL", "milligram / milliliter"),
        ("µg/mL", "microgram / milliliter"),
        ("mg·kg", "milligram * kilogram"),
        ("kg*m/s^2", "kilogram * meter / second ** 2"),
        ("m**2", "meter ** 2"),
        ("%", "percent"),
        ("1/mL", "1 / milliliter"),
    ],
)
def test_the_spellings_labs_and_sensors_send_still_parse(text: str, unit: str) -> None:
    assert parse_unit(text) == registry().Unit(unit)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=30))
def test_any_text_is_a_unit_or_a_unit_problem(text: str) -> None:
    try:
        parse_unit(text)
    except UnitProblem as problem:
        assert problem.code in ("unit_syntax", "unit_arithmetic", "unknown_unit")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-1))),
    ],
)
def test_an_instant_without_a_utc_year_is_a_time_problem(moment: datetime) -> None:
    with pytest.raises(TimeProblem) as problem:
        to_utc(moment, name="tested_at")
    assert problem.value.code == "timestamp_out_of_range"
    assert str(problem.value).startswith("tested_at: ")


def test_an_instant_at_the_edge_that_has_a_utc_year_converts() -> None:
    edge = datetime(1, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=14)))
    assert to_utc(edge) == datetime(1, 1, 1, tzinfo=UTC)
