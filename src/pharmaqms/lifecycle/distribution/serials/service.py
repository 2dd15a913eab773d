"""Serial numbers: ``commission_serial_range`` (a lot's serials, declared by the MAH) and
``verify_pack`` (a pharmacy or wholesaler asks whether a pack is genuine).

Every verification is recorded, whatever it answers. A pack already supplied to a patient that
is verified again is a suspected falsification (a copy of its code in circulation): the second
such verification raises a deviation through the quality events API, attributed to the system
account and linked to the verification. Scans on the public product page (channel
``product_page``) are recorded but neither raise nor count towards that alert: a patient
looking up the pack a pharmacy handed them is expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from biip import ParseError
from biip.gtin import Gtin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, auth, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.lifecycle.distribution.serials.models import SerialRange, SerialVerification
from pharmaqms.lifecycle.distribution.serials.rules import (
    Answer,
    PackFacts,
    Request,
    Verdict,
    decide,
)
from pharmaqms.platform.genealogy.packs import pack_state
from pharmaqms.platform.gs1 import GS1Error, resolve_gs1_date
from pharmaqms.quality import events

# GS1 AI (10) and (21): up to 20 of the 82 characters of GS1's set (GenSpecs 7.11).
_AI_82: Final = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
_PREFIX: Final = re.compile(r"^[!\"%&'()*+,\-./:;<=>?A-Z_a-z]{0,19}$")
MAX_RANGE: Final = 10_000_000


def gtin14(text: str) -> str:
    """The GTIN as 14 digits; a malformed one (wrong length, bad check digit) is refused."""
    try:
        return Gtin.parse(text.strip()).as_gtin_14()
    except ParseError as error:
        raise InvalidInput(f"GTIN {text!r} is malformed: {error}", field="gtin") from None


def _ai_82(value: str, field: str, what: str) -> str:
    if not _AI_82.match(value):
        raise InvalidInput(
            f"{what} {value!r} must be 1-20 characters of the GS1 AI set", field=field
        )
    return value


def expiry_of(text: str, *, today: date) -> date:
    """A YYMMDD expiry (day 00: the month's last day), in the GS1 century window."""
    if not re.fullmatch(r"\d{6}", text):
        raise InvalidInput(f"exp {text!r} must be YYMMDD", field="exp")
    try:
        return resolve_gs1_date(text, ref_year=today.year)
    except GS1Error as error:
        raise InvalidInput(f"exp {text!r} is no date: {error.detail}", field="exp") from None


# --- commissioning ranges --------------------------------------------------------------------


def commission_serial_range(
    session: Session,
    *,
    actor: Actor,
    gtin: str,
    lot_number: str,
    expires_on: date,
    first: int,
    last: int,
    width: int,
    prefix: str = "",
) -> SerialRange:
    """Declare serials ``prefix`` + ``first``…``last`` commissioned for a lot. A range that
    shares a serial with one already declared for the product is refused."""
    actor.require("serials.manage", "commission serial numbers")
    code = gtin14(gtin)
    _ai_82(lot_number, "lot_number", "lot")
    if not _PREFIX.match(prefix):
        raise InvalidInput(
            "a serial prefix is up to 19 non-digit characters of the GS1 AI set", field="prefix"
        )
    if not 1 <= width <= 20 - len(prefix):
        raise InvalidInput(
            f"width must be 1 to {20 - len(prefix)} digits (serials are ≤ 20 characters)",
            field="width",
        )
    if not 0 <= first <= last < 10**width:
        raise InvalidInput(
            f"the range must run from first ≤ last, both within {width} digits", field="last"
        )
    if last - first + 1 > MAX_RANGE:
        raise InvalidInput(f"at most {MAX_RANGE:,} serials in one range", field="last")
    overlapping = session.scalars(
        select(SerialRange).where(
            SerialRange.gtin == code,
            SerialRange.prefix == prefix,
            SerialRange.width == width,
            SerialRange.first <= last,
            SerialRange.last >= first,
        )
    ).first()
    if overlapping is not None:
        raise Conflict(f"these serials overlap {overlapping.audit_label()}", field="first")
    record = SerialRange(
        gtin=code,
        lot_number=lot_number,
        expires_on=expires_on,
        prefix=prefix,
        first=first,
        last=last,
        width=width,
        created_at=clock.now(),
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason="serials commissioned", action="commission"):
        session.add(record)
    return record


def serial_ranges(session: Session, gtin: str | None = None) -> list[SerialRange]:
    query = select(SerialRange).order_by(SerialRange.gtin, SerialRange.prefix, SerialRange.first)
    if gtin is not None:
        query = query.where(SerialRange.gtin == gtin14(gtin))
    return list(session.scalars(query))


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    record: SerialVerification
    verdict: Verdict
    alert_deviation: str | None
    """The number of the deviation raised as a suspected falsification, if any."""


def _facts(session: Session, gtin: str, serial: str) -> PackFacts:
    """From the platform: the EPCIS-commissioned pack and its state, else a declared range."""
    pack = pack_state(session, gtin, serial)
    if pack is not None:
        return PackFacts(
            known=True,
            lot_number=pack.lot_number,
            expires_on=pack.expires_on,
            lot_status=pack.lot_status,
            disposition=pack.disposition,
            decommissioned=pack.decommissioned,
        )
    for declared in session.scalars(select(SerialRange).where(SerialRange.gtin == gtin)):
        if declared.holds(serial):
            return PackFacts(
                known=True, lot_number=declared.lot_number, expires_on=declared.expires_on
            )
    return PackFacts(known=False)


def verify_pack(
    session: Session,
    *,
    actor: Actor,
    gtin: str,
    lot_number: str,
    serial: str,
    exp: str | None = None,
) -> Verification:
    """Answer genuine, unknown serial, wrong lot or expiry, recalled, decommissioned, already
    dispensed or expired; record the verification; alert on a dispensed pack seen again."""
    actor.require("serials.verify", "verify packs")
    code = gtin14(gtin)
    _ai_82(lot_number, "lot", "lot")
    _ai_82(serial, "serial", "serial")
    now = clock.now()
    expiry = expiry_of(exp, today=now.date()) if exp is not None else None
    verdict = decide(_facts(session, code, serial), Request(lot_number, expiry, now.date()))
    record = SerialVerification(
        gtin=code,
        lot_number=lot_number,
        serial=serial,
        expiry_given=expiry,
        answer=verdict.answer.value,
        detail=verdict.detail,
        verified_at=now,
        verified_by_id=actor.user_id,
        channel=actor.channel.value,
    )
    with audit.changes(
        session, actor=actor, reason=f"pack verified: {verdict.answer.value}", action="verify"
    ):
        session.add(record)
    alert = None
    # A patient scanning the pack they were given, on the public product page, is what that
    # page is for, not a copy in circulation: only the supply chain's checks count.
    if verdict.answer is Answer.ALREADY_DISPENSED and actor.channel is not Channel.PRODUCT_PAGE:
        alert = _alert_if_seen_again(session, record, now)
    return Verification(record, verdict, alert)


def _alert_if_seen_again(session: Session, record: SerialVerification, now: datetime) -> str | None:
    earlier = session.scalar(
        select(func.count())
        .select_from(SerialVerification)
        .where(
            SerialVerification.gtin == record.gtin,
            SerialVerification.serial == record.serial,
            SerialVerification.answer == Answer.ALREADY_DISPENSED.value,
            SerialVerification.channel != Channel.PRODUCT_PAGE.value,
            SerialVerification.id != record.id,
        )
    )
    if not earlier:
        return None
    label = f"verification {record.id} of GTIN {record.gtin} serial {record.serial}"
    deviation = events.raise_deviation(
        session,
        actor=auth.system_actor(session),
        source_type="serial_verification",
        source_id=record.id,
        source_label=label,
        title=f"Suspected falsified pack: dispensed serial {record.serial} verified again",
        description=(
            f"Pack GTIN {record.gtin}, lot {record.lot_number}, serial {record.serial} was "
            f"already supplied to a patient and has now been verified {earlier + 1} times "
            "since. A copy of its code may be in circulation (Delegated Reg. (EU) 2016/161 "
            "Art. 30): quarantine the pack presented, and investigate."
        ),
        area="Distribution",
        occurred_at=now,
        discovered_at=now,
        product=f"GTIN {record.gtin}",
        immediate_actions="Pack presented to be kept apart and not supplied.",
    )
    return deviation.number
