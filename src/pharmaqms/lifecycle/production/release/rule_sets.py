"""Release rule sets per product family as controlled configuration
(``production.release_rule_sets``): which rules of the code's catalogue (``rules.RULES``) the
release checklist of a batch runs, by the family of its product.

A version is written as ``{"default": [rule codes], "sterile": [rule codes], …}``: a family
without its own set runs the default one. A set may leave out a rule whose basis is guidance
only; never one a binding regulation demands (``Rule.mandatory``: the batch record, QC
results, materials, deviations, equipment, training, changes, nonconformances and the QP's
certification basis of Annex 16 §1.7 / 21 CFR 211.192).

The families are the code's catalogue, placed by the product's dosage form: a site's SOP
names the family of each product form, the dosage form on the master data names the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import ConfigKind, InForce, Reading, register_kind
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordStatus
from pharmaqms.lifecycle.production.release.evidence import gather
from pharmaqms.lifecycle.production.release.models import BatchRelease
from pharmaqms.lifecycle.production.release.rules import RULES, Rule, judge_all
from pharmaqms.platform.masterdata.models import Lot, Product

RELEASE_RULE_SETS = "production.release_rule_sets"
DEFAULT = "default"
SANDBOX_BATCHES = 10


@dataclass(frozen=True)
class Family:
    code: str
    title: str
    # Words of a dosage form that place a product in the family (the first family matching
    # wins, so sterile comes before the oral forms: "suspension for injection" is sterile).
    words: tuple[str, ...]


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
FAMILY_CODES = (DEFAULT, *(f.code for f in FAMILIES))
RULE_CODES = tuple(rule.code for rule in RULES)
MANDATORY = tuple(rule for rule in RULES if rule.mandatory)


def family_of(dosage_form: str) -> str:
    form = dosage_form.lower()
    for family in FAMILIES:
        if any(word in form for word in family.words):
            return family.code
    return DEFAULT


def family_of_lot(session: Session, lot: Lot) -> str:
    product = (
        session.get(Product, lot.product_id)
        if lot.product_id is not None
        else session.scalars(select(Product).where(Product.code == lot.item_code)).first()
    )
    return family_of(product.dosage_form) if product is not None else DEFAULT


def rules_for(content: Any, family: str) -> tuple[Rule, ...]:
    """The rules a family's batches run, in the catalogue's order."""
    chosen = set(content.get(family) or content[DEFAULT])
    return tuple(rule for rule in RULES if rule.code in chosen)


def rule_set_problems(content: Any) -> list[str]:
    """The schema: a set per known family, each naming known rules once."""
    if not isinstance(content, dict) or not content:
        return ['give the rules per family, e.g. {"default": ["batch_record_complete", …]}']
    problems = []
    if DEFAULT not in content:
        problems.append("the default set is missing: a family without its own set runs it")
    for family, codes in content.items():
        if family not in FAMILY_CODES:
            problems.append(f"unknown product family {family!r}; known: {', '.join(FAMILY_CODES)}")
            continue
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            problems.append(f"{family}: give its rules as a non-empty list of rule codes")
            continue
        unknown = [c for c in codes if c not in RULE_CODES]
        if unknown:
            problems.append(
                f"{family}: unknown rule(s) {', '.join(map(repr, unknown))}; the catalogue: "
                f"{', '.join(RULE_CODES)}"
            )
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            problems.append(f"{family}: names a rule twice: {', '.join(twice)}")
    return problems


def rule_set_controls(content: Any) -> list[str]:
    """No set leaves out a rule a binding regulation demands."""
    return [
        f"{family} drops {rule.code!r} ({rule.title}; {rule.basis}): the rule is mandatory "
        "by regulation and no family's set may leave it out"
        for family, codes in content.items()
        for rule in MANDATORY
        if rule.code not in codes
    ]


def _changed(current: Any, proposed: Any) -> list[str]:
    lines = []
    for family in FAMILY_CODES:
        now = {r.code for r in rules_for(current, family)}
        then = {r.code for r in rules_for(proposed, family)}
        if now != then:
            added, dropped = sorted(then - now), sorted(now - then)
            lines.append(
                f"{family}: adds {', '.join(added) or 'nothing'}; drops "
                f"{', '.join(dropped) or 'nothing'}"
            )
    return lines or ["no family's rules change"]


def _sandbox(session: Session, current: InForce, proposed: Any) -> list[str]:
    """The batches awaiting release: their verdict now and under the proposal (evaluated on
    their evidence as it stands, nothing written)."""
    lines = _changed(current.content, proposed)
    decided = select(BatchRelease.lot_id)
    lots = session.scalars(
        select(Lot)
        .join(BatchRecord, BatchRecord.lot_id == Lot.id)
        .where(BatchRecord.status == BatchRecordStatus.COMPLETED, Lot.id.not_in(decided))
        .order_by(BatchRecord.completed_at)
        .limit(SANDBOX_BATCHES)
    ).all()
    for lot in lots:
        family = family_of_lot(session, lot)
        evidence = gather(session, lot.id)
        now = _verdict(judge_all(evidence, rules_for(current.content, family)))
        then = _verdict(judge_all(evidence, rules_for(proposed, family)))
        lines.append(f"{lot.audit_label()} ({family}): {now}; under the proposal {then}")
    lines.append(
        f"{len(lots)} batch(es) awaiting release evaluated (at most {SANDBOX_BATCHES}); "
        "decided batches keep the rules they were decided under"
    )
    return lines


def _verdict(results: Sequence[Any]) -> str:
    failing = [r.code for r in results if not r.passed]
    return f"fails {', '.join(failing)}" if failing else f"all {len(results)} rules pass"


def rule_set_in_force(session: Session) -> InForce:
    return config_store.in_force(session, RELEASE_RULE_SETS)


def _reading(content: Any) -> Reading:
    """A row per rule of the catalogue, a column per family that has its own set (and the
    default), each cell whether the family's batches run the rule."""
    families = [DEFAULT, *(f.code for f in FAMILIES if f.code in content)]
    titles = {f.code: f.title for f in FAMILIES} | {DEFAULT: "every other family"}
    runs = {family: {r.code for r in rules_for(content, family)} for family in families}
    return Reading(
        "rule_sets",
        {
            "families": [(family, titles[family]) for family in families],
            "rows": [(rule, [rule.code in runs[family] for family in families]) for rule in RULES],
            "placed_by": [(f.code, ", ".join(f.words)) for f in FAMILIES],
        },
    )


register_kind(
    ConfigKind(
        key=RELEASE_RULE_SETS,
        title="Release rule sets per product family",
        module="release",
        description="Which rules of the release checklist the batches of each product family "
        "run (the family by the product's dosage form; a family without a set runs the "
        "default). A rule a binding regulation demands is in every set. A decision keeps the "
        "set it was made under.",
        builtin=lambda: {DEFAULT: list(RULE_CODES)},
        validate=rule_set_problems,
        controls=rule_set_controls,
        sandbox=_sandbox,
        regulatory_basis="EU GMP Annex 16 §1.7; 21 CFR 211.192",
        reading=_reading,
    )
)
