"""The protocol's vocabulary and its checks (pure): the ICH Q1A(R2) storage conditions, the
time points of each, the attributes with their specification — and the pull schedule it
gives."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from pharmaqms.kernel.errors import InvalidInput


@dataclass(frozen=True)
class StorageCondition:
    code: str
    label: str
    temperature_c: float  # the nominal temperature (what a stability budget band is held to)


# ICH Q1A(R2) §2.2.7: general case (long-term 25/60 or 30/65, intermediate 30/65, accelerated
# 40/75), zone IVb long-term 30/75 (WHO TRS 953 Annex 2), refrigerated (5 ± 3 °C, with 25/60 as
# its accelerated condition) and frozen (−20 ± 5 °C). Tolerances as the guideline states them.
CONDITIONS: Final[dict[str, StorageCondition]] = {
    c.code: c
    for c in (
        StorageCondition("25C60RH", "25 °C ± 2 °C / 60 % RH ± 5 % RH", 25),
        StorageCondition("30C65RH", "30 °C ± 2 °C / 65 % RH ± 5 % RH", 30),
        StorageCondition("30C75RH", "30 °C ± 2 °C / 75 % RH ± 5 % RH", 30),
        StorageCondition("40C75RH", "40 °C ± 2 °C / 75 % RH ± 5 % RH", 40),
        StorageCondition("5C", "5 °C ± 3 °C", 5),
        StorageCondition("-20C", "−20 °C ± 5 °C", -20),
    )
}
ROLES: Final = ("long_term", "intermediate", "accelerated")
MAX_TIME_POINTS: Final = 20
MAX_MONTHS: Final = 120
MAX_BATCHES: Final = 20
MAX_ATTRIBUTES: Final = 30
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
_BATCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$")
# Months are calendar months from the start; a fraction (2 weeks = 0.5) counts 30.44 days.
DAYS_PER_MONTH: Final = 365.25 / 12


def condition_label(code: str) -> str:
    found = CONDITIONS.get(code)
    return found.label if found else code


def _number(value: Any, what: str, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}: {value!r} is not a number", field=field) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what}: {value!r} is not a finite number", field=field)
    return number


def checked_conditions(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not conditions:
        raise InvalidInput("a protocol stores at least one condition", field="conditions")
    cleaned: list[dict[str, Any]] = []
    for spec in conditions:
        code = str(spec.get("code") or "").strip().upper()
        if code not in CONDITIONS:
            raise InvalidInput(
                f"storage condition {code!r} is not an ICH Q1A(R2) condition; known: "
                f"{', '.join(CONDITIONS)}",
                field="conditions",
            )
        if any(c["code"] == code for c in cleaned):
            raise InvalidInput(f"condition {code} is listed twice", field="conditions")
        role = str(spec.get("role") or "").strip()
        if role not in ROLES:
            raise InvalidInput(
                f"condition {code}: role {role!r} is one of {', '.join(ROLES)}",
                field="conditions",
            )
        points = sorted(
            {_number(m, f"condition {code} time point", "conditions") for m in spec["time_points"]}
            if spec.get("time_points")
            else set()
        )
        if not points:
            raise InvalidInput(f"condition {code} has no time points", field="conditions")
        if len(points) > MAX_TIME_POINTS or points[0] < 0 or points[-1] > MAX_MONTHS:
            raise InvalidInput(
                f"condition {code}: up to {MAX_TIME_POINTS} time points from 0 to "
                f"{MAX_MONTHS} months",
                field="conditions",
            )
        cleaned.append({"code": code, "role": role, "time_points": points})
    if not any(c["role"] == "long_term" for c in cleaned):
        raise InvalidInput("a protocol has a long-term condition", field="conditions")
    return cleaned


def checked_attributes(attributes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not attributes or len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"a protocol tests 1 to {MAX_ATTRIBUTES} attributes", field="attributes")
    cleaned: list[dict[str, Any]] = []
    for spec in attributes:
        code = str(spec.get("code") or "").strip().upper()
        if not _CODE.match(code) or any(a["code"] == code for a in cleaned):
            raise InvalidInput(
                f"attribute code {code!r}: unique, capital letters, digits, '.', '_' or '-'",
                field="attributes",
            )
        limits = {
            side: None
            if spec.get(side) in (None, "")
            else _number(spec[side], f"attribute {code} {side} limit", "attributes")
            for side in ("lower", "upper")
        }
        if limits["lower"] is None and limits["upper"] is None:
            raise InvalidInput(
                f"attribute {code} has no specification limit: give a lower, an upper or both",
                field="attributes",
            )
        low, high = limits["lower"], limits["upper"]
        if low is not None and high is not None and low >= high:
            raise InvalidInput(
                f"attribute {code}: lower limit is not below the upper", field="attributes"
            )
        cleaned.append(
            {
                "code": code,
                "name": str(spec.get("name") or code).strip()[:100],
                "unit": str(spec.get("unit") or "").strip()[:20],
                **limits,
            }
        )
    return cleaned


def checked_batches(batches: Sequence[str]) -> list[str]:
    found = [b.strip() for b in batches if b and b.strip()]
    if not found or len(found) > MAX_BATCHES:
        raise InvalidInput(f"a study puts 1 to {MAX_BATCHES} batches on test", field="batches")
    for batch in found:
        if not _BATCH.match(batch):
            raise InvalidInput(f"batch {batch!r} is not a lot number", field="batches")
    if len(set(found)) != len(found):
        raise InvalidInput("a batch is listed twice", field="batches")
    return found


def due_on(start: date, months: float) -> date:
    """The calendar date ``months`` after ``start`` (whole months by the calendar, the end of
    a shorter month when the day does not exist; fractions in days)."""
    whole = math.floor(months)
    year, month = divmod(start.month - 1 + whole, 12)
    year, month = start.year + year, month + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=round((months - whole) * DAYS_PER_MONTH))


def attribute_of(study_attributes: Sequence[Mapping[str, Any]], code: str) -> dict[str, Any] | None:
    for spec in study_attributes:
        if spec["code"] == code:
            return dict(spec)
    return None


def out_of_specification(spec: Mapping[str, Any], value: float) -> bool:
    lower, upper = spec.get("lower"), spec.get("upper")
    return (lower is not None and value < lower) or (upper is not None and value > upper)
