"""Declarative governance: per entity, the fields with their type, unit, range and form; the
cross-field checks; the natural key. ``check`` turns one raw row into either clean values (with
every correction recorded for lineage) or the list of specific problems that quarantine it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pharmaqms.kernel.numbers import ambiguous_comma
from pharmaqms.platform.governance.times import TimeProblem, to_utc
from pharmaqms.platform.governance.units import (
    UNREADABLE_UNIT,
    UnitProblem,
    canonical_unit,
    convert,
    same_unit,
)

Kind = Literal["str", "float", "int", "datetime", "date", "gtin", "bool"]

# Devices and lab systems drift; a few minutes ahead of our clock is not "the future" yet.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Correction:
    field: str
    original: str | None
    corrected: str | None
    rule: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind = "str"
    required: bool = True
    # For measured values: the unit stored, and where the row says which unit it is in.
    unit: str | None = None
    unit_field: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    # A timestamp may not lie in the future (a device clock gone wrong).
    not_future: bool = True


CrossCheck = Callable[[dict[str, Any]], list[Problem]]


@dataclass(frozen=True)
class EntitySpec:
    entity: str
    fields: tuple[FieldSpec, ...]
    natural_key: tuple[str, ...]
    checks: tuple[CrossCheck, ...] = ()


@dataclass
class Checked:
    values: dict[str, Any] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def key(self, spec: EntitySpec) -> tuple[Any, ...]:
        return tuple(self.values.get(k) for k in spec.natural_key)


@dataclass(frozen=True)
class Context:
    now: datetime
    # A source that sends local times without an offset declares its zone in its mapping;
    # the value is then interpreted in that zone and the correction is recorded.
    source_timezone: str | None = None


def gtin_check_digit_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _float(spec: FieldSpec, value: Any, out: Checked) -> float | None:
    if isinstance(value, bool):
        out.problems.append(
            Problem(spec.name, "not_a_number", f"{spec.name}: {value!r} is not a number")
        )
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _text(value).strip()
        if ambiguous_comma(text):
            out.problems.append(
                Problem(
                    spec.name,
                    "ambiguous_decimal_comma",
                    f"{spec.name}: {text!r} may be {text.replace(',', '')} or "
                    f"{text.replace(',', '.')}: the sender must write it without a thousands "
                    "separator",
                )
            )
            return None
        if re.fullmatch(r"[-+]?\d+,\d+", text):
            corrected = text.replace(",", ".")
            out.corrections.append(Correction(spec.name, text, corrected, "decimal_comma"))
            text = corrected
        try:
            number = float(text)
        except ValueError:
            out.problems.append(
                Problem(spec.name, "not_a_number", f"{spec.name}: {text!r} is not a number")
            )
            return None
    if not math.isfinite(number):
        out.problems.append(
            Problem(spec.name, "not_finite", f"{spec.name}: {number} is not finite")
        )
        return None
    return number


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _clock_change_problem(
    name: str, local: datetime, zone: ZoneInfo, zone_name: str
) -> Problem | None:
    """A wall-clock time the zone skips (clocks going forward) or repeats (going back) can't
    be placed on the time line without guessing: ``replace(tzinfo=…)`` would silently pick
    one. Detected with the fold round trip: a skipped time does not survive a trip through
    UTC; a repeated one has a different offset with fold=1 than with fold=0."""
    earlier, later = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    shown = local.isoformat(sep=" ")
    try:
        round_trip = to_utc(earlier, name=name).astimezone(zone).replace(tzinfo=None)
    except (TimeProblem, OverflowError) as err:
        return Problem(name, "timestamp_out_of_range", str(err))
    if round_trip != local:
        return Problem(
            name,
            "nonexistent_local_time",
            f"{name}: {shown} does not exist in {zone_name} (the clocks skip it when they go "
            "forward); send it with its UTC offset",
        )
    if earlier.utcoffset() != later.utcoffset():
        return Problem(
            name,
            "ambiguous_local_time",
            f"{name}: {shown} happens twice in {zone_name} ({_offset_text(earlier.utcoffset())}, "
            f"then {_offset_text(later.utcoffset())} when the clocks go back); send it with its "
            "UTC offset",
        )
    return None


def _datetime(spec: FieldSpec, value: Any, ctx: Context, out: Checked) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    else:
        text = _text(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            out.problems.append(
                Problem(
                    spec.name,
                    "bad_timestamp",
                    f"{spec.name}: {text!r} is not an ISO 8601 timestamp "
                    "(e.g. 2026-03-01T08:15:00+01:00)",
                )
            )
            return None
    if parsed.tzinfo is None:
        if ctx.source_timezone is None:
            out.problems.append(
                Problem(
                    spec.name,
                    "no_time_zone",
                    f"{spec.name}: {_text(value)!r} has no UTC offset and the source declares no "
                    "time zone",
                )
            )
            return None
        try:
            zone = ZoneInfo(ctx.source_timezone)
        except ZoneInfoNotFoundError:
            out.problems.append(
                Problem(
                    spec.name, "bad_time_zone", f"unknown source time zone {ctx.source_timezone!r}"
                )
            )
            return None
        problem = _clock_change_problem(spec.name, parsed, zone, ctx.source_timezone)
        if problem is not None:
            out.problems.append(problem)
            return None
        localised = parsed.replace(tzinfo=zone)
        out.corrections.append(
            Correction(
                spec.name,
                _text(value),
                localised.isoformat(),
                f"source_timezone:{ctx.source_timezone}",
            )
        )
        parsed = localised
    try:
        utc = to_utc(parsed, name=spec.name)
    except TimeProblem as err:
        out.problems.append(Problem(spec.name, err.code, str(err)))
        return None
    out.values[f"{spec.name}_offset"] = _offset_text(parsed.utcoffset())
    if spec.not_future and utc > ctx.now + CLOCK_SKEW:
        out.problems.append(
            Problem(
                spec.name,
                "in_the_future",
                f"{spec.name}: {utc:%Y-%m-%d %H:%M:%S} UTC is in the future (device clock?)",
            )
        )
        return None
    return utc


def _date(spec: FieldSpec, value: Any, out: Checked) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = _text(value).strip()
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    out.problems.append(
        Problem(spec.name, "bad_date", f"{spec.name}: {text!r} is not a date (YYYY-MM-DD)")
    )
    return None


def _gtin(spec: FieldSpec, value: Any, out: Checked) -> str | None:
    text = _text(value).strip()
    if not re.fullmatch(r"\d{8}|\d{12,14}", text):
        out.problems.append(
            Problem(
                spec.name,
                "bad_gtin",
                f"{spec.name}: {text!r} is not a GTIN (8, 12, 13 or 14 digits)",
            )
        )
        return None
    if not gtin_check_digit_ok(text):
        # Never auto-corrected: a wrong check digit means a wrong identifier.
        out.problems.append(
            Problem(
                spec.name, "bad_check_digit", f"{spec.name}: {text} has a wrong GS1 check digit"
            )
        )
        return None
    if len(text) != 14:
        padded = text.zfill(14)
        out.corrections.append(Correction(spec.name, text, padded, "gtin_to_14_digits"))
        text = padded
    return text


def _convert_unit(
    spec: FieldSpec, number: float, raw: Mapping[str, Any], out: Checked
) -> float | None:
    assert spec.unit is not None
    given = raw.get(spec.unit_field) if spec.unit_field else None
    if _empty(given):
        out.values[spec.unit_field or f"{spec.name}_unit"] = spec.unit
        return number
    given_text = _text(given).strip()
    try:
        converted = convert(number, given_text, spec.unit)
    except UnitProblem as err:
        code = err.code if err.code in UNREADABLE_UNIT else "bad_unit"
        out.problems.append(Problem(spec.unit_field or spec.name, code, f"{spec.name}: {err}"))
        return None
    if not same_unit(given_text, spec.unit):
        rounded = round(converted, 6)
        out.corrections.append(
            Correction(
                spec.name,
                f"{number} {given_text}",
                f"{rounded} {spec.unit}",
                f"unit:{canonical_unit(given_text)}→{spec.unit}",
            )
        )
        converted = rounded
    if spec.unit_field:
        out.values[spec.unit_field] = spec.unit
    return converted


def check(spec: EntitySpec, raw: Mapping[str, Any], ctx: Context) -> Checked:
    out = Checked()
    if "__malformed__" in raw:
        out.problems.append(
            Problem("row", "malformed_row", f"malformed row: {raw['__malformed__']}")
        )
        return out
    known = {f.name for f in spec.fields} | {f.unit_field for f in spec.fields if f.unit_field}
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        out.problems.append(
            Problem(unknown[0], "unknown_field", f"unknown column(s): {', '.join(unknown)}")
        )
    for f in spec.fields:
        value = raw.get(f.name)
        if _empty(value):
            if f.required:
                out.problems.append(Problem(f.name, "missing", f"{f.name} is required"))
            out.values.setdefault(f.name, None)
            continue
        result: Any
        if f.kind == "str":
            result = _text(value).strip()
            if f.max_length and len(result) > f.max_length:
                out.problems.append(
                    Problem(f.name, "too_long", f"{f.name}: longer than {f.max_length} characters")
                )
                result = None
            elif f.choices and result not in f.choices:
                out.problems.append(
                    Problem(
                        f.name,
                        "not_allowed",
                        f"{f.name}: {result!r} is not one of {', '.join(f.choices)}",
                    )
                )
                result = None
            elif f.pattern and not re.fullmatch(f.pattern, result):
                out.problems.append(
                    Problem(f.name, "bad_format", f"{f.name}: {result!r} has the wrong form")
                )
                result = None
        elif f.kind in ("float", "int"):
            result = _float(f, value, out)
            if result is not None and f.unit:
                result = _convert_unit(f, result, raw, out)
            if result is not None and f.kind == "int":
                if result != int(result):
                    out.problems.append(
                        Problem(f.name, "not_an_integer", f"{f.name}: {result} is not whole")
                    )
                    result = None
                else:
                    result = int(result)
            if result is not None:
                if f.minimum is not None and result < f.minimum:
                    out.problems.append(
                        Problem(f.name, "below_range", f"{f.name}: {result} is below {f.minimum}")
                    )
                    result = None
                elif f.maximum is not None and result > f.maximum:
                    out.problems.append(
                        Problem(f.name, "above_range", f"{f.name}: {result} is above {f.maximum}")
                    )
                    result = None
        elif f.kind == "datetime":
            result = _datetime(f, value, ctx, out)
        elif f.kind == "date":
            result = _date(f, value, out)
        elif f.kind == "gtin":
            result = _gtin(f, value, out)
        elif f.kind == "bool":
            text = _text(value).strip().lower()
            if text in ("1", "true", "yes", "y"):
                result = True
            elif text in ("0", "false", "no", "n"):
                result = False
            else:
                out.problems.append(
                    Problem(f.name, "not_a_boolean", f"{f.name}: {value!r} is not yes/no")
                )
                result = None
        else:  # pragma: no cover - Kind is closed
            raise ValueError(f.kind)
        out.values[f.name] = result
    if out.ok:
        for cross in spec.checks:
            out.problems.extend(cross(out.values))
    return out
