"""What a person or a system may hand us to start a trace, and what it names.

Accepted (tried in this order):

* an EPC URI or a GS1 Digital Link URI (SGTIN, LGTIN, SSCC, GTIN…);
* a scanned element string or its human-readable ``(01)…(10)…`` form (a pack's DataMatrix:
  GTIN + serial → the pack; GTIN + lot → the lot; AI 00 → the SSCC);
* 18 digits with a valid check digit: an SSCC;
* ``ITEM/LOT`` (item code and lot number) or a bare lot number when only one item has it.

A malformed GS1 identifier raises :class:`~pharmaqms.platform.gs1.GS1Error` (its code names the
rule); anything else that matches nothing raises ``NotFound``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.platform.gs1 import (
    GS1Error,
    GS1ErrorCode,
    GS1Key,
    KeyKind,
    check_digit,
    digital_link_uri,
    parse_gs1,
    parse_identifier,
)
from pharmaqms.platform.masterdata.models import Lot, Material, Product
from pharmaqms.platform.masterdata.service import find_lot
from pharmaqms.platform.traceability.models import SerialisedPack, Shipment


class Subject(StrEnum):
    LOT = "lot"  # a lot class (LGTIN) and/or our lot record
    PACK = "pack"  # a serialised object (SGTIN or any other instance EPC)
    CONTAINER = "container"  # an SSCC
    CLASS = "class"  # a product class (GTIN) or another class identifier
    OBJECT = "object"  # an identifier that is not a GS1 key (a private URI)


@dataclass(frozen=True, slots=True)
class Resolved:
    subject: Subject
    canonical: str
    """The identifier as the event index spells it (canonical Digital Link for GS1 keys)."""
    lot_id: int | None = None
    """Our lot record, when the identifier is one of our lots (or a material lot)."""
    label: str = ""


def _lot_class(session: Session, lot: Lot) -> str | None:
    gtin = None
    if lot.product_id is not None:
        gtin = session.scalar(select(Product.gtin).where(Product.id == lot.product_id))
    elif lot.material_id is not None:
        gtin = session.scalar(select(Material.gtin).where(Material.id == lot.material_id))
    if not gtin:
        return None
    try:
        return digital_link_uri(gtin, lot=lot.lot_number)
    except GS1Error:
        return None  # a lot number outside the GS1 character set has no LGTIN


def of_lot(session: Session, lot: Lot) -> Resolved:
    canonical = _lot_class(session, lot) or f"lot:{lot.item_code}/{lot.lot_number}"
    return Resolved(Subject.LOT, canonical, lot.id, lot.audit_label())


_LOTS, _PRODUCTS, _MATERIALS = Lot.__table__, Product.__table__, Material.__table__
# One Core statement, built once: resolving is part of every trace, and an ORM query with two
# sub-selects costs more to build than to run.
_OUR_LOT = select(_LOTS.c.id).where(
    _LOTS.c.lot_number == bindparam("lot"),
    or_(
        _LOTS.c.product_id.in_(select(_PRODUCTS.c.id).where(_PRODUCTS.c.gtin == bindparam("gtin"))),
        _LOTS.c.material_id.in_(
            select(_MATERIALS.c.id).where(_MATERIALS.c.gtin == bindparam("gtin"))
        ),
    ),
)


def _our_lot(session: Session, gtin: str, lot_number: str) -> Lot | None:
    """Our lot of the product or material with this GTIN."""
    found = session.connection().execute(_OUR_LOT, {"lot": lot_number, "gtin": gtin}).first()
    return session.get(Lot, found[0]) if found is not None else None


def _from_key(session: Session, key: GS1Key) -> Resolved:
    if key.kind is KeyKind.LGTIN and key.gtin and key.lot:
        lot = _our_lot(session, key.gtin, key.lot)
        label = lot.audit_label() if lot else f"lot {key.lot} of GTIN {key.gtin}"
        return Resolved(Subject.LOT, key.canonical, lot.id if lot else None, label)
    if key.kind is KeyKind.SSCC:
        return Resolved(Subject.CONTAINER, key.canonical, label=f"SSCC {key.sscc}")
    if key.kind is KeyKind.SGTIN:
        return Resolved(Subject.PACK, key.canonical, label=f"pack {key.gtin} / {key.serial}")
    if key.kind is KeyKind.GTIN:
        return Resolved(Subject.CLASS, key.canonical, label=f"GTIN {key.gtin}")
    return Resolved(Subject.PACK, key.canonical, label=key.canonical)


_SSCC = re.compile(r"\d{18}")
_SCAN = re.compile(r"(\]|\(\d{2,4}\)|\d{16,})")


def resolve(session: Session, identifier: str) -> Resolved:
    text = identifier.strip()
    if not text:
        raise InvalidInput("name a lot, a pack (serial/SGTIN), an SSCC or an EPC URI")
    key = parse_identifier(text)
    if key is not None:
        return _from_key(session, key)
    if text.startswith(("urn:", "http://", "https://")):
        return Resolved(Subject.OBJECT, text, label=text)
    if _SSCC.fullmatch(text):
        if int(text[-1]) != check_digit(text[:-1]):
            raise GS1Error(GS1ErrorCode.BAD_CHECK_DIGIT, f"SSCC {text} has a bad check digit")
        return _from_key(session, GS1Key(KeyKind.SSCC, (("00", text),)))
    if _SCAN.match(text):
        data = parse_gs1(text)
        if data.sscc:
            return _from_key(session, GS1Key(KeyKind.SSCC, (("00", data.sscc),)))
        if data.gtin and data.serial:
            return _from_key(
                session, GS1Key(KeyKind.SGTIN, (("01", data.gtin), ("21", data.serial)))
            )
        if data.gtin and data.lot:
            return _from_key(session, GS1Key(KeyKind.LGTIN, (("01", data.gtin), ("10", data.lot))))
        raise InvalidInput(f"{text!r} names neither a pack, a lot nor an SSCC")
    sscc = session.scalar(select(Shipment.sscc).where(Shipment.code == text))
    if sscc:  # a shipment travels under its SSCC: tracing it is tracing that container
        key = GS1Key(KeyKind.SSCC, (("00", sscc),))
        return Resolved(Subject.CONTAINER, key.canonical, label=f"shipment {text} (SSCC {sscc})")
    packs = list(session.scalars(select(SerialisedPack.epc).where(SerialisedPack.serial == text)))
    if len(packs) == 1:  # a serial alone, when only one product carries it
        return Resolved(Subject.PACK, packs[0], label=f"pack {text}")
    item, _, lot_number = text.rpartition("/")
    try:
        lot = find_lot(session, lot_number, item or None)
    except NotFound:
        raise NotFound(
            f"{text!r} is no known lot and not a GS1 identifier (EPC URI, Digital Link, "
            "element string or SSCC)"
        ) from None
    return of_lot(session, lot)
