"""The register as a file: the shipped seed, ``pharmaqms compliance import`` and ``export`` all
use this one JSON format. Reading checks the whole file before anything is written and names
the place of the first fault (a JSON syntax error by line and column, a bad value by its path,
e.g. ``regulations[2].requirements[4].clause``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from pharmaqms.compliance.models import ControlKind
from pharmaqms.kernel.errors import InvalidInput

FORMAT = "pharmaqms-regulations"
FORMAT_VERSION = 1
MAX_REGULATIONS = 500
MAX_REQUIREMENTS = 1000
MAX_CONTROLS = 50

# Field → longest text its column takes (kept equal to models.py).
_LIMITS = {
    "code": 60,
    "title": 300,
    "issuer": 120,
    "jurisdiction": 60,
    "edition": 60,
    "source_url": 500,
    "clause": 60,
    "summary": 4000,
    "applies_to": 300,
    "reference": 300,
    "kind": 20,
    "note": 2000,
}


@dataclass(frozen=True)
class ControlEntry:
    kind: str
    reference: str
    note: str = ""


@dataclass(frozen=True)
class RequirementEntry:
    clause: str
    summary: str
    applies_to: tuple[str, ...] = ()
    controls: tuple[ControlEntry, ...] = ()


@dataclass(frozen=True)
class RegulationEntry:
    code: str
    title: str
    issuer: str
    jurisdiction: str
    edition: str
    effective_on: date | None
    source_url: str
    requirements: tuple[RequirementEntry, ...]


def _text(obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = obj.get(key, None if required else "")
    if not isinstance(value, str):
        raise InvalidInput(f"{path}.{key} must be text", field=f"{path}.{key}")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{path}.{key} is empty", field=f"{path}.{key}")
    if len(value) > _LIMITS[key]:
        raise InvalidInput(
            f"{path}.{key} is longer than {_LIMITS[key]} characters", field=f"{path}.{key}"
        )
    return value


def _object(value: Any, path: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{path} must be an object", field=path)
    unknown = sorted(set(value) - keys)
    if unknown:
        raise InvalidInput(f"{path} has unknown field(s): {', '.join(unknown)}", field=path)
    return value


def _list(value: Any, path: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{path} must be a list", field=path)
    if len(value) > limit:
        raise InvalidInput(f"{path} has more than {limit} entries", field=path)
    return value


def _control(value: Any, path: str) -> ControlEntry:
    obj = _object(value, path, {"kind", "reference", "note"})
    kind = _text(obj, "kind", path)
    kinds = [k.value for k in ControlKind]
    if kind not in kinds:
        raise InvalidInput(
            f"{path}.kind must be one of {', '.join(kinds)}, not {kind!r}", field=f"{path}.kind"
        )
    return ControlEntry(
        kind, _text(obj, "reference", path), _text(obj, "note", path, required=False)
    )


def _requirement(value: Any, path: str) -> RequirementEntry:
    obj = _object(value, path, {"clause", "summary", "applies_to", "controls"})
    applies = _list(obj.get("applies_to", []), f"{path}.applies_to", 30)
    if not all(isinstance(a, str) and a.strip() and "," not in a for a in applies):
        raise InvalidInput(
            f"{path}.applies_to must list module or process names (text without commas)",
            field=f"{path}.applies_to",
        )
    names = tuple(a.strip() for a in applies)
    if len(", ".join(names)) > _LIMITS["applies_to"]:
        raise InvalidInput(f"{path}.applies_to is too long", field=f"{path}.applies_to")
    controls = _list(obj.get("controls", []), f"{path}.controls", MAX_CONTROLS)
    return RequirementEntry(
        clause=_text(obj, "clause", path),
        summary=_text(obj, "summary", path),
        applies_to=names,
        controls=tuple(_control(c, f"{path}.controls[{i}]") for i, c in enumerate(controls)),
    )


def _date(obj: dict[str, Any], path: str) -> date | None:
    value = obj.get("effective_on")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    # Neither a date nor null (a number, a list…): refused, never read as "no date".
    raise InvalidInput(
        f"{path}.effective_on must be a date as YYYY-MM-DD or null", field=f"{path}.effective_on"
    )


def _regulation(value: Any, path: str) -> RegulationEntry:
    keys = {"code", "title", "issuer", "jurisdiction", "edition", "effective_on"}
    obj = _object(value, path, keys | {"source_url", "requirements"})
    # Checked in the order a person reads the entry: its heading, then its requirements.
    code, title = _text(obj, "code", path), _text(obj, "title", path)
    issuer, jurisdiction = _text(obj, "issuer", path), _text(obj, "jurisdiction", path)
    edition, effective_on = _text(obj, "edition", path), _date(obj, path)
    source_url = _text(obj, "source_url", path, required=False)
    requirements = _list(obj.get("requirements"), f"{path}.requirements", MAX_REQUIREMENTS)
    parsed = tuple(_requirement(r, f"{path}.requirements[{i}]") for i, r in enumerate(requirements))
    seen: set[str] = set()
    for i, requirement in enumerate(parsed):
        if requirement.clause in seen:
            field = f"{path}.requirements[{i}].clause"
            raise InvalidInput(f"{field}: clause {requirement.clause!r} appears twice", field=field)
        seen.add(requirement.clause)
    return RegulationEntry(
        code=code,
        title=title,
        issuer=issuer,
        jurisdiction=jurisdiction,
        edition=edition,
        effective_on=effective_on,
        source_url=source_url,
        requirements=parsed,
    )


def parse_register(text: str) -> list[RegulationEntry]:
    """The regulations a register file holds, or ``InvalidInput`` naming the first fault."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
            field=f"line {err.lineno}",
        ) from None
    top = _object(document, "file", {"format", "format_version", "regulations"})
    if top.get("format") != FORMAT or top.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(
            f"not a register file: expected format {FORMAT!r} version {FORMAT_VERSION}",
            field="format",
        )
    items = _list(top.get("regulations"), "regulations", MAX_REGULATIONS)
    entries = [_regulation(r, f"regulations[{i}]") for i, r in enumerate(items)]
    codes: set[str] = set()
    for i, entry in enumerate(entries):
        if entry.code in codes:
            field = f"regulations[{i}].code"
            raise InvalidInput(f"{field}: {entry.code!r} appears twice in the file", field=field)
        codes.add(entry.code)
    return entries


def dump_register(entries: list[RegulationEntry]) -> str:
    """The file text of these regulations (what ``parse_register`` reads back)."""
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "regulations": [
            {
                "code": e.code,
                "title": e.title,
                "issuer": e.issuer,
                "jurisdiction": e.jurisdiction,
                "edition": e.edition,
                "effective_on": e.effective_on.isoformat() if e.effective_on else None,
                "source_url": e.source_url,
                "requirements": [
                    {
                        "clause": r.clause,
                        "summary": r.summary,
                        "applies_to": list(r.applies_to),
                        "controls": [
                            {"kind": c.kind, "reference": c.reference, "note": c.note}
                            for c in r.controls
                        ],
                    }
                    for r in e.requirements
                ],
            }
            for e in entries
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def shipped_register() -> list[RegulationEntry]:
    """The register that ships with pharmaqms (compliance/data/register.json)."""
    text = resources.files("pharmaqms.compliance").joinpath("data/register.json").read_text("utf-8")
    return parse_register(text)
