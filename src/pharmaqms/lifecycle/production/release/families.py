"""Product families of the release rule sets: where a product's batches fall, by the words of
its dosage form (a site's SOP names the family of each product form; the dosage form on the
master data names the form).

The code's catalogue (``FAMILIES``) applies unless a version of
``production.release_rule_sets`` carries its own list under the reserved entry ``"families"``
(``[{"code", "title", "words"}, …]``): QA then adds a family or moves a dosage form from one to
another through change control, and a decision — which records the version it ran under — also
records how its product was placed. In either list the first family matching wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.platform.masterdata.models import Lot, Product

# A product none of the families matches runs the default set.
DEFAULT = "default"
# The reserved entry of a version that holds its own families (not a family's rule set).
FAMILIES_ENTRY = "families"
RESERVED = (DEFAULT, FAMILIES_ENTRY)
FAMILY_FIELDS = ("code", "title", "words")
FAMILY_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


@dataclass(frozen=True)
class Family:
    code: str
    title: str
    # Words of a dosage form that place a product in the family (the first family matching
    # wins, so sterile comes before the oral forms: "suspension for injection" is sterile).
    words: tuple[str, ...]

    def as_entry(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "words": list(self.words)}


FAMILIES: tuple[Family, ...] = (
    Family(
        "sterile",
        "Sterile products (injections, infusions, eye preparations)",
        ("inject", "infusion", "parenteral", "sterile", "ophthalmic", "eye drop"),
    ),
    Family(
        "biological",
        "Biological products (vaccines, blood products)",
        ("vaccine", "biolog", "plasma"),
    ),
    Family(
        "oral_solid",
        "Oral solid dosage forms",
        ("tablet", "capsule", "granule", "powder", "lozenge"),
    ),
    Family("oral_liquid", "Oral liquids", ("syrup", "oral solution", "oral suspension", "elixir")),
    Family("topical", "Topical products", ("cream", "ointment", "gel", "paste", "patch")),
)


def has_own_families(content: Any) -> bool:
    return isinstance(content, dict) and FAMILIES_ENTRY in content


def families_of(content: Any) -> tuple[Family, ...]:
    """The families a version places products in, in matching order: its own list, else the
    code's (every version written before families were configurable)."""
    if not has_own_families(content):
        return FAMILIES
    return tuple(Family(f["code"], f["title"], tuple(f["words"])) for f in content[FAMILIES_ENTRY])


def family_codes(content: Any) -> tuple[str, ...]:
    return (DEFAULT, *(f.code for f in families_of(content)))


def family_of(dosage_form: str, families: Sequence[Family] = FAMILIES) -> str:
    form = dosage_form.lower()
    for family in families:
        if any(word in form for word in family.words):
            return family.code
    return DEFAULT


def family_title(code: str, families: Sequence[Family] = FAMILIES) -> str:
    """The title ``families`` give the family ``code`` (those of the version a checklist ran
    under); the default set's placement is said in words, as it is no family of the list."""
    for family in families:
        if family.code == code:
            return family.title
    return "None: no family matches its dosage form" if code == DEFAULT else code


def family_of_lot(session: Session, lot: Lot, families: Sequence[Family]) -> str:
    """The family of the batch's product among ``families``: those of the version the
    checklist runs under (``families_of(rule_set.content)``)."""
    product = (
        session.get(Product, lot.product_id)
        if lot.product_id is not None
        else session.scalars(select(Product).where(Product.code == lot.item_code)).first()
    )
    return family_of(product.dosage_form, families) if product is not None else DEFAULT


def family_problems(entries: Any) -> list[str]:
    """The schema of a version's own families: a non-empty list, each with a snake_case code of
    its own (not a reserved entry), a title, and the lower-case words of a dosage form that
    place a product in it."""
    if not isinstance(entries, list) or not entries:
        return [
            'families: give the product families as a non-empty list of {"code", "title", '
            '"words"} in the order they are matched (the first match wins), or leave the entry '
            "out to use the code's families"
        ]
    problems: list[str] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        where = f"families entry {n}"
        if not isinstance(entry, dict):
            problems.append(f'{where}: give it as {{"code", "title", "words"}}')
            continue
        unknown = sorted(set(entry) - set(FAMILY_FIELDS))
        if unknown:
            problems.append(
                f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; a family has "
                "code, title and words"
            )
        code = entry.get("code")
        if not isinstance(code, str) or not FAMILY_CODE.fullmatch(code):
            problems.append(
                f"{where}: code {code!r} is not a lowercase snake_case name (e.g. modified_release)"
            )
        elif code in RESERVED:
            problems.append(f"{where}: code {code!r} is reserved and can't name a family")
        elif code in seen:
            problems.append(f"{where}: code {code!r} names a family defined above already")
        else:
            seen.add(code)
            where = f"{where} ({code})"
        title = entry.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{where}: give the family a title")
        problems += _word_problems(where, entry.get("words"))
    return problems


def _word_problems(where: str, words: Any) -> list[str]:
    if (
        not isinstance(words, list)
        or not words
        or not all(isinstance(w, str) and w.strip() for w in words)
    ):
        return [
            f"{where}: give the words of a dosage form that place a product in it as a "
            "non-empty list of non-empty words"
        ]
    upper = [w for w in words if w != w.lower()]
    if upper:
        # The dosage form is lower-cased before matching: an upper-case word never matches.
        return [
            f"{where}: words are matched against the lower-cased dosage form; write "
            f"{', '.join(repr(w.lower()) for w in upper)}"
        ]
    return []


def families_changed(current: Any, proposed: Any) -> list[str]:
    """What a proposal changes in the families, one line each (none: the same families)."""
    now, then = families_of(current), families_of(proposed)
    if now == then:
        return []
    before, after = {f.code: f for f in now}, {f.code: f for f in then}
    lines = []
    for family in then:
        old = before.get(family.code)
        if old is None:
            lines.append(
                f"families: adds {family.code} ({family.title}), placed by "
                f"{', '.join(family.words)}"
            )
        elif old.words != family.words:
            added = [w for w in family.words if w not in old.words]
            dropped = [w for w in old.words if w not in family.words]
            lines.append(
                f"families: {family.code} placed by {', '.join(family.words)} (adds "
                f"{', '.join(added) or 'no word'}; drops {', '.join(dropped) or 'no word'})"
            )
        elif old.title != family.title:
            lines.append(f"families: {family.code} is titled {family.title!r}")
    lines += [
        f"families: drops {f.code} ({f.title}); its products go to the next family matching, "
        "or default"
        for f in now
        if f.code not in after
    ]
    order = ", ".join(f.code for f in then)
    lines.append(f"families, in the order they are matched (the first match wins): {order}")
    return lines


def shadowed_products(
    session: Session, families: Sequence[Family], current: Sequence[Family]
) -> list[str]:
    """Products whose dosage form names a word of a family the proposal adds or re-words
    that an earlier family takes first (the first match wins): "prolonged-release tablet"
    goes to oral_solid when modified_release comes after it. A warning, not a refusal: the
    order may be meant (the code's own order sends "powder for injection" to sterile)."""
    codes = [f.code for f in families]
    before = {f.code: f.words for f in current}
    changed = {f.code for f in families if before.get(f.code) != f.words}
    lines = []
    for product in session.scalars(select(Product).order_by(Product.code)):
        form = product.dosage_form.lower()
        placed = family_of(form, families)
        if placed == DEFAULT:
            continue
        for later in families[codes.index(placed) + 1 :]:
            if later.code not in changed:
                continue
            words = [w for w in later.words if w in form]
            if words:
                lines.append(
                    f"{product.code} ({product.dosage_form}) names {', '.join(words)} of "
                    f"{later.code} but is placed in {placed}, which comes first: move "
                    f"{later.code} before {placed} if it is meant for it"
                )
    return lines
