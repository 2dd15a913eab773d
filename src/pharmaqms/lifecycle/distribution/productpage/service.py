"""What the public product page shows, gathered in one read (and one recorded verification
when the pack's serial is given): the product's name and strength, lot and expiry, whether the
pack is authentic (the serial verification of :mod:`..serials`), whether the lot is recalled,
how to store it, and the patient leaflet in force.

Only what is printed on the pack or meant for patients leaves this module: no supplier, no
internal keys, no user names, no internal reasons. The verification's detail (which may name
lots) stays in the verification record; the page shows a sentence chosen by its answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.errors import InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.lifecycle.distribution.serials.rules import Answer
from pharmaqms.lifecycle.distribution.serials.service import expiry_of, gtin14, verify_pack
from pharmaqms.platform.genealogy.packs import pack_state
from pharmaqms.platform.masterdata.models import Lot, LotKind, LotStatus, Product
from pharmaqms.platform.masterdata.service import name_product_leaflet
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    VersionStatus,
)

# GS1 AI (10) batch/lot and (21) serial: 1-20 of the 82 characters (GenSpecs 7.11).
_AI_82: Final = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")

# What the person holding the pack reads for each answer: plain words and what to do.
AUTHENTICITY: Final[dict[Answer, tuple[str, str]]] = {
    Answer.GENUINE: ("ok", "This pack is genuine: its code was issued by the manufacturer."),
    Answer.UNKNOWN_SERIAL: (
        "alert",
        "We cannot confirm this pack: its serial number was never issued by us. Do not use it; "
        "take it to your pharmacist.",
    ),
    Answer.WRONG_LOT_OR_EXPIRY: (
        "alert",
        "We cannot confirm this pack: its batch or expiry does not match our records. Do not "
        "use it; take it to your pharmacist.",
    ),
    Answer.RECALLED: (
        "alert",
        "This pack belongs to a recall. Do not use it; return it to your pharmacy.",
    ),
    Answer.DECOMMISSIONED: (
        "alert",
        "This pack was withdrawn from the supply chain. Do not use it; take it to your pharmacist.",
    ),
    Answer.ALREADY_DISPENSED: (
        "warn",
        "This pack was already handed out by a pharmacy. If you received it from a pharmacy "
        "yourself, this is expected; if you bought it elsewhere, ask your pharmacist.",
    ),
    Answer.EXPIRED: ("alert", "This pack has expired. Do not use it; return it to your pharmacy."),
}


@dataclass(frozen=True, slots=True)
class Leaflet:
    number: str
    title: str
    version: str
    body: str


@dataclass(frozen=True, slots=True)
class ProductPage:
    gtin: str
    name: str
    strength: str
    dosage_form: str
    lot: str | None
    serial: str | None
    expiry: date | None
    expiry_source: str
    """"records" (our own) or "pack" (as printed, when we hold none)."""
    authenticity: Answer | None
    authenticity_level: str
    authenticity_text: str
    recalled: bool
    storage: str
    leaflet: Leaflet | None


def checked_ai_82(value: str, what: str) -> str:
    if not _AI_82.match(value):
        raise InvalidInput(f"the {what} must be 1-20 letters, digits or GS1 signs", field=what)
    return value


def storage_text(product: Product) -> str:
    """The labelled condition in the words of a carton (°C, EU SmPC style)."""
    low, high = product.storage_min_c, product.storage_max_c
    if low is not None and high is not None:
        return f"Store between {low:g} °C and {high:g} °C."
    if high is not None:
        return f"Store below {high:g} °C."
    if low is not None:
        return f"Store above {low:g} °C."
    return "See the package leaflet for how to store this medicine."


def leaflet_in_force(session: Session, product: Product) -> Leaflet | None:
    """The effective version of the patient leaflet the product names, if it names one that
    is a patient leaflet in force; anything else (draft, obsolete, another type) is no link."""
    if not product.leaflet_document_number:
        return None
    document = session.scalars(
        select(ControlledDocument).where(
            ControlledDocument.number == product.leaflet_document_number,
            ControlledDocument.doc_type == DocumentType.PATIENT_LEAFLET.value,
            ControlledDocument.status == DocumentStatus.CURRENT.value,
        )
    ).one_or_none()
    if document is None or document.current_version_id is None:
        return None
    version = session.get(DocumentVersion, document.current_version_id)
    if version is None or version.status != VersionStatus.EFFECTIVE.value:
        return None
    return Leaflet(document.number, version.title, version.label, version.body)


def product_by_gtin(session: Session, gtin: str) -> Product:
    code = gtin14(gtin)
    product = session.scalars(select(Product).where(Product.gtin == code)).one_or_none()
    if product is None:
        raise NotFound(f"no product of ours has GTIN {code}")
    return product


def _lot(session: Session, product: Product, lot_number: str) -> Lot | None:
    return session.scalars(
        select(Lot).where(
            Lot.kind == LotKind.FINISHED.value,
            Lot.item_code == product.code,
            Lot.lot_number == lot_number,
        )
    ).one_or_none()


def product_page(
    session: Session,
    *,
    gtin: str,
    lot: str | None = None,
    serial: str | None = None,
    exp: str | None = None,
) -> ProductPage:
    """The page for ``/01/{gtin}[/10/{lot}[/21/{serial}]][?17=YYMMDD]``. With a serial the
    pack is verified (and the verification recorded, channel product page, by the system
    account: the person scanning has no account)."""
    product = product_by_gtin(session, gtin)
    if lot is not None:
        checked_ai_82(lot, "lot")
    if serial is not None:
        checked_ai_82(serial, "serial")
    printed = expiry_of(exp, today=clock.now().date()) if exp is not None else None
    our_lot = _lot(session, product, lot) if lot is not None else None
    expiry, source = (our_lot.expires_on, "records") if our_lot is not None else (None, "")
    answer: Answer | None = None
    if serial is not None and lot is not None:
        actor: Actor = auth.system_actor(session, Channel.PRODUCT_PAGE)
        done = verify_pack(
            session, actor=actor, gtin=product.gtin, lot_number=lot, serial=serial, exp=exp
        )
        answer = done.verdict.answer
        pack = pack_state(session, product.gtin, serial)
        if pack is not None and pack.expires_on is not None and pack.lot_number == lot:
            expiry, source = pack.expires_on, "records"
    if expiry is None and printed is not None:
        expiry, source = printed, "pack"
    level, text = AUTHENTICITY.get(answer, ("none", "")) if answer is not None else ("none", "")
    if answer is None:
        text = "Scan the code on the pack (with its serial number) to check that it is genuine."
    recalled = answer is Answer.RECALLED or (
        our_lot is not None and our_lot.status == LotStatus.RECALLED.value
    )
    return ProductPage(
        gtin=product.gtin,
        name=product.name,
        strength=product.strength,
        dosage_form=product.dosage_form,
        lot=lot,
        serial=serial,
        expiry=expiry,
        expiry_source=source,
        authenticity=answer,
        authenticity_level=level,
        authenticity_text=text,
        recalled=recalled,
        storage=storage_text(product),
        leaflet=leaflet_in_force(session, product),
    )


def link_patient_leaflet(
    session: Session, *, actor: Actor, gtin: str, document_number: str | None, reason: str
) -> Product:
    """Name the product's patient leaflet: a controlled document of type patient leaflet
    (it may still be in development; the page links it only while a version is in force)."""
    product = product_by_gtin(session, gtin)
    if document_number is not None:
        document = session.scalars(
            select(ControlledDocument).where(ControlledDocument.number == document_number)
        ).one_or_none()
        if document is None:
            raise InvalidInput(f"no document {document_number}", field="document_number")
        if document.doc_type != DocumentType.PATIENT_LEAFLET.value:
            raise InvalidInput(
                f"{document_number} is a {document.doc_type}, not a patient leaflet",
                field="document_number",
            )
    return name_product_leaflet(session, product, document_number, actor=actor, reason=reason)
