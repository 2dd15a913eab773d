"""Units of measured values whose unit depends on the row (a process parameter, a material
quantity), normalised with pint and recorded in the lineage when the value changes.

A parameter may declare its unit in the source's mapping (``{"parameters": {"chamber_pressure":
"mbar"}}``); otherwise temperatures are stored in °C and pressures in bar, whatever the
system sent, and other quantities in the unit they came in (a tablet weight in mg stays in mg:
converting it to kg would only make it harder to read). A unit pint does not know, or one of
another kind than the parameter declares (a temperature in bar), is a problem for a person to
look at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pharmaqms.platform.governance.rules import Correction, Problem
from pharmaqms.platform.governance.units import (
    UNREADABLE_UNIT,
    UnitProblem,
    canonical_unit,
    convert,
    parse_unit,
    registry,
)

# (pint dimensionality, the unit stored) for quantities compared across systems and batches.
UNIT_BY_KIND: Final[tuple[tuple[str, str], ...]] = (
    ("[temperature]", "°C"),
    ("[mass] / [length] / [time] ** 2", "bar"),
)

# Labels process and lab systems use that are not units of measurement to pint: kept as they
# are (a pH of 7.1 has no unit to convert).
LABELS: Final[frozenset[str]] = frozenset({"ph", "ntu", "au", "count", "pcs", "units"})


@dataclass(frozen=True)
class Measure:
    value: float
    unit: str
    correction: Correction | None = None


def _unreadable(unit: str) -> UnitProblem | None:
    try:
        parse_unit(unit)
    except UnitProblem as problem:
        return problem
    return None


def stored_unit(unit: str) -> str:
    """The unit a value in ``unit`` is stored in, by the kind of quantity it measures."""
    ureg = registry()
    dimensionality = parse_unit(unit).dimensionality
    for kind, target in UNIT_BY_KIND:
        if dimensionality == ureg.get_dimensionality(kind):
            return target
    return unit


def normalise(
    field: str, value: float, unit: str | None, declared: str | None = None
) -> Measure | Problem:
    """``value`` in ``unit`` → the stored unit (``declared``, else by kind), with the lineage."""
    given = (unit or "").strip()
    if not given:
        # No unit sent: the value is read in the declared unit, as the governance rules do.
        return Measure(value, declared or "")
    if given.lower() in LABELS or (declared or "").lower() in LABELS:
        if declared and declared.lower() != given.lower():
            return Problem(
                "unit", "bad_unit", f"{field}: {given!r} given where {declared!r} is declared"
            )
        return Measure(value, given)
    unreadable = _unreadable(given)
    if unreadable is not None:
        if unreadable.code in UNREADABLE_UNIT:
            return Problem("unit", unreadable.code, f"{field}: {unreadable}")
        return Problem("unit", "bad_unit", f"{field}: unknown unit {given!r}")
    try:
        target = declared or stored_unit(given)
        converted = convert(value, given, target)
    except UnitProblem as err:
        code = err.code if err.code in UNREADABLE_UNIT else "bad_unit"
        return Problem("unit", code, f"{field}: {err}")
    if canonical_unit(given) == canonical_unit(target) or converted == value:
        return Measure(value, target)
    rounded = round(converted, 6)
    return Measure(
        rounded,
        target,
        Correction(
            "value",
            f"{value} {given}",
            f"{rounded} {target}",
            f"unit:{canonical_unit(given)}→{canonical_unit(target)}",
        ),
    )
