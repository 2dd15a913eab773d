"""Demo supply chain: a few lots of the demo products, serialised, packed, shipped and
dispensed, taken through the EPCIS connector like any delivery (so every run, event and pack
is there as a real import would leave it). Master data that the platform's own demo already
made (products, locations, lots) is used as it is; what is missing is created here.
``pharmaqms demo`` runs it through :mod:`pharmaqms.cli.demo_supply_chain`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.genealogy.generator import (
    CHAIN_LOCATIONS,
    PRODUCTS,
    Chain,
    ChainProduct,
    documents,
    generate,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata import service as masterdata
from pharmaqms.platform.masterdata.models import Location, Lot, LotKind, Product

DEMO_LOT_PREFIX = "SC"


def chain_products(session: Session) -> tuple[ChainProduct, ...]:
    """The generator's products, with the GTIN a product of that code already has here."""
    known = {p.code: p for p in session.scalars(select(Product))}
    return tuple(
        ChainProduct(p.code, known[p.code].name, known[p.code].gtin) if p.code in known else p
        for p in PRODUCTS
    )


def ensure_master_data(session: Session, *, admin: Actor, chain: Chain) -> None:
    """Products, locations and finished lots the chain names, where they don't exist yet."""
    codes = set(session.scalars(select(Product.code)))
    gtins = set(session.scalars(select(Product.gtin)))
    for product in PRODUCTS:
        if product.code not in codes and product.gtin not in gtins:
            masterdata.add_product(
                session, actor=admin, gtin=product.gtin, code=product.code, name=product.name
            )
    places = {loc.code for loc in session.scalars(select(Location))}
    uris = set(session.scalars(select(Location.epc_uri)))
    for place in CHAIN_LOCATIONS:
        if place.code not in places and place.epc_uri not in uris:
            masterdata.add_location(
                session,
                actor=admin,
                code=place.code,
                name=place.name,
                kind=place.kind,
                epc_uri=place.epc_uri,
                is_customer=place.is_customer,
                country="NL",
            )
    for answer in chain.truth.values():
        exists = session.scalar(
            select(Lot.id).where(
                Lot.kind == LotKind.FINISHED.value,
                Lot.item_code == answer.product,
                Lot.lot_number == answer.lot_number,
            )
        )
        if exists is None:
            made = answer.shipped_at - timedelta(days=1) if answer.shipped_at else None
            masterdata.add_lot(
                session,
                actor=admin,
                kind="finished",
                item_code=answer.product,
                lot_number=answer.lot_number,
                manufactured_on=made.date() if made else None,
                manufacturing_ended_at=made,
            )


def load_chain(session: Session, *, admin: Actor, logistics: Actor, lots: int, seed: int) -> Chain:
    """Generate ``lots`` lots ending about now and take them in through the connector."""
    start = clock.now() - timedelta(days=40 + lots)
    chain = generate(
        lots,
        seed=seed,
        start=start.replace(minute=0, second=0, microsecond=0),
        products=chain_products(session),
        lot_prefix=DEMO_LOT_PREFIX,
    )
    ensure_master_data(session, admin=admin, chain=chain)
    for number, content in enumerate(documents(chain.events), 1):
        ingest.ingest(
            session,
            actor=logistics,
            kind="epcis",
            content=content,
            filename=f"demo-supply-chain-{number}.jsonld",
        )
    return chain
