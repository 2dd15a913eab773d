"""Dose, route and body weight as a case holds them: a dose unit read by pint and kept as its
UCUM code (what E2B(R3) G.k.4.r.1b carries), a route as its E2B code (G.k.4.r.10.2b, the
E2B(R2) list the IG keeps), a weight in kilograms (D.3). Pure: refusals name the field.

Why pint and not the E2B unit list: reporters write "milligram", "mcg/kg", "µg"; pint reads
them all and tells a dose unit from a temperature. What pint can't read is refused, never
stored as free text a later analysis would have to guess at."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final

import pint

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.e2b.codes import ROUTES

# The heaviest people recorded weighed about 635 kg: above 650 kg the number is a typing error
# (grams, pounds) and is refused rather than analysed.
MAX_WEIGHT_KG: Final = Decimal(650)
MAX_DOSE: Final = Decimal("1e9")
# UCUM's bracketed and annotated units as pint names (defined in the registry below). The IG
# lists these count units for a dose given "per tablet", "per puff" etc.
UCUM_COUNTS: Final = {
    "{DF}": "dosage_form",
    "{tbl}": "tablet",
    "{cap}": "capsule",
    "{puff}": "puff",
    "{drop}": "drop",
    "{patch}": "patch",
    "{sachet}": "sachet",
    "{vial}": "vial",
    "{ampule}": "ampoule",
    "{suppository}": "suppository",
    "{application}": "application",
    "{inhalation}": "inhalation",
}
PREFIXES: Final = {
    "": "",
    "kilo": "k",
    "mega": "M",
    "deci": "d",
    "centi": "c",
    "milli": "m",
    "micro": "u",
    "nano": "n",
    "pico": "p",
}
# pint base name → UCUM symbol; a unit built of anything else is not a dose (a temperature, a
# pressure) and is refused.
UCUM_OF: Final = {
    "gram": "g",
    "liter": "L",
    "mole": "mol",
    "international_unit": "[iU]",
    "equivalent": "eq",
    "meter": "m",
    "day": "d",
    "hour": "h",
    "minute": "min",
    "second": "s",
    "week": "wk",
    "becquerel": "Bq",
    "curie": "Ci",
    "percent": "%",
    **{name: code for code, name in UCUM_COUNTS.items()},
}
# The units a dose can be *of* (a dose is at least an amount: a mass, a volume, …).
AMOUNTS: Final = frozenset(UCUM_OF) - {"meter", "day", "hour", "minute", "second", "week"}
_FORM = re.compile(r"^[A-Za-z0-9µμ/.*^ \[\]{}%'_-]{1,40}$")


@lru_cache(maxsize=1)
def registry() -> Any:
    ureg: Any = pint.UnitRegistry()
    ureg.define("international_unit = [biological_activity] = IU = iu")
    ureg.define("equivalent = [charge_equivalent] = eq = Eq")
    for name in UCUM_COUNTS.values():
        ureg.define(f"{name} = [{name}]")
    return ureg


def _pint_text(text: str) -> str:
    """UCUM spellings pint does not read, in pint's terms: bracketed units, "mg/m2", "mg.kg"."""
    for code, name in UCUM_COUNTS.items():
        text = text.replace(code, f" {name} ")
    text = text.replace("[iU]", "IU").replace("'", "")
    text = re.sub(r"(?<=[A-Za-z])(\d)", r"**\1", text)
    return re.sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", "*", text).strip()


def dose_unit(spelling: str, field: str = "dose_unit") -> str:
    """The UCUM code of a dose unit pint knows ("milligram" → "mg", "mcg/kg" → "ug/kg"), or a
    refusal naming what is wrong."""
    text = (spelling or "").strip()
    if not text:
        raise InvalidInput("the dose needs its unit (mg, mL, IU, tablet…)", field=field)
    if not _FORM.match(text):
        raise InvalidInput(f"{text[:40]!r} is not a dose unit", field=field)
    ureg = registry()
    try:
        unit = ureg.Unit(_pint_text(text.replace("mcg", "ug")))
    except Exception:
        raise InvalidInput(
            f"unknown dose unit {text[:40]!r}: pint does not know it (use e.g. mg, ug, mL, IU, "
            "mg/kg, tablet)",
            field=field,
        ) from None
    up: list[str] = []
    down: list[str] = []
    amount = False
    for name, power in unit._units.items():
        # "mg**0.5" or "mg*mg" is not a dose: whole powers only, an amount counted once.
        if power != int(power) or not 1 <= abs(power) <= 3:
            raise InvalidInput(
                f"{text[:40]!r} is not a dose unit (a power of {power:g} of {name})", field=field
            )
        prefix, base, _suffix = ureg.parse_unit_name(name)[0]
        if base not in UCUM_OF or prefix not in PREFIXES:
            raise InvalidInput(
                f"{text[:40]!r} is not a dose unit (it is made of {name})", field=field
            )
        if base in AMOUNTS and power > 1:
            raise InvalidInput(
                f"{text[:40]!r} is not a dose unit ({name} to the power {power:g})", field=field
            )
        amount = amount or (base in AMOUNTS and power > 0)
        exponent = abs(int(power))
        symbol = PREFIXES[prefix] + UCUM_OF[base] + (str(exponent) if exponent != 1 else "")
        (up if power > 0 else down).append(symbol)
    if not amount:
        raise InvalidInput(
            f"{text[:40]!r} is not a dose unit: a dose is an amount (mass, volume, units, "
            "tablets…)",
            field=field,
        )
    return ".".join(up) + "".join(f"/{d}" for d in down)


def dose_value(raw: str | None, field: str = "dose_value") -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ".") if text.count(",") == 1 else text)
    except InvalidOperation:
        raise InvalidInput(f"the dose must be a number, not {text[:20]!r}", field=field) from None
    if not value.is_finite() or value <= 0 or value > MAX_DOSE:
        raise InvalidInput(
            f"a dose of {text[:20]} is not possible: it must be above 0 and at most {MAX_DOSE}",
            field=field,
        )
    return value.normalize() if value == value.to_integral() else value


def route(spelling: str, field: str = "route") -> str:
    """The E2B route code ("048") of a code or a route's name ("oral"), or a refusal."""
    text = (spelling or "").strip()
    if not text:
        return ""
    if text.isdecimal() and text.zfill(3) in ROUTES:
        return text.zfill(3)
    for code, name in ROUTES.items():
        if name.lower() == text.lower() or name.split(" (")[0].lower() == text.lower():
            return code
    raise InvalidInput(
        f"unknown route of administration {text[:40]!r}: use an E2B route code (048 oral, "
        "030 intramuscular, 058 subcutaneous, …) or its name",
        field=field,
    )


def route_name(code: str) -> str:
    return ROUTES.get(code, code)


def weight_kg(raw: str | None, field: str = "patient_weight") -> Decimal | None:
    """The patient's weight in kilograms; none given is None; ≤ 0 or > 650 kg refused."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(
            f"the patient's weight must be a number of kilograms, not {text[:20]!r}", field=field
        ) from None
    if not value.is_finite() or value <= 0 or value > MAX_WEIGHT_KG:
        raise InvalidInput(
            f"a weight of {text[:20]} kg is not possible: it must be above 0 and at most "
            f"{MAX_WEIGHT_KG} kg",
            field=field,
        )
    return value.quantize(Decimal("0.01"))


def decimal_text(value: Decimal | None) -> str | None:
    """A stored number as a person writes it (Numeric columns hand back 5.000000)."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return text


def dose_text(value: Decimal | None, unit: str) -> str:
    """ "5 mg" for a page; "" when no dose was reported."""
    number = decimal_text(value)
    return f"{number} {unit}".strip() if number is not None else ""


def in_unit(value: Decimal, unit: str, target: str) -> float | None:
    """``value unit`` expressed in ``target`` (both UCUM codes held by cases), or None when the
    two are not the same kind of quantity (mg against mg/kg)."""
    ureg = registry()
    try:
        quantity = ureg.Quantity(float(value), _pint_text(unit))
        return float(quantity.to(_pint_text(target)).magnitude)
    except Exception:
        return None
