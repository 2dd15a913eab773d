"""EPCIS connector (source kind ``epcis``): GS1 EPCIS 2.0 documents, JSON-LD or XML, taken with
capture-interface semantics — event by event.

* A document that can't be read at all (not EPCIS, invalid JSON/XML, schema violation) is
  refused whole (``DocumentRefused``), and the refusal is recorded on the import run.
* An invalid event inside a readable document is quarantined with the parser's issue codes,
  its position ``event N`` (N = index in the event list, from 0) and its original text; the
  other events are taken. A person may correct the text and replay it.
* Each event is stored once: keyed by its eventID, or by a content hash when it has none
  (:mod:`pharmaqms.platform.genealogy.codec` states the hash). Re-sending a document changes
  nothing. Two events without eventID that are identical in every field are one event.
* Every identifier the event names is indexed with its role, in canonical GS1 form
  (:func:`pharmaqms.platform.trace.canonical`), so an SGTIN URN and a Digital Link of the same
  pack meet. The ILMD lot of a commissioning is indexed as the lot class (role ``lot``).
* A commissioning of SGTINs with a lot (ILMD, or an LGTIN in the same event) creates the
  serialised packs, linked to our lot when the GTIN and lot number are known.
* An error declaration is stored as received and retracts the event it names (see
  :class:`~pharmaqms.platform.genealogy.models.EpcisErrorDeclaration`).
* Every event gets its CBV 2.0 event hash ID (:mod:`~pharmaqms.platform.epcis.
  event_hash`). An event whose eventID is new but whose hash is already stored is taken *and*
  recorded as a duplicate finding (:class:`~pharmaqms.platform.epcis_repository.models.
  EpcisDuplicate`): the same event under two eventIDs is for a person to judge, never dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import DocumentRefused
from pharmaqms.platform.connectors.epcis_movements import movements_of_event
from pharmaqms.platform.epcis import (
    Action,
    AggregationEvent,
    AssociationEvent,
    EPCISEvent,
    ObjectEvent,
    ParsedDocument,
    QuantityElement,
    TransactionEvent,
    TransformationEvent,
    parse_epcis,
)
from pharmaqms.platform.epcis.event_hash import event_hash
from pharmaqms.platform.epcis_repository.models import EpcisDuplicate
from pharmaqms.platform.genealogy.codec import canonical_plain, content_hash, event_from_plain
from pharmaqms.platform.genealogy.models import EpcisErrorDeclaration
from pharmaqms.platform.governance.rules import Checked, EntitySpec, FieldSpec, Problem
from pharmaqms.platform.gs1 import GS1Error, KeyKind, digital_link_uri, parse_identifier
from pharmaqms.platform.ingest.connector import SourceRow, StoreContext, Stored
from pharmaqms.platform.ingest.service import register_connector
from pharmaqms.platform.masterdata.models import Lot, LotKind, Product
from pharmaqms.platform.trace import canonical
from pharmaqms.platform.traceability.models import EpcisEvent, EpcisEventObject, SerialisedPack

ENTITY: Final = "epcis_event"
MAX_ID: Final = 200  # EpcisEvent.event_id and EpcisEventObject.epc


def _issues_found(values: dict[str, Any]) -> list[Problem]:
    """The parser's reasons for a rejected event, one problem per issue, with its code."""
    if not values.get("issues"):
        return []
    return [
        Problem(issue.get("path") or "event", issue["code"], issue["message"])
        for issue in json.loads(values["issues"])
    ]


EPCIS_EVENT = EntitySpec(
    entity=ENTITY,
    fields=(
        FieldSpec("key", required=False),
        FieldSpec("format", choices=("json", "xml")),
        FieldSpec("raw"),
        FieldSpec("event", required=False),
        FieldSpec("issues", required=False),
    ),
    natural_key=("key",),
    checks=(_issues_found,),
)


def event_key(event: EPCISEvent) -> str:
    """The key an event is stored under: its eventID, else its content hash."""
    return event.event_id or content_hash(event, canonical)


def _row_key(event: EPCISEvent) -> str:
    # A declaration shares its eventID with the event it retracts: it needs a key of its own.
    if event.error_declaration is not None:
        return f"declaration-of:{event_key(event)}"
    return event_key(event)


def rows_of(document: ParsedDocument) -> Iterator[SourceRow]:
    """One row per event, in document order: taken events and rejected ones alike."""
    fmt = document.format.value
    rows: list[tuple[int, SourceRow]] = []
    for event in document.events:
        values = {
            "key": _row_key(event),
            "format": fmt,
            "raw": event.raw,
            "event": json.dumps(canonical_plain(event, canonical), separators=(",", ":")),
        }
        rows.append((event.index, SourceRow(ENTITY, f"event {event.index}", values)))
    for rejected in document.rejected:
        issues = [
            {"code": i.code.value, "message": i.message, "path": i.path} for i in rejected.issues
        ]
        values = {"format": fmt, "raw": rejected.raw, "issues": json.dumps(issues)}
        rows.append((rejected.index, SourceRow(ENTITY, f"event {rejected.index}", values)))
    for _index, row in sorted(rows, key=lambda pair: pair[0]):
        yield row


def _rewrap(raw: str, fmt: str) -> ParsedDocument:
    """A corrected event's text, alone in a minimal document, through the same parser."""
    created = clock.now().isoformat()
    if fmt == "xml":
        text = (
            '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
            f'creationDate="{created}"><EPCISBody><EventList>{raw}</EventList></EPCISBody>'
            "</epcis:EPCISDocument>"
        )
    else:
        try:
            event = json.loads(raw)
        except ValueError as err:
            raise DocumentRefused(f"the corrected event is not JSON: {err}") from None
        text = json.dumps(
            {
                "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": created,
                "epcisBody": {"eventList": [event]},
            }
        )
    return parse_epcis(text)


def named_objects(event: EPCISEvent) -> list[tuple[str, str, QuantityElement | None]]:
    """(role, canonical identifier, quantity) for every identifier the event names."""
    found: list[tuple[str, str, QuantityElement | None]] = []

    def add(role: str, ids: tuple[str, ...] | list[str]) -> None:
        found.extend((role, canonical(i), None) for i in ids)

    def add_quantities(role: str, quantities: tuple[QuantityElement, ...]) -> None:
        found.extend((role, canonical(q.epc_class), q) for q in quantities)

    match event:
        case ObjectEvent():
            add("epc", event.epc_list)
            add_quantities("quantity", event.quantity_list)
            add("lot", lot_classes(event.epc_list, event))
        case AggregationEvent() | AssociationEvent():
            add("parent", [event.parent_id] if event.parent_id else [])
            add("child", event.child_epcs)
            add_quantities("quantity", event.child_quantity_list)
        case TransactionEvent():
            add("parent", [event.parent_id] if event.parent_id else [])
            add("epc", event.epc_list)
            add_quantities("quantity", event.quantity_list)
        case TransformationEvent():
            add("input", event.input_epcs)
            add("output", event.output_epcs)
            add_quantities("input_quantity", event.input_quantities)
            add_quantities("output_quantity", event.output_quantities)
            add("lot", lot_classes(event.output_epcs, event))
    unique: dict[tuple[str, str], tuple[str, str, QuantityElement | None]] = {}
    for role, epc, quantity in found:
        unique.setdefault((role, epc), (role, epc, quantity))
    return list(unique.values())


def _ilmd_lot(event: EPCISEvent) -> str | None:
    if isinstance(event, ObjectEvent) and event.action is not Action.ADD:
        return None
    ilmd = getattr(event, "ilmd", None)
    return ilmd.lot_number if ilmd is not None else None


def lot_classes(epcs: tuple[str, ...], event: EPCISEvent) -> list[str]:
    """The lot classes (LGTIN, canonical) the event gives its serialised objects."""
    lot = _ilmd_lot(event)
    if lot is None:
        return []
    gtins: dict[str, None] = {}
    for epc in epcs:
        try:
            key = parse_identifier(epc)
        except GS1Error:
            continue
        if key is not None and key.kind is KeyKind.SGTIN and key.gtin:
            gtins[key.gtin] = None
    classes: list[str] = []
    for gtin in gtins:  # one lot class per product, however many packs
        try:
            classes.append(digital_link_uri(gtin, lot=lot))
        except GS1Error:
            continue  # a lot number outside GS1's characters has no lot class
    return classes


def _declared_lots(event: EPCISEvent) -> dict[str, str]:
    """GTIN → lot number for the SGTINs the event commissions (ILMD, or an LGTIN it names)."""
    lot = _ilmd_lot(event)
    epcs: tuple[str, ...] = ()
    classes: tuple[QuantityElement, ...] = ()
    if isinstance(event, ObjectEvent) and event.action is Action.ADD:
        epcs, classes = event.epc_list, event.quantity_list
    elif isinstance(event, TransformationEvent):
        epcs, classes = event.output_epcs, event.output_quantities
    by_gtin_from_class: dict[str, str] = {}
    for q in classes:
        try:
            key = parse_identifier(q.epc_class)
        except GS1Error:
            continue
        if key is not None and key.kind is KeyKind.LGTIN and key.gtin and key.lot:
            by_gtin_from_class[key.gtin] = key.lot
    lots: dict[str, str] = {}
    for epc in epcs:
        try:
            key = parse_identifier(epc)
        except GS1Error:
            continue
        if key is None or key.kind is not KeyKind.SGTIN or key.gtin is None:
            continue
        chosen = lot or by_gtin_from_class.get(key.gtin)
        if chosen:
            lots[key.gtin] = chosen
    return lots


def _create_packs(session: Session, event: EPCISEvent, row: EpcisEvent) -> None:
    lots = _declared_lots(event)
    if not lots:
        return
    epcs = event.epc_list if isinstance(event, ObjectEvent) else getattr(event, "output_epcs", ())
    ilmd = getattr(event, "ilmd", None)
    our_lots: dict[str, Lot | None] = {}
    for raw_epc in epcs:
        try:
            key = parse_identifier(raw_epc)
        except GS1Error:
            continue
        if key is None or key.kind is not KeyKind.SGTIN or key.gtin not in lots or not key.serial:
            continue
        epc = key.canonical
        if session.scalar(select(SerialisedPack.id).where(SerialisedPack.epc == epc)):
            continue  # commissioned before: the first commissioning stands
        lot_number = lots[key.gtin]
        if key.gtin not in our_lots:
            our_lots[key.gtin] = session.scalars(
                select(Lot)
                .join(Product, Lot.product_id == Product.id)
                .where(
                    Product.gtin == key.gtin,
                    Lot.lot_number == lot_number,
                    Lot.kind == LotKind.FINISHED.value,
                )
            ).first()
        lot = our_lots[key.gtin]
        session.add(
            SerialisedPack(
                epc=epc,
                gtin=key.gtin,
                serial=key.serial,
                lot_id=lot.id if lot is not None else None,
                lot_number=lot_number,
                expires_on=ilmd.item_expiration_date if ilmd is not None else None,
                commissioned_at=event.event_time,
                event_id=row.id,
            )
        )


def _event_row(ctx: StoreContext, event: EPCISEvent, key: str, fmt: str) -> EpcisEvent:
    ilmd = getattr(event, "ilmd", None)
    return EpcisEvent(
        event_id=key,
        event_type=event.event_type.value,
        action=getattr(event, "action", None),
        event_time=event.event_time,
        time_zone_offset=event.event_time_zone_offset,
        # Capture semantics: the repository records when it received the event.
        record_time=event.record_time or ctx.received_at,
        biz_step=event.biz_step,
        disposition=event.disposition,
        read_point=canonical(event.read_point) if event.read_point else None,
        biz_location=canonical(event.biz_location) if event.biz_location else None,
        parent_id=canonical(p) if (p := getattr(event, "parent_id", None)) else None,
        transformation_id=getattr(event, "transformation_id", None),
        lot_number=ilmd.lot_number if ilmd is not None else None,
        expires_on=ilmd.item_expiration_date if ilmd is not None else None,
        error_declared=event.error_declaration is not None,
        # The original text for the record; the canonical form for the traces.
        document={"format": fmt, "raw": event.raw, "event": canonical_plain(event, canonical)},
        run_id=ctx.run_id,
    )


def _too_long(event: EPCISEvent, key: str) -> list[Problem]:
    long_ids = [epc for _r, epc, _q in named_objects(event) if len(epc) > MAX_ID]
    if len(key) > MAX_ID:
        long_ids.insert(0, key)
    return [
        Problem("event", "identifier_too_long", f"identifier longer than {MAX_ID}: {i[:60]}…")
        for i in long_ids[:1]
    ]


def store_event(ctx: StoreContext, event: EPCISEvent, fmt: str) -> Stored:
    session = ctx.session
    key = event_key(event)
    if problems := _too_long(event, key):
        return Stored(problems=problems)
    declaration = event.error_declaration
    if declaration is not None:
        if session.scalar(
            select(EpcisErrorDeclaration.id).where(EpcisErrorDeclaration.declared_key == key)
        ):
            return Stored(duplicate=True)
        row_key = "declaration:" + hashlib.sha256(key.encode()).hexdigest()
        row = _event_row(ctx, event, row_key, fmt)
        session.add(row)
        session.flush()
        session.add(
            EpcisErrorDeclaration(
                declared_key=key,
                declaration_event_id=row.id,
                declared_at=declaration.declaration_time,
                reason=declaration.reason,
                corrective_event_ids=list(declaration.corrective_event_ids),
                run_id=ctx.run_id,
            )
        )
        return Stored(entity_id=row.id, measured_at=event.event_time)
    existing = session.scalar(select(EpcisEvent.id).where(EpcisEvent.event_id == key))
    if existing is not None:
        return Stored(entity_id=existing, duplicate=True)
    row = _event_row(ctx, event, key, fmt)
    row.event_hash = event_hash(event, canonical)
    original = session.scalar(
        select(EpcisEvent.id)
        .where(EpcisEvent.event_hash == row.event_hash, EpcisEvent.error_declared.is_(False))
        .order_by(EpcisEvent.id)
        .limit(1)
    )
    session.add(row)
    session.flush()
    if original is not None:
        session.add(
            EpcisDuplicate(
                event_hash=row.event_hash,
                event_id=row.id,
                original_event_id=original,
                found_at=ctx.received_at,
                run_id=ctx.run_id,
            )
        )
    session.add_all(
        EpcisEventObject(
            event_id=row.id,
            role=role,
            epc=epc,
            quantity=float(q.quantity) if q is not None and q.quantity is not None else None,
            uom=q.uom if q is not None else None,
        )
        for role, epc, q in named_objects(event)
    )
    _create_packs(session, event, row)
    session.flush()
    # Receiving and shipping move stock: the inventory movements they say happened.
    movements_of_event(session, event, row, run_id=ctx.run_id, source_id=ctx.source_id)
    return Stored(entity_id=row.id, measured_at=event.event_time)


class EpcisConnector:
    def __init__(self) -> None:
        self.kind = "epcis"
        self.specs = {ENTITY: EPCIS_EVENT}

    def rows(self, content: bytes, mapping: dict[str, Any]) -> Iterator[SourceRow]:
        return rows_of(parse_epcis(content))

    def store(self, ctx: StoreContext, entity: str, checked: Checked) -> Stored:
        v = checked.values
        if v.get("event"):
            event = event_from_plain(json.loads(v["event"]), raw=v["raw"])
            return store_event(ctx, event, v["format"])
        # A person's correction of a quarantined event: read it again, as the sender would.
        try:
            document = _rewrap(v["raw"], v["format"])
        except DocumentRefused as refusal:
            return Stored(problems=[Problem("raw", refusal.code, refusal.detail)])
        if document.rejected:
            return Stored(
                problems=[
                    Problem(i.path or "event", i.code.value, i.message)
                    for i in document.rejected[0].issues
                ]
            )
        return store_event(ctx, document.events[0], v["format"])


EPCIS = register_connector(EpcisConnector())
