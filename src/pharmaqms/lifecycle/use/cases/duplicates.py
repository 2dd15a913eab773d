"""Duplicate detection across sources: the same patient's reaction reported twice (by the
pharmacist through a complaint and by the doctor through E2B, or by openFDA and again by the
reporter). A probabilistic record-linkage score in the manner of Fellegi and Sunter (1969):
each field that agrees adds log2(m/u) bits of evidence, each that disagrees adds
log2((1−m)/(1−u)), a field missing on either side adds nothing. ``m`` is how often the field
agrees between two reports of one case (reporting noise), ``u`` how often it agrees by chance
between different cases. Every part of the score is shown, so a person sees why.

Pure: the cases are read beforehand; blocking (only cases sharing a suspect product are
compared) is the caller's."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# A pair at or above this many bits is a likely duplicate; at or above POSSIBLE, worth a look.
# Set on a generated case base with planted duplicates (tests/…/test_duplicates.py): at 12 bits
# precision and recall are both ≥ 0.95 there; 8 bits already lets half the flags be chance.
LIKELY = 12.0
POSSIBLE = 6.0


@dataclass(frozen=True)
class Profile:
    """What duplicate detection compares of one case."""

    case_id: int
    number: str
    age_years: Decimal | None
    sex: str | None
    products: frozenset[str]
    events: frozenset[str]  # normalised verbatim terms and MedDRA codes
    onset: date | None
    received: date
    reporter_type: str | None
    country: str | None


@dataclass(frozen=True)
class Field:
    name: str
    m: float
    u: float


# m and u: judged for spontaneous reports (m from the noise between reports of one case, u
# from how common a value is); the weights they give are printed beside each comparison.
FIELDS = {
    "age": Field("age within 1 year", 0.90, 0.05),
    "sex": Field("same sex", 0.95, 0.50),
    "product": Field("a suspect product in common", 0.95, 0.10),
    "event": Field("an event in common", 0.85, 0.05),
    "onset": Field("onset within 3 days", 0.80, 0.02),
    "received": Field("received within 30 days", 0.85, 0.10),
    "reporter": Field("same kind of reporter", 0.70, 0.50),
    "country": Field("same country", 0.95, 0.20),
}


def term(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Part:
    field: str
    agrees: bool | None  # None: missing on one side, no evidence either way
    weight: float
    detail: str


@dataclass(frozen=True)
class Score:
    other: Profile
    total: float
    parts: tuple[Part, ...]

    @property
    def verdict(self) -> str:
        if self.total >= LIKELY:
            return "likely duplicate"
        if self.total >= POSSIBLE:
            return "possible duplicate"
        return "different cases"

    def explanation(self) -> str:
        shown = "; ".join(
            f"{p.field}: {p.detail} ({p.weight:+.1f})" for p in self.parts if p.agrees is not None
        )
        return f"{self.total:+.1f} bits, {self.verdict}: {shown}"


def _part(key: str, agrees: bool | None, detail: str) -> Part:
    f = FIELDS[key]
    if agrees is None:
        return Part(f.name, None, 0.0, detail)
    weight = math.log2(f.m / f.u) if agrees else math.log2((1 - f.m) / (1 - f.u))
    return Part(f.name, agrees, weight, detail)


def _near(a: date | None, b: date | None, days: int) -> bool | None:
    if a is None or b is None:
        return None
    return abs((a - b).days) <= days


def score(a: Profile, b: Profile) -> Score:
    age = (
        None if a.age_years is None or b.age_years is None else abs(a.age_years - b.age_years) <= 1
    )
    known_sex = {"male", "female"}
    sex = None if a.sex not in known_sex or b.sex not in known_sex else a.sex == b.sex
    products = a.products & b.products
    events = a.events & b.events
    parts = (
        _part("age", age, f"{a.age_years} vs {b.age_years}"),
        _part("sex", sex, f"{a.sex} vs {b.sex}"),
        _part(
            "product",
            bool(products) if a.products and b.products else None,
            ", ".join(sorted(products)) or "none in common",
        ),
        _part(
            "event",
            bool(events) if a.events and b.events else None,
            ", ".join(sorted(events)) or "none in common",
        ),
        _part("onset", _near(a.onset, b.onset, 3), f"{a.onset} vs {b.onset}"),
        _part("received", _near(a.received, b.received, 30), f"{a.received} vs {b.received}"),
        _part(
            "reporter",
            None
            if not a.reporter_type or not b.reporter_type
            else a.reporter_type == b.reporter_type,
            f"{a.reporter_type} vs {b.reporter_type}",
        ),
        _part(
            "country",
            None if not a.country or not b.country else a.country == b.country,
            f"{a.country} vs {b.country}",
        ),
    )
    return Score(b, round(sum(p.weight for p in parts), 2), parts)


def candidates(case: Profile, others: list[Profile], threshold: float = POSSIBLE) -> list[Score]:
    """The other cases scoring at least ``threshold``, best first."""
    found = [score(case, o) for o in others if o.case_id != case.case_id]
    return sorted((s for s in found if s.total >= threshold), key=lambda s: -s.total)
