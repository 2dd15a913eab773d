"""MES connector: electronic batch records in ISA-88 terms (batch → unit procedure → operation →
phase), as CSV or JSON. Three kinds of record, which one file may mix:

* ``batch``: product code, lot number, quantity and unit, manufactured on, manufacturing end
  time (and the expiry date where the MES assigns it). A new batch is registered as a finished
  lot in quarantine; a known one is a duplicate, or is completed where a value was still
  missing (the end time arrives when the batch ends); a value that contradicts the lot is
  quarantined — master data is changed by a person, not overwritten by a re-delivery.
* ``process_reading``: the batch, where in the procedure (unit procedure, operation, phase,
  equipment), the parameter, its value and unit, and when it was measured. Temperatures are
  stored in °C and pressures in bar, or in the unit the source declares for the parameter
  (mapping ``{"parameters": {"chamber_pressure": "mbar"}}``); a conversion keeps the original.
* ``material_consumption``: which material lot, how much, at which step went into the batch
  (the upward genealogy); the quantity is stored in the material's unit.

CSV: a ``record_type`` column names the kind of each line; cells of the columns another kind
uses are left empty. JSON: a list of objects with a ``record_type`` key (or ``{"records": [...]}``),
or an object with one list per kind: ``{"batch": [...], "process_reading": [...]}``. A source
whose files hold one kind only says so in its mapping: ``{"entity": "process_reading"}``.

Batch records are taken before the readings and consumptions that refer to them, whatever
their order in the file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Final

from pharmaqms.kernel.errors import DocumentRefused
from pharmaqms.platform.connectors.mes_store import (
    store_batch,
    store_consumption,
    store_reading,
)
from pharmaqms.platform.connectors.tabular import (
    apply_mapping,
    csv_records,
    decode,
    json_records,
    load_json,
    sniff_format,
)
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.gs1 import GS1_LOT
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector

ISA88 = 80


def _batch_dates(values: dict[str, Any]) -> list[Problem]:
    made: date | None = values.get("manufactured_on")
    ended: datetime | None = values.get("manufacturing_ended_at")
    expires: date | None = values.get("expires_on")
    problems = []
    if made and ended and ended.date() < made:
        problems.append(
            Problem(
                "manufacturing_ended_at",
                "ends_before_start",
                f"manufacturing ended {ended:%Y-%m-%d %H:%M} UTC, before it started on {made}",
            )
        )
    if made and expires and expires <= made:
        problems.append(
            Problem("expires_on", "expires_before_made", f"expiry {expires} is not after {made}")
        )
    return problems


BATCH = EntitySpec(
    entity="batch",
    fields=(
        FieldSpec("item_code", max_length=40),
        FieldSpec("lot_number", pattern=GS1_LOT),
        FieldSpec("quantity", "float", minimum=0),
        FieldSpec("unit", max_length=20),
        FieldSpec("manufactured_on", "date"),
        FieldSpec("manufacturing_ended_at", "datetime", required=False),
        FieldSpec("expires_on", "date", required=False),
    ),
    natural_key=("item_code", "lot_number"),
    checks=(_batch_dates,),
)

PROCESS_READING = EntitySpec(
    entity="process_reading",
    fields=(
        FieldSpec("lot_number", max_length=20),
        FieldSpec("item_code", required=False, max_length=40),
        FieldSpec("unit_procedure", required=False, max_length=ISA88),
        FieldSpec("operation", required=False, max_length=ISA88),
        FieldSpec("phase", required=False, max_length=ISA88),
        FieldSpec("equipment", required=False, max_length=ISA88),
        FieldSpec("parameter", max_length=ISA88),
        FieldSpec("value", "float"),
        FieldSpec("unit", required=False, max_length=20),
        FieldSpec("measured_at", "datetime"),
    ),
    natural_key=(
        "item_code",
        "lot_number",
        "unit_procedure",
        "operation",
        "phase",
        "parameter",
        "measured_at",
    ),
)

MATERIAL_CONSUMPTION = EntitySpec(
    entity="material_consumption",
    fields=(
        FieldSpec("lot_number", max_length=20),
        FieldSpec("item_code", required=False, max_length=40),
        FieldSpec("material_code", max_length=40),
        FieldSpec("material_lot", max_length=40),
        FieldSpec("quantity", "float", minimum=0),
        FieldSpec("unit", max_length=20),
        FieldSpec("step", required=False, max_length=120),
        FieldSpec("consumed_at", "datetime"),
    ),
    natural_key=("item_code", "lot_number", "material_code", "material_lot", "step", "consumed_at"),
)

SPECS: Final[dict[str, EntitySpec]] = {
    spec.entity: spec for spec in (BATCH, PROCESS_READING, MATERIAL_CONSUMPTION)
}
# Batches first: the other records refer to them.
ORDER: Final = {"batch": 0, "material_consumption": 1, "process_reading": 2}
_ALL_FIELDS: Final = frozenset(f.name for spec in SPECS.values() for f in spec.fields)


def _json_sections(content: bytes) -> Iterator[tuple[str, dict[str, Any]]] | None:
    """``{"batch": [...], "process_reading": [...]}``: records grouped by kind."""
    document = load_json(decode(content))
    if not isinstance(document, dict) or not set(document) & set(SPECS):
        return None
    unknown = sorted(set(document) - set(SPECS))
    if unknown:
        raise DocumentRefused(
            f"unknown section(s) {', '.join(unknown)}: an MES document holds {', '.join(SPECS)}"
        )

    def records() -> Iterator[tuple[str, dict[str, Any]]]:
        for entity, items in document.items():
            if not isinstance(items, list):
                raise DocumentRefused(f"the section {entity!r} is not a list of records")
            for index, item in enumerate(items):
                position = f"{entity}[{index}]"
                if isinstance(item, dict):
                    yield position, {"record_type": entity, **item}
                else:
                    yield position, {"record_type": entity, "__malformed__": "not an object"}

    return records()


def _entity_row(position: str, values: dict[str, Any], fixed: str | None) -> SourceRow:
    kind = values.pop("record_type", None)
    entity = fixed or (str(kind).strip() if kind not in (None, "") else "")
    if not entity:
        # The ingest service reports an entity this source does not deliver by its name.
        entity = "(no record_type)"
    spec = SPECS.get(entity)
    if spec is not None:
        own = {f.name for f in spec.fields}
        # A mixed CSV has every kind's columns: the empty cells of the others are not data.
        values = {
            k: v
            for k, v in values.items()
            if k in own or k not in _ALL_FIELDS or v not in (None, "")
        }
    return SourceRow(entity[:40], position, values)


class MesConnector:
    kind = "mes"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        columns = mapping.get("columns", {})
        fixed = mapping.get("entity")
        if fixed is not None and fixed not in SPECS:
            raise DocumentRefused(f"the source's mapping names an unknown entity {fixed!r}")
        records: Iterator[tuple[str, dict[str, Any]]]
        if sniff_format(content, mapping.get("format")) == "json":
            records = _json_sections(content) or json_records(content, mapping.get("json_key"))
        else:
            records = csv_records(content, mapping.get("delimiter"))
        found = [
            _entity_row(position, apply_mapping(values, columns), fixed)
            for position, values in records
        ]
        # A stable sort: within a kind, the order of the file.
        yield from sorted(found, key=lambda row: ORDER.get(row.entity, 3))

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        if entity == "batch":
            return store_batch(ctx, checked)
        if entity == "process_reading":
            return store_reading(ctx, checked)
        return store_consumption(ctx, checked)


MES = register_connector(MesConnector())
