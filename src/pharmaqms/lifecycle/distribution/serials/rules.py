"""What a verification answers: typed facts about one pack and a table of rules, each with its
regulatory basis, tried in order; the first that applies decides. Pure: the facts are gathered
beforehand (``service.verify_pack``), so every answer can be tested without a database.

The order puts what endangers a patient first: a pack the system does not know, or whose lot
or expiry does not match the system's, may be falsified; a recalled pack must not be supplied
whatever else is true of it; then packs already taken out of the supply chain; then expiry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Answer(StrEnum):
    GENUINE = "genuine"
    UNKNOWN_SERIAL = "unknown_serial"
    WRONG_LOT_OR_EXPIRY = "wrong_lot_or_expiry"
    RECALLED = "recalled"
    DECOMMISSIONED = "decommissioned"
    ALREADY_DISPENSED = "already_dispensed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class PackFacts:
    """What the system knows of the pack asked about (``known`` False: nothing at all)."""

    known: bool
    lot_number: str | None = None
    expires_on: date | None = None
    lot_status: str | None = None
    disposition: str | None = None
    decommissioned: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    lot_number: str
    expiry: date | None
    today: date


@dataclass(frozen=True, slots=True)
class Rule:
    answer: Answer
    basis: str
    applies: Callable[[PackFacts, Request], str | None]
    """The reason the rule applies (said to the person verifying), or None."""


def _unknown(pack: PackFacts, _: Request) -> str | None:
    return None if pack.known else "no pack with this GTIN and serial was ever commissioned"


def _mismatch(pack: PackFacts, asked: Request) -> str | None:
    if pack.lot_number != asked.lot_number:
        return f"the serial belongs to another lot than {asked.lot_number}"
    if asked.expiry is not None and pack.expires_on != asked.expiry:
        return f"the pack's expiry is not {asked.expiry.isoformat()}"
    return None


def _recalled(pack: PackFacts, _: Request) -> str | None:
    if pack.lot_status == "recalled":
        return "the lot is recalled"
    return "the pack is recalled" if pack.disposition == "recalled" else None


_OUT_OF_CHAIN = frozenset({"destroyed", "disposed", "inactive", "stolen"})


def _decommissioned(pack: PackFacts, _: Request) -> str | None:
    if pack.decommissioned:
        return "the pack was decommissioned"
    if pack.disposition in _OUT_OF_CHAIN:
        return f"the pack is {pack.disposition}"
    return None


def _dispensed(pack: PackFacts, _: Request) -> str | None:
    if pack.disposition in ("dispensed", "retail_sold"):
        return "the pack was already supplied to a patient"
    return None


def _expired(pack: PackFacts, asked: Request) -> str | None:
    if pack.expires_on is not None and pack.expires_on < asked.today:
        return f"the pack expired on {pack.expires_on.isoformat()}"
    return "the lot is expired" if pack.lot_status == "expired" else None


RULES: tuple[Rule, ...] = (
    Rule(
        Answer.UNKNOWN_SERIAL,
        "Delegated Reg. (EU) 2016/161 Art. 11 and 36(b); FD&C Act §582 (DSCSA verification)",
        _unknown,
    ),
    Rule(
        Answer.WRONG_LOT_OR_EXPIRY,
        "Delegated Reg. (EU) 2016/161 Art. 11 (every data element of the identifier must match)",
        _mismatch,
    ),
    Rule(Answer.RECALLED, "Directive 2001/83/EC Art. 117; EU GDP Guidelines ch. 6", _recalled),
    Rule(Answer.DECOMMISSIONED, "Delegated Reg. (EU) 2016/161 Art. 12 and 22", _decommissioned),
    Rule(Answer.ALREADY_DISPENSED, "Delegated Reg. (EU) 2016/161 Art. 25 and 30", _dispensed),
    Rule(Answer.EXPIRED, "EU GDP Guidelines ch. 5 (expired stock is not supplied)", _expired),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: Answer
    detail: str
    basis: str


def decide(pack: PackFacts, asked: Request) -> Verdict:
    for rule in RULES:
        reason = rule.applies(pack, asked)
        if reason is not None:
            return Verdict(rule.answer, reason, rule.basis)
    return Verdict(
        Answer.GENUINE,
        "the pack was commissioned with this lot and expiry and is in the supply chain",
        "Delegated Reg. (EU) 2016/161 Art. 10-11",
    )
