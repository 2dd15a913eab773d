"""Subscriptions to named EPCIS queries: a trading partner (or one of our own systems) names a
webhook, and every capture whose new events the query matches is sent there as an EPCIS 2.0
``EPCISQueryDocument`` (the standard's subscriptions, REST bindings, in their webhook form).

Subscribing and deactivating are audited changes of a subscription record. What is sent is
signed with the subscription's shared secret (HMAC-SHA256 of the body, ``X-Pharmaqms-
Signature: sha256=<hex>``) so the receiver knows it came from us unaltered; the delivery itself
is in :mod:`pharmaqms.platform.epcis_repository.delivery`.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.platform.epcis_repository.models import (
    EpcisDeliveryAttempt,
    EpcisNamedQuery,
    EpcisSubscription,
)

# Plain http only to this machine (a receiver under test, a local relay): anything sent across
# a network travels encrypted.
LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_SECRET: Final = 16
MAX_SECRET: Final = 200


def check_dest(dest: str) -> str:
    """The webhook address, refused unless it is https (or http to this machine), names a host,
    and carries no credentials (a password in a URL ends up in every log that prints it)."""
    text = dest.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # a port that is no number raises here
    except ValueError:
        raise InvalidInput(f"dest {text!r} is not a URL", field="dest") from None
    if parts.scheme not in ("https", "http"):
        raise InvalidInput(
            f"dest must be an https URL (not {parts.scheme or 'no'} scheme)", field="dest"
        )
    if not host:
        raise InvalidInput("dest names no host", field="dest")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "dest must not carry credentials; the shared secret signs every delivery",
            field="dest",
        )
    if parts.scheme == "http" and not _local(host):
        raise InvalidInput(
            "dest must be https; plain http is accepted only for localhost or 127.0.0.1",
            field="dest",
        )
    if parts.fragment:
        raise InvalidInput("dest must not have a #fragment", field="dest")
    return text


def _local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _named_query(session: Session, name: str) -> EpcisNamedQuery:
    record = session.scalars(
        select(EpcisNamedQuery).where(
            EpcisNamedQuery.name == name, EpcisNamedQuery.retired.is_(False)
        )
    ).one_or_none()
    if record is None:
        raise NotFound(f"no EPCIS query named {name!r}")
    return record


def subscribe(
    session: Session,
    *,
    actor: Actor,
    query_name: str,
    dest: str,
    report_if_empty: bool = False,
    secret: str | None = None,
) -> EpcisSubscription:
    """Subscribe a webhook to a named query; the shared secret is the caller's
    ``signatureToken`` or, without one, drawn here (and shown once, in the answer)."""
    actor.require("epcis.queries", "subscribe to EPCIS queries")
    named = _named_query(session, query_name)
    address = check_dest(dest)
    if secret is None:
        secret = secrets.token_hex(32)
    elif not MIN_SECRET <= len(secret) <= MAX_SECRET or secret != secret.strip():
        raise InvalidInput(
            f"signatureToken is {MIN_SECRET}-{MAX_SECRET} characters without surrounding blanks",
            field="signatureToken",
        )
    record = EpcisSubscription(
        query_id=named.id,
        dest=address,
        secret=secret,
        report_if_empty=report_if_empty,
        active=True,
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(
        session, actor=actor, reason=f"subscribed to EPCIS query {named.name}", action="create"
    ):
        session.add(record)
    return record


def subscriptions_of(session: Session, query_name: str) -> list[EpcisSubscription]:
    named = _named_query(session, query_name)
    return list(
        session.scalars(
            select(EpcisSubscription)
            .where(EpcisSubscription.query_id == named.id)
            .order_by(EpcisSubscription.id)
        )
    )


def given_up_counts(session: Session, subscription_ids: list[int]) -> dict[int, int]:
    """Per subscription, the deliveries given up after every retry failed: for a person to
    take up with the receiver."""
    found = session.execute(
        select(EpcisDeliveryAttempt.subscription_id, func.count())
        .where(
            EpcisDeliveryAttempt.given_up.is_(True),
            EpcisDeliveryAttempt.subscription_id.in_(subscription_ids),
        )
        .group_by(EpcisDeliveryAttempt.subscription_id)
    )
    return {int(sid): int(n) for sid, n in found}


def deactivate(
    session: Session, *, actor: Actor, query_name: str, subscription_id: int, reason: str
) -> EpcisSubscription:
    """Stop a subscription (nothing more is sent, waiting retries are given up); kept, with
    the reason, for the log of what was sent."""
    actor.require("epcis.queries", "end EPCIS subscriptions")
    named = _named_query(session, query_name)
    record = session.get(EpcisSubscription, subscription_id)
    if record is None or record.query_id != named.id:
        raise NotFound(f"no subscription {subscription_id} to the EPCIS query {named.name}")
    if not reason.strip():
        raise InvalidInput("say why the subscription ends", field="reason")
    if not record.active:
        raise Conflict(f"subscription {subscription_id} has ended already")
    with audit.changes(session, actor=actor, reason=reason.strip(), action="deactivate"):
        record.active = False
        record.deactivated_at = clock.now()
        record.deactivated_reason = reason.strip()
    return record
