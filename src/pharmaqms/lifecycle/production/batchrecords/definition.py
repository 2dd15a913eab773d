"""The master batch record's steps as plain values: parsed and checked from what a person or a
system sends, rendered as the text people approve, and hashed. Pure: no database.

A step in ISA-88 procedural terms has a unit procedure, an operation and a phase; what it says
to do (instructions and the governing SOPs by document number), the materials to dispense
(material code, quantity, tolerance), the process parameters and in-process controls with their
limits, the kinds of equipment it needs, whether a second person verifies it, and how long it
should take (a step performed later than that is an exception for QA to review).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.numbers import typed_number

MAX_STEPS = 5000
MAX_TARGET_MINUTES = 7 * 24 * 60
DOCUMENT_NUMBER = re.compile(r"^[A-Z]{2,5}-\d{4}-\d{4}$")
Capture = Literal["manual", "instrument"]
CAPTURES: tuple[Capture, ...] = ("manual", "instrument")


@dataclass(frozen=True)
class MaterialLine:
    material_code: str
    quantity: float
    unit: str
    tolerance_percent: float

    @property
    def low(self) -> float:
        return self.quantity * (1 - self.tolerance_percent / 100)

    @property
    def high(self) -> float:
        return self.quantity * (1 + self.tolerance_percent / 100)

    def as_dict(self) -> dict[str, Any]:
        return {
            "material_code": self.material_code,
            "quantity": self.quantity,
            "unit": self.unit,
            "tolerance_percent": self.tolerance_percent,
        }


@dataclass(frozen=True)
class Limit:
    """A process parameter or an in-process control with its acceptance limits. ``capture``
    says where the value comes from: ``instrument`` values are taken from the process readings,
    and typing one by hand is an exception (a manual entry where the system should measure)."""

    name: str
    unit: str
    low: float | None
    high: float | None
    capture: Capture = "manual"

    def within(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def shown(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g} – {self.high:g}{unit}"
        if self.low is not None:
            return f"≥ {self.low:g}{unit}"
        return f"≤ {self.high:g}{unit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "low": self.low,
            "high": self.high,
            "capture": self.capture,
        }


@dataclass(frozen=True)
class StepDefinition:
    position: int
    unit_procedure: str
    operation: str
    phase: str
    title: str
    instructions: str
    sop_numbers: tuple[str, ...]
    materials: tuple[MaterialLine, ...]
    parameters: tuple[Limit, ...]
    equipment: tuple[str, ...]
    in_process_controls: tuple[Limit, ...]
    verification_required: bool
    target_minutes: int

    @property
    def path(self) -> str:
        return " / ".join(p for p in (self.unit_procedure, self.operation, self.phase) if p)

    def parameter(self, name: str) -> Limit | None:
        return next((p for p in self.parameters if p.name == name), None)

    def control(self, name: str) -> Limit | None:
        return next((c for c in self.in_process_controls if c.name == name), None)

    def material(self, code: str) -> MaterialLine | None:
        return next((m for m in self.materials if m.material_code == code), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "unit_procedure": self.unit_procedure,
            "operation": self.operation,
            "phase": self.phase,
            "title": self.title,
            "instructions": self.instructions,
            "sop_numbers": list(self.sop_numbers),
            "materials": [m.as_dict() for m in self.materials],
            "parameters": [p.as_dict() for p in self.parameters],
            "equipment": list(self.equipment),
            "in_process_controls": [c.as_dict() for c in self.in_process_controls],
            "verification_required": self.verification_required,
            "target_minutes": self.target_minutes,
        }


# --- parsing what is sent -------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool = True, max_length: int = 200) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return text


def number(value: Any, field: str) -> float:
    """A finite number; a boolean or a text that is not a number is refused, and so is a text
    whose comma could be a thousands separator (see ``typed_number``)."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{field} must be a number", field=field)
    if isinstance(value, str):
        value = typed_number(value, field)
    if not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InvalidInput(f"{field} must be a finite number", field=field)
    return float(value)


def _optional_number(value: Any, field: str) -> float | None:
    return None if value is None else number(value, field)


def _items(value: Any, field: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InvalidInput(f"{field} must be a list of objects", field=field)
    return list(value)


def _limit(raw: Mapping[str, Any], field: str) -> Limit:
    unknown = set(raw) - {"name", "unit", "low", "high", "capture"}
    if unknown:
        raise InvalidInput(f"{field}: unknown keys {', '.join(sorted(unknown))}", field=field)
    name = _text(raw.get("name"), f"{field}.name", max_length=80)
    low = _optional_number(raw.get("low"), f"{field}.low")
    high = _optional_number(raw.get("high"), f"{field}.high")
    if low is None and high is None:
        raise InvalidInput(f"{field} ({name}) needs a lower or an upper limit", field=field)
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{field} ({name}): the lower limit exceeds the upper", field=field)
    capture = raw.get("capture") or "manual"
    if capture not in CAPTURES:
        raise InvalidInput(f"{field}.capture is manual or instrument", field=f"{field}.capture")
    unit = _text(raw.get("unit"), f"{field}.unit", required=False, max_length=20)
    return Limit(name, unit, low, high, capture)


def _material(raw: Mapping[str, Any], field: str) -> MaterialLine:
    unknown = set(raw) - {"material_code", "quantity", "unit", "tolerance_percent"}
    if unknown:
        raise InvalidInput(f"{field}: unknown keys {', '.join(sorted(unknown))}", field=field)
    quantity = number(raw.get("quantity"), f"{field}.quantity")
    if quantity <= 0:
        raise InvalidInput(f"{field}.quantity must be positive", field=f"{field}.quantity")
    tolerance = number(raw.get("tolerance_percent", 0), f"{field}.tolerance_percent")
    if not 0 <= tolerance <= 50:
        raise InvalidInput(
            f"{field}.tolerance_percent is 0 to 50", field=f"{field}.tolerance_percent"
        )
    return MaterialLine(
        _text(raw.get("material_code"), f"{field}.material_code", max_length=40),
        quantity,
        _text(raw.get("unit"), f"{field}.unit", max_length=20),
        tolerance,
    )


STEP_KEYS = frozenset(
    {
        "unit_procedure",
        "operation",
        "phase",
        "title",
        "instructions",
        "sop_numbers",
        "materials",
        "parameters",
        "equipment",
        "in_process_controls",
        "verification_required",
        "target_minutes",
        "position",
    }
)


def parse_step(raw: Mapping[str, Any], position: int) -> StepDefinition:
    field = f"steps[{position}]"
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise InvalidInput(f"{field}: unknown keys {', '.join(sorted(unknown))}", field=field)
    sops = raw.get("sop_numbers") or []
    if not isinstance(sops, list) or not sops:
        raise InvalidInput(
            f"{field}: name the SOP(s) governing the step (document numbers)",
            field=f"{field}.sop_numbers",
        )
    numbers = []
    for value in sops:
        text = _text(value, f"{field}.sop_numbers", max_length=20)
        if not DOCUMENT_NUMBER.match(text):
            raise InvalidInput(
                f"{field}: {text!r} is not a document number (e.g. SOP-2026-0004)",
                field=f"{field}.sop_numbers",
            )
        numbers.append(text)
    equipment = raw.get("equipment") or []
    if not isinstance(equipment, list):
        raise InvalidInput(f"{field}.equipment must be a list", field=f"{field}.equipment")
    target = raw.get("target_minutes")
    if isinstance(target, bool) or not isinstance(target, int):
        raise InvalidInput(
            f"{field}.target_minutes must be a whole number", field=f"{field}.target_minutes"
        )
    if not 1 <= target <= MAX_TARGET_MINUTES:
        raise InvalidInput(
            f"{field}.target_minutes is 1 to {MAX_TARGET_MINUTES}",
            field=f"{field}.target_minutes",
        )
    verification = raw.get("verification_required", False)
    if not isinstance(verification, bool):
        raise InvalidInput(
            f"{field}.verification_required is true or false",
            field=f"{field}.verification_required",
        )
    step = StepDefinition(
        position=position,
        unit_procedure=_text(raw.get("unit_procedure"), f"{field}.unit_procedure", max_length=80),
        operation=_text(raw.get("operation"), f"{field}.operation", max_length=80),
        phase=_text(raw.get("phase"), f"{field}.phase", required=False, max_length=80),
        title=_text(raw.get("title"), f"{field}.title"),
        instructions=_text(raw.get("instructions"), f"{field}.instructions", max_length=4000),
        sop_numbers=tuple(dict.fromkeys(numbers)),
        materials=tuple(
            _material(m, f"{field}.materials[{i}]")
            for i, m in enumerate(_items(raw.get("materials"), f"{field}.materials"))
        ),
        parameters=tuple(
            _limit(p, f"{field}.parameters[{i}]")
            for i, p in enumerate(_items(raw.get("parameters"), f"{field}.parameters"))
        ),
        equipment=tuple(
            dict.fromkeys(_text(e, f"{field}.equipment", max_length=60) for e in equipment)
        ),
        in_process_controls=tuple(
            _limit(c, f"{field}.in_process_controls[{i}]")
            for i, c in enumerate(
                _items(raw.get("in_process_controls"), f"{field}.in_process_controls")
            )
        ),
        verification_required=verification,
        target_minutes=target,
    )
    names = [p.name for p in step.parameters] + [c.name for c in step.in_process_controls]
    if len(names) != len(set(names)):
        raise InvalidInput(f"{field}: a parameter or control is named twice", field=field)
    codes = [m.material_code for m in step.materials]
    if len(codes) != len(set(codes)):
        raise InvalidInput(f"{field}: a material is listed twice", field=field)
    return step


def parse_steps(raw: Sequence[Mapping[str, Any]]) -> list[StepDefinition]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise InvalidInput("a master batch record needs at least one step", field="steps")
    if len(raw) > MAX_STEPS:
        raise InvalidInput(f"at most {MAX_STEPS} steps", field="steps")
    if not all(isinstance(step, Mapping) for step in raw):
        raise InvalidInput("each step is an object", field="steps")
    return [parse_step(step, index) for index, step in enumerate(raw, 1)]


def steps_of(stored: Sequence[Mapping[str, Any]]) -> list[StepDefinition]:
    """The steps as stored (already checked when they were defined)."""
    return [parse_step(step, int(step["position"])) for step in stored]


# --- what is approved -----------------------------------------------------------------------


def definition_hash(header: Mapping[str, Any], steps: Sequence[StepDefinition]) -> str:
    return content_hash({"header": dict(header), "steps": [s.as_dict() for s in steps]})


def render(header: Mapping[str, Any], steps: Sequence[StepDefinition], digest: str) -> str:
    """The master as the text of its controlled document: what reviewers read and approvers
    sign. The last line names the SHA-256 of the structured definition executed from it."""
    lines = [
        f"Master batch record for {header['product_code']}: {header['title']}",
        f"Batch size: {header['batch_size']:g} {header['batch_unit']}",
        "",
    ]
    for step in steps:
        lines.append(f"Step {step.position}. {step.path}: {step.title}")
        lines.append(f"  Instructions: {step.instructions}")
        lines.append(f"  Governing SOPs: {', '.join(step.sop_numbers)}")
        for m in step.materials:
            lines.append(
                f"  Dispense {m.material_code}: {m.quantity:g} {m.unit} "
                f"(± {m.tolerance_percent:g} %)"
            )
        for p in step.parameters:
            lines.append(f"  Parameter {p.name}: {p.shown} ({p.capture})")
        for c in step.in_process_controls:
            lines.append(f"  In-process control {c.name}: {c.shown} ({c.capture})")
        if step.equipment:
            lines.append(f"  Equipment: {', '.join(step.equipment)}")
        check = "second-person verification" if step.verification_required else "no verification"
        lines.append(f"  Target duration {step.target_minutes} min; {check}")
    lines += ["", f"Definition SHA-256: {digest}"]
    return "\n".join(lines)


def hash_line(digest: str) -> str:
    return f"Definition SHA-256: {digest}"
