"""Registering a source system with its mapping (how its files map onto our entities), checked
before it is stored: a mapping that names a field we don't have, a time zone that does not
exist or a unit pint does not know would otherwise quarantine every row of every delivery."""

from __future__ import annotations

import json
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.governance.units import UnitProblem, convert
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import DataSource

# The keys a mapping may carry, by kind; a kind not listed here (its connector reads its own
# options) gets the common checks only.
COMMON: Final = frozenset({"format", "delimiter", "timezone", "columns", "json_key"})
KEYS: Final[dict[str, frozenset[str]]] = {
    "lims": COMMON,
    "mes": COMMON | {"entity", "parameters"},
    "faers": frozenset({"json_key"}),
    "gs1": frozenset(),
}
MAX_MAPPING_BYTES: Final = 64 * 1024


def _fields(kind: str) -> set[str]:
    specs = ingest.connector_for(kind).specs
    names = {f.name for spec in specs.values() for f in spec.fields}
    names |= {f.unit_field for spec in specs.values() for f in spec.fields if f.unit_field}
    if len(specs) > 1:
        names.add("record_type")
    return names


def _problems(kind: str, mapping: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    allowed = KEYS.get(kind)
    if allowed is not None:
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            problems.append(
                f"unknown key(s) {', '.join(unknown)}; a {kind} mapping may have "
                f"{', '.join(sorted(allowed)) or 'no keys'}"
            )
    if mapping.get("format") not in (None, "csv", "json") and allowed is not None:
        problems.append(f"format {mapping['format']!r}: csv or json")
    delimiter = mapping.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        problems.append("delimiter: one character")
    zone = mapping.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone {zone!r} is not an IANA time zone (Europe/Amsterdam)")
    columns = mapping.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        problems.append("columns: an object of source column → field name")
    else:
        fields = _fields(kind)
        wrong = sorted({v for v in columns.values() if v not in fields})
        if wrong:
            problems.append(
                f"columns map onto unknown field(s) {', '.join(wrong)}; fields: "
                f"{', '.join(sorted(fields))}"
            )
    parameters = mapping.get("parameters", {})
    if not isinstance(parameters, dict):
        problems.append("parameters: an object of parameter → unit")
    else:
        for name, unit in parameters.items():
            try:
                convert(0.0, str(unit), str(unit))
            except UnitProblem as err:
                problems.append(f"parameters.{name}: {err}")
    entity = mapping.get("entity")
    if entity is not None and entity not in ingest.connector_for(kind).specs:
        problems.append(f"entity {entity!r}: one of {', '.join(ingest.connector_for(kind).specs)}")
    return problems


def read_mapping(kind: str, text: bytes | str) -> dict[str, Any]:
    """A mapping file's content, checked: the reasons it can't be used, all at once."""
    ingest.connector_for(kind)
    if len(text) > MAX_MAPPING_BYTES:
        raise InvalidInput(f"a mapping is at most {MAX_MAPPING_BYTES:,} bytes", field="mapping")
    try:
        mapping = json.loads(text) if text else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidInput(f"the mapping is not JSON: {err}", field="mapping") from None
    if not isinstance(mapping, dict):
        raise InvalidInput("a mapping is a JSON object", field="mapping")
    problems = _problems(kind, mapping)
    if problems:
        raise InvalidInput(
            "the mapping can't be used: " + "; ".join(problems), field="mapping", reasons=problems
        )
    return mapping


def register(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    mapping: bytes | str | dict[str, Any],
) -> DataSource:
    checked = read_mapping(kind, mapping if not isinstance(mapping, dict) else json.dumps(mapping))
    if not code.strip() or len(code) > 60:
        raise InvalidInput("a source code is 1 to 60 characters", field="code")
    return ingest.register_source(
        session,
        actor=actor,
        code=code.strip(),
        name=name.strip() or code,
        kind=kind,
        mapping=checked,
    )
