"""Master data and lot services. A lot's status changes only here, each change audited with
its reason; quality modules call ``set_lot_status`` (release, hold, reject, recall)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.governance.rules import gtin_check_digit_ok
from pharmaqms.platform.governance.units import same_unit
from pharmaqms.platform.gs1 import lot_number_problem
from pharmaqms.platform.masterdata import holds
from pharmaqms.platform.masterdata.models import (
    Location,
    LocationKind,
    Lot,
    LotKind,
    LotStatus,
    Material,
    Product,
    Supplier,
)

# Which status may follow which: a rejected or recalled lot never comes back by itself.
LOT_STATUS_MOVES: dict[str, frozenset[str]] = {
    LotStatus.QUARANTINE: frozenset({LotStatus.RELEASED, LotStatus.ON_HOLD, LotStatus.REJECTED}),
    LotStatus.RELEASED: frozenset({LotStatus.ON_HOLD, LotStatus.RECALLED, LotStatus.EXPIRED}),
    LotStatus.ON_HOLD: frozenset(
        {LotStatus.RELEASED, LotStatus.QUARANTINE, LotStatus.REJECTED, LotStatus.RECALLED}
    ),
    LotStatus.REJECTED: frozenset(),
    LotStatus.EXPIRED: frozenset(),
    LotStatus.RECALLED: frozenset({LotStatus.REJECTED}),
}


def normalise_gtin(gtin: str) -> str:
    digits = (gtin or "").strip()
    if not digits.isdecimal() or len(digits) not in (8, 12, 13, 14):
        raise InvalidInput(f"{gtin!r} is not a GTIN (8, 12, 13 or 14 digits)", field="gtin")
    if not gtin_check_digit_ok(digits):
        raise InvalidInput(f"{gtin} has a wrong GS1 check digit", field="gtin")
    return digits.zfill(14)


MATERIAL_KINDS = ("api", "excipient", "packaging", "intermediate", "solvent", "reagent")


def normalise_gln(gln: str | None, field: str = "gln") -> str | None:
    """A Global Location Number: 13 digits with a valid GS1 check digit, or nothing."""
    text = (gln or "").strip()
    if not text:
        return None
    if not text.isdecimal() or len(text) != 13:
        raise InvalidInput(f"{gln!r} is not a GLN (13 digits)", field=field)
    if not gtin_check_digit_ok(text):
        raise InvalidInput(f"{text} has a wrong GS1 check digit", field=field)
    return text


def check_position(
    latitude: float | None, longitude: float | None, region: str | None
) -> tuple[float | None, float | None, str | None]:
    """Coordinates in WGS 84 decimal degrees, both or neither (a point needs both), and the
    region of the ambient profile (trimmed; empty: none)."""
    if (latitude is None) != (longitude is None):
        field = "longitude" if longitude is None else "latitude"
        raise InvalidInput("give both latitude and longitude, or neither", field=field)
    if latitude is not None and longitude is not None:
        if not (math.isfinite(latitude) and -90.0 <= latitude <= 90.0):
            raise InvalidInput(f"latitude {latitude} is not within −90..90", field="latitude")
        if not (math.isfinite(longitude) and -180.0 <= longitude <= 180.0):
            raise InvalidInput(f"longitude {longitude} is not within −180..180", field="longitude")
    text = (region or "").strip()
    if len(text) > 40:
        raise InvalidInput("a region is at most 40 characters", field="region")
    return latitude, longitude, text or None


def _code(code: str, field: str = "code") -> str:
    text = (code or "").strip()
    if not text:
        raise InvalidInput("a code is required", field=field)
    return text


def add_product(
    session: Session, *, actor: Actor, gtin: str, code: str, name: str, **details: Any
) -> Product:
    actor.require("data.manage", "maintain master data")
    product = Product(gtin=normalise_gtin(gtin), code=_code(code), name=name.strip(), **details)
    if session.scalars(
        select(Product).where((Product.gtin == product.gtin) | (Product.code == product.code))
    ).first():
        raise Conflict(f"a product with GTIN {product.gtin} or code {product.code} exists already")
    with audit.changes(session, actor=actor, reason="product master data created"):
        session.add(product)
    return product


def add_material(
    session: Session, *, actor: Actor, code: str, name: str, kind: str, unit: str = "kg"
) -> Material:
    actor.require("data.manage", "maintain master data")
    code = _code(code)
    if kind not in MATERIAL_KINDS:
        raise InvalidInput(
            f"unknown material kind {kind!r}; one of {', '.join(MATERIAL_KINDS)}", field="kind"
        )
    if not same_unit(unit, unit):  # a unit pint knows, so quantities convert
        raise InvalidInput(f"unknown unit {unit!r}", field="unit")
    if session.scalars(select(Material).where(Material.code == code)).first():
        raise Conflict(f"a material {code} exists already")
    material = Material(code=code, name=name.strip(), kind=kind, unit=unit.strip())
    with audit.changes(session, actor=actor, reason="material master data created"):
        session.add(material)
    return material


def add_supplier(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    country: str = "",
    gln: str | None = None,
) -> Supplier:
    actor.require("data.manage", "maintain master data")
    code = _code(code)
    if session.scalars(select(Supplier).where(Supplier.code == code)).first():
        raise Conflict(f"a supplier {code} exists already")
    supplier = Supplier(code=code, name=name.strip(), country=country, gln=normalise_gln(gln))
    with audit.changes(session, actor=actor, reason="supplier master data created"):
        session.add(supplier)
    return supplier


def add_location(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    gln: str | None = None,
    epc_uri: str | None = None,
    country: str = "",
    is_customer: bool = False,
    latitude: float | None = None,
    longitude: float | None = None,
    region: str | None = None,
) -> Location:
    actor.require("data.manage", "maintain master data")
    code = _code(code)
    gln = normalise_gln(gln)
    latitude, longitude, region = check_position(latitude, longitude, region)
    if kind not in {k.value for k in LocationKind}:
        raise InvalidInput(f"unknown location kind {kind!r}", field="kind")
    if session.scalars(select(Location).where(Location.code == code)).first():
        raise Conflict(f"a location {code} exists already")
    location = Location(
        code=code,
        name=name,
        kind=kind,
        gln=gln,
        epc_uri=epc_uri,
        country=country,
        is_customer=is_customer,
        latitude=latitude,
        longitude=longitude,
        region=region,
    )
    with audit.changes(session, actor=actor, reason="location master data created"):
        session.add(location)
    return location


def find_location(session: Session, key: str, field: str = "location") -> Location:
    """A location by its code, its GLN or its id (``#12`` or ``12`` when no code or GLN is
    that text)."""
    text = (key or "").strip()
    if not text:
        raise InvalidInput("name a location (its code, GLN or id)", field=field)
    found = session.scalars(
        select(Location).where((Location.code == text) | (Location.gln == text))
    ).all()
    if len(found) > 1:
        raise InvalidInput(
            f"{text} names several locations ({', '.join(sorted(f.code for f in found))})",
            field=field,
        )
    if found:
        return found[0]
    digits = text.removeprefix("#")
    if digits.isdecimal() and len(digits) < 12:
        by_id = session.get(Location, int(digits))
        if by_id is not None:
            return by_id
    raise NotFound(f"no location {text} (give its code, GLN or id)")


def place_location(
    session: Session,
    *,
    actor: Actor,
    code: str,
    latitude: float | None,
    longitude: float | None,
    region: str | None,
    reason: str,
) -> Location:
    """Set (or clear, with neither) where a location is and the region of its ambient
    profile; audited with the reason, like any master data change."""
    actor.require("data.manage", "maintain master data")
    location = find_location(session, code, field="code")
    latitude, longitude, region = check_position(latitude, longitude, region)
    if not reason.strip():
        raise InvalidInput("a master data change needs a reason", field="reason")
    if (location.latitude, location.longitude, location.region) == (latitude, longitude, region):
        return location
    with audit.changes(session, actor=actor, reason=reason.strip()[:500]):
        location.latitude = latitude
        location.longitude = longitude
        location.region = region
    return location


def add_lot(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    item_code: str,
    lot_number: str,
    quantity: float | None = None,
    unit: str | None = None,
    supplier_code: str | None = None,
    supplier_lot: str | None = None,
    manufactured_on: date | None = None,
    manufacturing_ended_at: datetime | None = None,
    expires_on: date | None = None,
    status: str = LotStatus.QUARANTINE,
) -> Lot:
    """A new batch or material lot; it starts in quarantine until QC/QA decide."""
    actor.require("data.ingest", "register lots")
    lot_kind = LotKind(kind)
    lot = Lot(
        kind=lot_kind.value,
        item_code=item_code,
        lot_number=lot_number.strip(),
        quantity=quantity,
        unit=unit,
        supplier_lot=supplier_lot,
        manufactured_on=manufactured_on,
        manufacturing_ended_at=manufacturing_ended_at,
        expires_on=expires_on,
        status=status,
    )
    wrong = lot_number_problem(lot.lot_number)
    if wrong is not None:
        raise InvalidInput(wrong, field="lot_number")
    if lot_kind == LotKind.FINISHED:
        product = session.scalars(select(Product).where(Product.code == item_code)).first()
        if product is None:
            raise InvalidInput(f"no product {item_code}", field="item_code")
        lot.product_id = product.id
    else:
        material = session.scalars(select(Material).where(Material.code == item_code)).first()
        if material is None:
            raise InvalidInput(f"no material {item_code}", field="item_code")
        lot.material_id = material.id
        if supplier_code:
            supplier = session.scalars(
                select(Supplier).where(Supplier.code == supplier_code)
            ).first()
            if supplier is None:
                raise InvalidInput(f"no supplier {supplier_code}", field="supplier_code")
            lot.supplier_id = supplier.id
    if session.scalars(
        select(Lot).where(
            Lot.kind == lot.kind, Lot.item_code == item_code, Lot.lot_number == lot.lot_number
        )
    ).first():
        raise Conflict(f"lot {lot.lot_number} of {item_code} exists already")
    with audit.changes(session, actor=actor, reason="lot registered"):
        session.add(lot)
    return lot


def batches_made(session: Session, product_code: str, start: date, end: date) -> list[Lot]:
    """The finished batches of a product manufactured in [start, end] (by ``manufactured_on``),
    oldest first: the batches an annual product review counts."""
    return list(
        session.scalars(
            select(Lot)
            .where(
                Lot.kind == LotKind.FINISHED,
                Lot.item_code == product_code,
                Lot.manufactured_on >= start,
                Lot.manufactured_on <= end,
            )
            .order_by(Lot.manufactured_on, Lot.lot_number)
        )
    )


def batch_years(session: Session) -> dict[tuple[str, str], list[int]]:
    """(product code, name) → the years in which batches of it were manufactured, oldest
    first: the product-years that each need an annual product review."""
    year = extract("year", Lot.manufactured_on)
    found: dict[tuple[str, str], list[int]] = {}
    for code, name, made in session.execute(
        select(Product.code, Product.name, year)
        .join(Lot, Lot.item_code == Product.code)
        .where(Lot.kind == LotKind.FINISHED, Lot.manufactured_on.is_not(None))
        .group_by(Product.code, Product.name, year)
        .order_by(Product.code, year)
    ):
        found.setdefault((code, name), []).append(int(made))
    return found


def find_lot(session: Session, lot_number: str, item_code: str | None = None) -> Lot:
    query = select(Lot).where(Lot.lot_number == lot_number)
    if item_code:
        query = query.where(Lot.item_code == item_code)
    lots = list(session.scalars(query))
    if not lots:
        raise NotFound(f"no lot {lot_number}" + (f" of {item_code}" if item_code else ""))
    if len(lots) > 1:
        items = ", ".join(sorted(lot.item_code for lot in lots))
        raise InvalidInput(
            f"lot number {lot_number} exists for several items ({items}): name the item",
            field="item_code",
        )
    return lots[0]


def set_lot_status(
    session: Session, lot: Lot, status: str, *, actor: Actor, reason: str, holder: str = ""
) -> Lot:
    """Release, hold, reject, recall… — the one place a lot's status changes. A move to on hold
    records the hold (``holder``: the number of the record that holds the lot, '' for a person
    acting directly); a move away from on hold lifts every open hold."""
    try:
        target = LotStatus(status)
    except ValueError:
        raise InvalidInput(f"unknown lot status {status!r}", field="status") from None
    if not reason.strip():
        raise InvalidInput("a lot status change needs a reason", field="reason")
    if target == lot.status:
        return lot
    if target not in LOT_STATUS_MOVES[LotStatus(lot.status)]:
        raise Conflict(f"{lot.audit_label()} is {lot.status}: it can't become {target}")
    previous = lot.status
    with audit.changes(session, actor=actor, reason=reason, action=f"lot_{target.value}"):
        lot.status = target
        lot.status_reason = reason
    if target == LotStatus.ON_HOLD:
        holds.record_placed(
            session, lot, actor=actor, holder=holder, reason=reason, previous=previous
        )
    elif previous == LotStatus.ON_HOLD:
        holds.lift_all(session, lot, actor=actor, reason=reason)
    return lot


def name_product_leaflet(
    session: Session, product: Product, number: str | None, *, actor: Actor, reason: str
) -> Product:
    """Name the controlled document that is the product's patient leaflet (``None``: none).
    The platform only keeps the number: whether it names a leaflet in force is the caller's
    check (documents live above the platform)."""
    actor.require("data.manage", "maintain master data")
    if not reason.strip():
        raise InvalidInput("a master data change needs a reason", field="reason")
    if number is not None and not (1 <= len(number) <= 40):
        raise InvalidInput("a document number is 1 to 40 characters", field="document_number")
    with audit.changes(session, actor=actor, reason=reason):
        product.leaflet_document_number = number
    return product
