"""Units through pint, with the spellings lab and sensor systems really send.

pint traps this guards against: "C" is the coulomb and "F" the farad to pint, and temperatures
are offset units (a value must be converted as a Quantity, never multiplied)."""

from __future__ import annotations

from functools import lru_cache

import pint

ALIASES = {
    "°c": "degC",
    "ºc": "degC",
    "c": "degC",
    "degc": "degC",
    "deg c": "degC",
    "celsius": "degC",
    "°f": "degF",
    "ºf": "degF",
    "f": "degF",
    "degf": "degF",
    "fahrenheit": "degF",
    "k": "kelvin",
    "%": "percent",
    "%rh": "percent",
    "% rh": "percent",
    "rh": "percent",
    "pct": "percent",
    "rpm": "revolutions_per_minute",
    "kn": "kilonewton",
    "bar": "bar",
    "mbar": "millibar",
    "kpa": "kilopascal",
    "mg/ml": "milligram / milliliter",
    "mg/g": "milligram / gram",
    "µg/ml": "microgram / milliliter",
    "ug/ml": "microgram / milliliter",
    "cfu/ml": "1 / milliliter",
    "min": "minute",
    "h": "hour",
    "s": "second",
    "kg": "kilogram",
    "g": "gram",
    "mg": "milligram",
    "l": "liter",
    "ml": "milliliter",
}


class UnitProblem(ValueError):
    pass


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry[float]:
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def canonical_unit(spelling: str) -> str:
    text = (spelling or "").strip()
    return ALIASES.get(text.lower(), text)


@lru_cache(maxsize=512)
def _unit(spelling: str) -> pint.Unit:
    ureg = registry()
    try:
        return ureg.Unit(canonical_unit(spelling))
    except (
        pint.UndefinedUnitError,
        pint.errors.DefinitionSyntaxError,
        ValueError,
        TypeError,
        AttributeError,
    ):
        raise UnitProblem(f"unknown unit {spelling!r}") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a value; raise UnitProblem for an unknown unit or a different dimension."""
    source, target = _unit(from_unit), _unit(to_unit)
    if source == target:
        return value
    try:
        return float(registry().Quantity(value, source).to(target).magnitude)
    except pint.DimensionalityError:
        raise UnitProblem(
            f"{from_unit!r} can't be converted to {to_unit!r}: a different kind of quantity"
        ) from None


def same_unit(a: str, b: str) -> bool:
    try:
        return _unit(a) == _unit(b)
    except UnitProblem:
        return False
