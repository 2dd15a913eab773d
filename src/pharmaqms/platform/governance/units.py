"""Units through pint, with the spellings lab and sensor systems really send.

pint traps this guards against: "C" is the coulomb and "F" the farad to pint, and temperatures
are offset units (a value must be converted as a Quantity, never multiplied)."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Final

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
    """A unit text that is not a unit, with the reason code governance quarantines it under."""

    def __init__(self, message: str, code: str = "unknown_unit") -> None:
        super().__init__(message)
        self.code = code


# A unit text is a plain unit expression: names, numbers, spaces and the operators * / ^ ( ).
# pint evaluates what it is given as a small program — "a=b" becomes barn·year, "1/0" divides
# by zero, "(" or "mg/" break its tokenizer — so the form is checked before pint sees it.
_UNIT_TEXT = re.compile(r"[^\W_]|[\d\s_.*/^()%°µ·'+-]")
_DANGLING = re.compile(r"(^|[(*/^·])\s*($|[)*/^·])|[*/^·]\s*$")
MAX_UNIT_TEXT = 100
# The codes of a unit text that is not a unit at all (as opposed to an unknown or mismatched
# one, which the connectors report as ``bad_unit`` / ``unknown_unit``).
UNREADABLE_UNIT: Final = frozenset({"unit_syntax", "unit_arithmetic"})


def _expression_problem(text: str) -> str | None:
    """Why ``text`` is not a plain unit expression (None when its form is fine)."""
    if len(text) > MAX_UNIT_TEXT:
        return f"longer than {MAX_UNIT_TEXT} characters"
    odd = sorted({c for c in text if not _UNIT_TEXT.fullmatch(c)})
    if odd:
        return "it holds " + ", ".join(repr(c) for c in odd) + ", which no unit has"
    depth = 0
    for c in text:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return "a ')' closes nothing"
    if depth:
        return "a '(' is never closed"
    if _DANGLING.search(text.replace("**", "^")):
        return "an operator has nothing on one side"
    return None


@lru_cache(maxsize=1024)
def parse_unit(spelling: str) -> pint.Unit:
    """The pint unit a text names (lab and sensor spellings first), or ``UnitProblem`` with a
    specific code: ``unit_syntax`` (not a plain unit expression), ``unit_arithmetic`` (1/0, an
    overflow), ``unknown_unit`` (a name pint does not know). Every unit text that comes from
    outside — LIMS, sensors, MES, QC specifications — goes through here."""
    text = canonical_unit(spelling)
    if not text:
        raise UnitProblem("no unit given", "unknown_unit")
    why = _expression_problem(text)
    if why is not None:
        raise UnitProblem(f"{spelling!r} is not a unit expression: {why}", "unit_syntax")
    try:
        return registry().Unit(text.replace("·", "*"))
    except pint.UndefinedUnitError:
        raise UnitProblem(f"unknown unit {spelling!r}", "unknown_unit") from None
    except ArithmeticError:
        raise UnitProblem(
            f"{spelling!r} is not a unit: its arithmetic fails (a division by zero, an overflow)",
            "unit_arithmetic",
        ) from None
    except Exception:
        raise UnitProblem(
            f"{spelling!r} is not a unit expression pint can read", "unit_syntax"
        ) from None


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry[float]:
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def canonical_unit(spelling: str) -> str:
    text = (spelling or "").strip()
    return ALIASES.get(text.lower(), text)


def _unit(spelling: str) -> pint.Unit:
    return parse_unit(spelling)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a value; raise UnitProblem for an unknown unit or a different dimension."""
    source, target = _unit(from_unit), _unit(to_unit)
    if source == target:
        return value
    try:
        converted = float(registry().Quantity(value, source).to(target).magnitude)
    except pint.DimensionalityError:
        raise UnitProblem(
            f"{from_unit!r} can't be converted to {to_unit!r}: a different kind of quantity",
            "unit_mismatch",
        ) from None
    except ArithmeticError:
        raise UnitProblem(
            f"{value} {from_unit} can't be converted to {to_unit!r}: out of range",
            "unit_arithmetic",
        ) from None
    if not math.isfinite(converted):
        raise UnitProblem(
            f"{value} {from_unit} in {to_unit!r} is not a finite number", "unit_arithmetic"
        )
    return converted


def same_unit(a: str, b: str) -> bool:
    try:
        return _unit(a) == _unit(b)
    except UnitProblem:
        return False


# --- units of QC results ------------------------------------------------------------------------

# What labs write next to a result that pint does not take as a unit, or takes as another one
# ("EU" would be an exa-enzyme unit, "pH" a picohenry): counts and the conventional units of
# methods. Each stands for a count of 1, so that the measurable part of "CFU/g", "EU/mL" or
# "µg HA/dose" is still checked by pint.
LAB_COUNTS: Final = frozenset(
    {
        "cfu",  # colony-forming units (microbial limits)
        "eu",  # endotoxin units
        "iu",  # international units
        "u",  # enzyme / biological activity units
        "ha",  # haemagglutinin (µg HA/dose)
        "dose",
        "doses",
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "vial",
        "vials",
        "av",  # acceptance value (content uniformity)
        "ntu",  # turbidity
        "au",  # absorbance
        "osm",
        "mosm",  # osmolality
        "particles",
        "ph",
    }
)
# A share stated with its basis ("% w/w", "%(v/v)"): the basis tells how, not what unit.
_BASIS = re.compile(r"\s*\(?\s*[wvm]\s*/\s*[wvm]\s*\)?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
# Parts per billion: pint knows ppm but not ppb (and "ppt" would be a picopint).
_PARTS: Final = {"ppb": "1e-9", "ppt": "1e-12"}
# pint's groups of customary units: in a QC result (Ph. Eur. and USP report in SI units) they
# are a typing or mapping error — a result in furlongs must not be judged against its limits.
NON_METRIC_GROUPS: Final = (
    "USCSLengthInternational",
    "USCSLengthSurvey",
    "USCSDryVolume",
    "USCSLiquidVolume",
    "USCSVolumeOther",
    "ImperialVolume",
    "Avoirdupois",
    "AvoirdupoisUS",
    "AvoirdupoisUK",
    "Troy",
    "Apothecary",
    "Printer",
    "Textile",
)


@lru_cache(maxsize=1)
def _non_metric() -> frozenset[str]:
    ureg = registry()
    names: set[str] = set()
    for group in NON_METRIC_GROUPS:
        try:
            names.update(ureg.get_group(group, create_if_needed=False).members)
        except KeyError:  # pragma: no cover - a pint version without the group
            continue
    return frozenset(names)


@lru_cache(maxsize=512)
def result_unit_problem(spelling: str) -> tuple[str, str] | None:
    """(code, message) when ``spelling`` is not a unit a QC result can be reported in, else
    None: ``unknown_unit`` for what neither pint nor the lab vocabulary knows,
    ``non_metric_unit`` for a customary unit (furlongs, fluid ounces). No unit is fine (a pH,
    a count)."""
    text = (spelling or "").strip()
    if not text:
        return None
    measurable = _BASIS.sub("", text) if text.startswith("%") else text
    if measurable.lower() in _PARTS:
        return None
    measurable = canonical_unit(measurable).replace("·", "*")
    measurable = _WORD.sub(
        lambda m: "1" if m.group().lower() in LAB_COUNTS else m.group(), measurable
    )
    try:
        parsed = parse_unit(measurable)
    except UnitProblem as problem:
        if problem.code == "unknown_unit":
            return "unknown_unit", f"{text!r} is not a unit of measurement"
        return problem.code, f"{text!r} is not a unit of measurement ({problem})"
    customary = sorted(name for name in parsed._units if name in _non_metric())
    if customary:
        return (
            "non_metric_unit",
            f"{text!r} is not a metric unit ({', '.join(customary)}); QC results are reported "
            "in SI units",
        )
    return None
