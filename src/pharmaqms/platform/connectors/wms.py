"""WMS/TMS connector (source kind ``wms``): stock movements — receipts, moves, picks,
shipments, returns and adjustments — as CSV or JSON, one movement per row, with a column
mapping per source system like the LIMS connector.

A row names its type (``movement_type``), the product (``gtin`` or ``product_code``), the
``lot_number``, the ``quantity`` in a count ``unit`` (ea, pcs, pack, dozen…), the locations it
goes ``from_location`` and ``to_location`` (our location codes or GLNs; which sides a type
needs: ``platform/inventory/movements.py``), when (``moved_at``, ISO 8601 with its UTC offset,
or local time in the zone the source declares), the WMS's own ``reference`` of the movement
and optionally the ``order`` (or shipment) it belongs to.

Each row is checked on its own and a bad one is quarantined with specific reasons, never
dropped: a negative or zero quantity, a unit that is not a count, a product, lot or location we
don't know, a pick or shipment of more than is on hand where it is taken from. A movement is
stored once: the same ``reference`` of the same lot sent again is a duplicate (changed values
under a known reference are quarantined as a conflict)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.platform.connectors.tabular import (
    apply_mapping,
    csv_records,
    json_records,
    sniff_format,
)
from pharmaqms.platform.governance.rules import (
    Checked,
    Correction,
    EntitySpec,
    FieldSpec,
    Problem,
)
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.inventory.matching import WMS as WMS_CHANNEL
from pharmaqms.platform.inventory.movements import (
    COUNT_UNIT,
    SIDES,
    CountProblem,
    MovementType,
    packs_per_unit,
)
from pharmaqms.platform.inventory.record import MovementDraft, record_movement
from pharmaqms.platform.masterdata.models import Location, Lot, LotKind, Product
from pharmaqms.platform.traceability.models import Shipment

ENTITY: Final = "inventory_movement"
# Column names WMS exports commonly use.
DEFAULT_COLUMNS: Final = {
    "type": "movement_type",
    "lot": "lot_number",
    "batch": "lot_number",
    "qty": "quantity",
    "uom": "unit",
    "from": "from_location",
    "to": "to_location",
    "timestamp": "moved_at",
    "order_reference": "order",
    "shipment": "order",
}


def _quantity_and_unit(values: dict[str, Any]) -> list[Problem]:
    """A positive whole number of packs, in a count unit (converted: 2 dozen → 24 packs)."""
    quantity = values["quantity"]
    if quantity < 0:
        return [
            Problem(
                "quantity",
                "negative_quantity",
                f"quantity: {quantity:g} is negative; a movement out is sent with its "
                "from_location, a correction as an adjustment",
            )
        ]
    if quantity == 0:
        return [Problem("quantity", "zero_quantity", "quantity: a movement of nothing")]
    factor = packs_per_unit(values["unit"])
    if isinstance(factor, CountProblem):
        return [Problem("unit", factor.code, f"unit: {factor.message}")]
    packs = quantity * factor
    if packs != int(packs):
        return [
            Problem("quantity", "not_whole", f"quantity: {packs:g} packs is not a whole number")
        ]
    return []


def _in_packs(checked: Checked) -> tuple[float, str]:
    """The quantity in packs; a conversion (2 dozen → 24 pack) is kept in the lineage."""
    quantity, unit = checked.values["quantity"], checked.values["unit"]
    factor = packs_per_unit(unit)
    assert not isinstance(factor, CountProblem)  # the cross check refused it otherwise
    packs = float(quantity * factor)
    if factor != 1:  # "ea", "pcs", "units" are other names of one pack, not a change
        checked.corrections.append(
            Correction(
                "quantity", f"{quantity:g} {unit}", f"{packs:g} {COUNT_UNIT}", f"unit:{unit}→pack"
            )
        )
    return packs, COUNT_UNIT


def _product_named(values: dict[str, Any]) -> list[Problem]:
    if not values.get("gtin") and not values.get("product_code"):
        return [Problem("gtin", "missing", "a movement names its product: gtin or product_code")]
    return []


def _sides(values: dict[str, Any]) -> list[Problem]:
    kind = MovementType(values["movement_type"])
    origin, target = values.get("from_location"), values.get("to_location")
    if kind is MovementType.ADJUSTMENT:
        if bool(origin) == bool(target):
            return [
                Problem(
                    "from_location",
                    "missing_location",
                    "an adjustment names one location: from_location (less found) or "
                    "to_location (more found)",
                )
            ]
        return []
    need_from, need_to = SIDES[kind]
    problems = []
    if need_from and not origin:
        problems.append(
            Problem("from_location", "missing_location", f"a {kind} names its from_location")
        )
    if need_to and not target:
        problems.append(
            Problem("to_location", "missing_location", f"a {kind} names its to_location")
        )
    if origin and target and origin == target:
        problems.append(Problem("to_location", "same_location", f"from and to are both {origin}"))
    return problems


INVENTORY_MOVEMENT = EntitySpec(
    entity=ENTITY,
    fields=(
        FieldSpec("movement_type", choices=tuple(t.value for t in MovementType)),
        FieldSpec("gtin", "gtin", required=False),
        FieldSpec("product_code", required=False, max_length=40),
        FieldSpec("lot_number", max_length=40),
        FieldSpec("quantity", "float"),
        FieldSpec("unit", max_length=20),
        FieldSpec("from_location", required=False, max_length=60),
        FieldSpec("to_location", required=False, max_length=60),
        FieldSpec("moved_at", "datetime"),
        FieldSpec("reference", max_length=80),
        FieldSpec("order", required=False, max_length=80),
    ),
    natural_key=("reference", "gtin", "product_code", "lot_number"),
    checks=(_product_named, _quantity_and_unit, _sides),
)
SPECS: dict[str, EntitySpec] = {ENTITY: INVENTORY_MOVEMENT}


def _product(session: Session, values: dict[str, Any]) -> Product | Problem:
    gtin, code = values.get("gtin"), values.get("product_code")
    found = None
    if gtin:
        found = session.scalars(select(Product).where(Product.gtin == gtin)).first()
        if found is None:
            return Problem("gtin", "unknown_product", f"no product with GTIN {gtin} is known")
        if code and found.code != code:
            return Problem(
                "product_code",
                "product_mismatch",
                f"GTIN {gtin} is {found.code}, not {code}",
            )
        return found
    found = session.scalars(select(Product).where(Product.code == code)).first()
    if found is None:
        return Problem("product_code", "unknown_product", f"no product {code} is known")
    return found


def _location(session: Session, field: str, text: str | None) -> Location | Problem | None:
    """Our location by code, or by GLN (13 digits)."""
    if not text:
        return None
    found = session.scalars(
        select(Location).where(or_(Location.code == text, Location.gln == text))
    ).first()
    if found is None:
        return Problem(field, "unknown_location", f"{field}: no location {text} is known")
    return found


class WmsConnector:
    kind = "wms"
    specs = SPECS

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        columns = {**DEFAULT_COLUMNS, **mapping.get("columns", {})}
        fmt = sniff_format(content, mapping.get("format"))
        records = (
            json_records(content, mapping.get("json_key"))
            if fmt == "json"
            else csv_records(content, mapping.get("delimiter"))
        )
        for position, values in records:
            yield SourceRow(ENTITY, position, apply_mapping(values, columns))

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        session, v = ctx.session, checked.values
        problems: list[Problem] = []
        product = _product(session, v)
        lot = None
        if isinstance(product, Problem):
            problems.append(product)
        else:
            lot = session.scalars(
                select(Lot).where(
                    Lot.kind == LotKind.FINISHED.value,
                    Lot.product_id == product.id,
                    Lot.lot_number == v["lot_number"],
                )
            ).first()
            if lot is None:
                problems.append(
                    Problem(
                        "lot_number",
                        "unknown_lot",
                        f"no lot {v['lot_number']} of {product.code} is known",
                    )
                )
        places = {}
        for field in ("from_location", "to_location"):
            place = _location(session, field, v.get(field))
            if isinstance(place, Problem):
                problems.append(place)
            else:
                places[field] = place
        if problems or lot is None:
            return Stored(problems=problems)
        order = v.get("order")
        shipment_id = None
        if order and v["movement_type"] == MovementType.SHIPMENT:
            shipment_id = session.scalar(select(Shipment.id).where(Shipment.code == order))
        quantity, unit = _in_packs(checked)
        recorded = record_movement(
            session,
            MovementDraft(
                lot_id=lot.id,
                movement_type=v["movement_type"],
                quantity=quantity,
                unit=unit,
                moved_at=v["moved_at"],
                reference=v["reference"],
                from_location=places.get("from_location"),
                to_location=places.get("to_location"),
                order_reference=order,
                shipment_id=shipment_id,
                run_id=ctx.run_id,
                source_id=ctx.source_id,
                channel=WMS_CHANNEL,
            ),
        )
        if recorded.problem is not None:
            return Stored(problems=[recorded.problem])
        assert recorded.movement is not None
        return Stored(
            entity_id=recorded.movement.id,
            duplicate=recorded.duplicate,
            measured_at=v["moved_at"],
        )


WMS = register_connector(WmsConnector())
