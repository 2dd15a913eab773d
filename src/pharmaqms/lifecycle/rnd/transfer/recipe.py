"""The recipe's content checked and normalised from what a person or a system sends. Pure: no
database. Every refusal names the field (``steps[2].parameters[0].low``) and why."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.quality.transfer import (
    FormulaLine,
    ProcessParameter,
    ProcessStep,
    QualityAttribute,
)

MAX_ITEMS = 500
MAX_TARGET_MINUTES = 7 * 24 * 60
FORMULA_KEYS = frozenset({"material_code", "quantity", "unit", "tolerance_percent"})
STEP_KEYS = frozenset(
    {
        "unit_procedure",
        "operation",
        "title",
        "instructions",
        "equipment",
        "parameters",
        "in_process_controls",
        "target_minutes",
    }
)
LIMIT_KEYS = frozenset({"name", "unit", "low", "high"})
ATTRIBUTE_KEYS = frozenset({"code", "name", "unit", "lower", "upper", "method"})


def _text(value: Any, field: str, *, required: bool = True, max_length: int = 200) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is over {max_length:,} characters", field=field)
    return text


def number(value: Any, field: str, *, required: bool = True) -> float | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{field} must be a number", field=field)
    try:
        parsed = float(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a number, not {value!r}", field=field) from None
    if not math.isfinite(parsed):
        raise InvalidInput(f"{field} must be a finite number", field=field)
    return parsed


def _items(value: Any, field: str, *, required: bool) -> list[Mapping[str, Any]]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InvalidInput(f"{field} must be a list of objects", field=field)
    if required and not value:
        raise InvalidInput(f"{field}: at least one is needed", field=field)
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f"{field}: at most {MAX_ITEMS}", field=field)
    return list(value)


def _known_keys(raw: Mapping[str, Any], keys: frozenset[str], field: str) -> None:
    unknown = set(raw) - keys
    if unknown:
        raise InvalidInput(f"{field}: unknown keys {', '.join(sorted(unknown))}", field=field)


def _range(low: float | None, high: float | None, field: str, name: str) -> None:
    if low is None and high is None:
        raise InvalidInput(f"{field} ({name}) needs a lower or an upper limit", field=field)
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{field} ({name}): the lower limit exceeds the upper", field=field)


def formula(raw: Any) -> list[dict[str, Any]]:
    lines = []
    for i, item in enumerate(_items(raw, "formula", required=True)):
        field = f"formula[{i}]"
        _known_keys(item, FORMULA_KEYS, field)
        quantity = number(item.get("quantity"), f"{field}.quantity")
        assert quantity is not None
        if quantity <= 0:
            raise InvalidInput(f"{field}.quantity must be positive", field=f"{field}.quantity")
        tolerance = number(item.get("tolerance_percent", 0), f"{field}.tolerance_percent")
        assert tolerance is not None
        if not 0 <= tolerance <= 100:
            raise InvalidInput(
                f"{field}.tolerance_percent is 0 to 100", field=f"{field}.tolerance_percent"
            )
        lines.append(
            {
                "material_code": _text(
                    item.get("material_code"), f"{field}.material_code", max_length=40
                ).upper(),
                "quantity": quantity,
                "unit": _text(item.get("unit"), f"{field}.unit", max_length=20),
                "tolerance_percent": tolerance,
            }
        )
    codes = [str(line["material_code"]) for line in lines]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise InvalidInput(
            f"materials named twice in the formula: {', '.join(twice)}", field="formula"
        )
    return lines


def _limits(raw: Any, field: str) -> list[dict[str, Any]]:
    limits = []
    for i, item in enumerate(_items(raw, field, required=False)):
        at = f"{field}[{i}]"
        _known_keys(item, LIMIT_KEYS, at)
        name = _text(item.get("name"), f"{at}.name", max_length=80)
        low = number(item.get("low"), f"{at}.low", required=False)
        high = number(item.get("high"), f"{at}.high", required=False)
        _range(low, high, at, name)
        unit = _text(item.get("unit"), f"{at}.unit", required=False, max_length=20)
        limits.append({"name": name, "unit": unit, "low": low, "high": high})
    return limits


def steps(raw: Any) -> list[dict[str, Any]]:
    checked = []
    for i, item in enumerate(_items(raw, "steps", required=True)):
        field = f"steps[{i}]"
        _known_keys(item, STEP_KEYS, field)
        equipment = item.get("equipment") or []
        if not isinstance(equipment, list):
            raise InvalidInput(f"{field}.equipment must be a list", field=f"{field}.equipment")
        target = item.get("target_minutes")
        if isinstance(target, bool) or not isinstance(target, int):
            raise InvalidInput(
                f"{field}.target_minutes must be a whole number", field=f"{field}.target_minutes"
            )
        if not 1 <= target <= MAX_TARGET_MINUTES:
            raise InvalidInput(
                f"{field}.target_minutes is 1 to {MAX_TARGET_MINUTES}",
                field=f"{field}.target_minutes",
            )
        checked.append(
            {
                "unit_procedure": _text(
                    item.get("unit_procedure"), f"{field}.unit_procedure", max_length=80
                ),
                "operation": _text(item.get("operation"), f"{field}.operation", max_length=80),
                "title": _text(item.get("title"), f"{field}.title"),
                "instructions": _text(
                    item.get("instructions"), f"{field}.instructions", max_length=4000
                ),
                "equipment": [_text(e, f"{field}.equipment", max_length=60) for e in equipment],
                "parameters": _limits(item.get("parameters"), f"{field}.parameters"),
                "in_process_controls": _limits(
                    item.get("in_process_controls"), f"{field}.in_process_controls"
                ),
                "target_minutes": target,
            }
        )
    return checked


def attributes(raw: Any) -> list[dict[str, Any]]:
    checked = []
    for i, item in enumerate(_items(raw, "attributes", required=True)):
        field = f"attributes[{i}]"
        _known_keys(item, ATTRIBUTE_KEYS, field)
        name = _text(item.get("name"), f"{field}.name")
        lower = number(item.get("lower"), f"{field}.lower", required=False)
        upper = number(item.get("upper"), f"{field}.upper", required=False)
        _range(lower, upper, field, name)
        checked.append(
            {
                "code": _text(item.get("code"), f"{field}.code", max_length=60).upper(),
                "name": name,
                "unit": _text(item.get("unit"), f"{field}.unit", required=False, max_length=20),
                "lower": lower,
                "upper": upper,
                "method": _text(
                    item.get("method"), f"{field}.method", required=False, max_length=200
                ),
            }
        )
    codes = [str(a["code"]) for a in checked]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise InvalidInput(f"attributes named twice: {', '.join(twice)}", field="attributes")
    return checked


# --- the stored content as the transfer's plain values ----------------------------------------


def _parameter(raw: Mapping[str, Any]) -> ProcessParameter:
    return ProcessParameter(raw["name"], raw["unit"], raw["low"], raw["high"])


def formula_lines(stored: Sequence[Mapping[str, Any]]) -> tuple[FormulaLine, ...]:
    return tuple(
        FormulaLine(r["material_code"], r["quantity"], r["unit"], r["tolerance_percent"])
        for r in stored
    )


def process_steps(stored: Sequence[Mapping[str, Any]]) -> tuple[ProcessStep, ...]:
    return tuple(
        ProcessStep(
            unit_procedure=r["unit_procedure"],
            operation=r["operation"],
            title=r["title"],
            instructions=r["instructions"],
            equipment=tuple(r["equipment"]),
            parameters=tuple(_parameter(p) for p in r["parameters"]),
            in_process_controls=tuple(_parameter(c) for c in r["in_process_controls"]),
            target_minutes=r["target_minutes"],
        )
        for r in stored
    )


def quality_attributes(stored: Sequence[Mapping[str, Any]]) -> tuple[QualityAttribute, ...]:
    return tuple(
        QualityAttribute(r["code"], r["name"], r["unit"], r["lower"], r["upper"], r["method"])
        for r in stored
    )


def shown_range(low: float | None, high: float | None, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low:g} – {high:g}{suffix}"
    if low is not None:
        return f"≥ {low:g}{suffix}"
    return f"≤ {high:g}{suffix}"
