"""Plausibility findings on a parsed ICSR: values kept as sent, with a note for a person.

An age of −67 or a reaction in the future is not corrected and not dropped: the value stays in
the model as the reporter gave it (the reporter may have typed it wrong, and only follow-up can
tell), and a finding beside it says why it needs an eye. Dates are compared through their
bounds, so a partial date is only called "in the future" or "before its start" when every day
it may stand for is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from pharmaqms.lifecycle.use.e2b.codes import YEARS_PER_AGE_UNIT
from pharmaqms.lifecycle.use.e2b.dates import HL7Time
from pharmaqms.lifecycle.use.e2b.icsr import ICSR, Finding, FindingCode
from pharmaqms.lifecycle.use.e2b.model import Quantity

# Beyond these a value is more likely a slip than a patient (the oldest documented human
# reached 122 years; no adult weighs 700 kg or stands 3 m).
MAX_AGE_YEARS: Final = 150
MAX_WEIGHT_KG: Final = Decimal(700)
MAX_HEIGHT_CM: Final = Decimal(300)


_SPECS: dict[type, tuple[tuple[str, str | None], ...]] = {}


def field_specs(cls: type) -> tuple[tuple[str, str | None], ...]:
    """(field name, E2B element) of a model class, computed once per class."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = tuple(
            (f.name, f.metadata.get("e2b")) for f in dataclasses.fields(cls)
        )
    return specs


def walk(value: Any, element: str = "") -> Iterator[tuple[str, Any]]:
    """Every (E2B element, value) pair in a model value, depth first, in field order."""
    if isinstance(value, HL7Time | Quantity):
        yield element, value
    elif hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        for name, here in field_specs(type(value)):
            yield from walk(getattr(value, name), here or element)
    elif isinstance(value, tuple):
        for item in value:
            yield from walk(item, element)
    else:
        yield element, value


def _is_before(end: Any, start: Any) -> bool:
    """True only when ``end`` is certainly before ``start``, whatever the precision."""
    if not isinstance(end, HL7Time) or not isinstance(start, HL7Time):
        return False
    if end.utc_offset == start.utc_offset:
        # Same zone (or both the sender's unstated local zone): compare the wall clock.
        return end.local_bounds()[1] <= start.local_bounds()[0]
    return end.latest() <= start.earliest()


def _order(element: str, start: Any, end: Any, what: str) -> Iterator[Finding]:
    if _is_before(end, start):
        yield Finding(
            FindingCode.END_BEFORE_START,
            element,
            f"{what} ({end}) is before its start ({start})",
            str(end),
        )


def _age(element: str, age: Quantity | None) -> Iterator[Finding]:
    if age is None:
        return
    if age.value < 0:
        yield Finding(FindingCode.IMPLAUSIBLE_AGE, element, "a negative age", str(age.value))
    elif age.unit in YEARS_PER_AGE_UNIT:
        years = float(age.value) * YEARS_PER_AGE_UNIT[age.unit]
        if years > MAX_AGE_YEARS:
            yield Finding(
                FindingCode.IMPLAUSIBLE_AGE,
                element,
                f"{age.value} {age.unit} is over {MAX_AGE_YEARS} years",
                str(age.value),
            )


def _measure(element: str, value: Decimal | None, limit: Decimal, unit: str) -> Iterator[Finding]:
    if value is not None and not 0 < value <= limit:
        yield Finding(
            FindingCode.IMPLAUSIBLE_MEASURE,
            element,
            f"{value} {unit} is not a plausible human value (0 to {limit})",
            str(value),
        )


def plausibility_findings(icsr: ICSR, *, now: datetime) -> tuple[Finding, ...]:
    """Findings about values that are possible to write down but unlikely to be true."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    found: list[Finding] = []
    for element, value in walk(icsr):
        if isinstance(value, HL7Time) and value.earliest() > now:
            found.append(
                Finding(
                    FindingCode.FUTURE_DATE, element, f"{value} is after {now:%Y-%m-%d}", str(value)
                )
            )
        if isinstance(value, Quantity) and value.value < 0 and element not in ("D.2.2", "D.10.2.2"):
            found.append(
                Finding(
                    FindingCode.IMPLAUSIBLE_MEASURE,
                    element,
                    "a negative quantity",
                    str(value.value),
                )
            )
    report, patient = icsr.report, icsr.patient
    found += _order("C.1.5", report.first_received, report.most_recent, "most recent information")
    found += _age("D.2.2", patient.age)
    found += _measure("D.3", patient.weight_kg, MAX_WEIGHT_KG, "kg")
    found += _measure("D.4", patient.height_cm, MAX_HEIGHT_CM, "cm")
    if patient.death is not None:
        found += _order("D.9.1", patient.birth_date, patient.death.date, "date of death")
    for episode in patient.medical_history:
        found += _order("D.7.1.r.4", episode.start, episode.end, "end of medical history")
    for past in patient.past_drugs:
        found += _order("D.8.r.5", past.start, past.end, "end of past drug")
    if patient.parent is not None:
        found += _age("D.10.2.2", patient.parent.age)
        found += _measure("D.10.4", patient.parent.weight_kg, MAX_WEIGHT_KG, "kg")
        found += _measure("D.10.5", patient.parent.height_cm, MAX_HEIGHT_CM, "cm")
    for reaction in icsr.reactions:
        found += _order("E.i.5", reaction.start, reaction.end, "end of reaction")
    for drug in icsr.drugs:
        for dosage in drug.dosages:
            found += _order("G.k.4.r.5", dosage.start, dosage.end, "last administration")
    return tuple(found)
