"""What a change affects, by name: the products, specifications and master batch records it
changes (ICH Q10 §3.2.3: the change is evaluated against the products it touches). Products are
master data of the platform; specifications and master batch records belong to production
modules above quality, which say here how a number of theirs is looked up, so change control
refuses a number nobody knows without importing them::

    register_affected_lookup("specification", lambda session, number: "Tablet spec v2" or None)
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality import common
from pharmaqms.quality.changes.models import (
    AffectedKind,
    ChangeAffectedItem,
    ChangeRequest,
    ChangeStatus,
)

# A number of this kind → what it is called (None: no such record).
Lookup = Callable[[Session, str], str | None]
_LOOKUPS: dict[str, Lookup] = {}

KIND_LABEL = {
    AffectedKind.PRODUCT: "Product",
    AffectedKind.SPECIFICATION: "Specification",
    AffectedKind.MASTER_BATCH_RECORD: "Master batch record",
}


def register_affected_lookup(kind: str, lookup: Lookup) -> None:
    _LOOKUPS[AffectedKind(kind).value] = lookup


def _product(session: Session, code: str) -> str | None:
    product = session.scalars(select(Product).where(Product.code == code)).first()
    return f"{product.code} {product.name}" if product is not None else None


register_affected_lookup(AffectedKind.PRODUCT, _product)

# Named while the change is still being assessed: the functions approve it with what it affects.
NAMING_STATES = (ChangeStatus.DRAFT, ChangeStatus.IMPACT_ASSESSMENT)


def name_affected(
    session: Session, *, actor: Actor, change_id: int, kind: str, reference: str
) -> ChangeAffectedItem:
    from pharmaqms.quality.changes.service import get_change

    change = get_change(session, change_id)
    common.require_status(change, NAMING_STATES, "naming what the change affects")
    _may_edit(actor, change)
    chosen = common.choice(kind, "kind", [k.value for k in AffectedKind], "what is affected")
    number = common.required_text(reference, "reference", "its number or code", max_length=100)
    lookup = _LOOKUPS.get(chosen)
    if lookup is None:
        raise InvalidInput(
            f"{KIND_LABEL[AffectedKind(chosen)].lower()}s are not known to this installation",
            field="kind",
        )
    label = lookup(session, number)
    if label is None:
        raise InvalidInput(
            f"there is no {KIND_LABEL[AffectedKind(chosen)].lower()} {number}", field="reference"
        )
    if any(
        i.kind == chosen and i.reference == number and i.removed_at is None for i in change.affected
    ):
        raise Conflict(f"{change.number} already names {number}")
    item = ChangeAffectedItem(
        kind=chosen,
        reference=number,
        label=label[:300],
        named_by_id=actor.user_id,
        named_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"{number} named as affected"):
        change.affected.append(item)
    return item


def remove_affected(
    session: Session, *, actor: Actor, change_id: int, item_id: int, reason: str
) -> ChangeAffectedItem:
    from pharmaqms.quality.changes.service import get_change

    change = get_change(session, change_id)
    common.require_status(change, NAMING_STATES, "changing what the change affects")
    _may_edit(actor, change)
    item = next((i for i in change.affected if i.id == item_id), None)
    if item is None or item.removed_at is not None:
        raise NotFound(f"{change.number} names no affected item {item_id}")
    why = common.required_text(reason, "reason", "why it is not affected after all")
    with audit.changes(session, actor=actor, reason=why, action="remove"):
        item.removed_at = clock.now()
    return item


def _may_edit(actor: Actor, change: ChangeRequest) -> None:
    if actor.user_id not in (change.created_by_id, change.owner_id):
        actor.require("changes.assess", "name what someone else's change affects")


def affected_items(change: ChangeRequest) -> list[ChangeAffectedItem]:
    return [i for i in change.affected if i.removed_at is None]


def changes_affecting(session: Session, kind: str, reference: str) -> list[ChangeRequest]:
    """The changes naming this product, specification or master batch record."""
    return list(
        session.scalars(
            select(ChangeRequest)
            .join(ChangeAffectedItem, ChangeAffectedItem.change_id == ChangeRequest.id)
            .where(
                ChangeAffectedItem.kind == kind,
                ChangeAffectedItem.reference == reference,
                ChangeAffectedItem.removed_at.is_(None),
            )
            .order_by(ChangeRequest.id)
        ).unique()
    )
