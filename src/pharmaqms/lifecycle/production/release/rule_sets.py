"""Release rule sets per product family as controlled configuration
(``production.release_rule_sets``): which rules of the code's catalogue (``rules.RULES``) the
release checklist of a batch runs, by the family of its product.

A version is written as ``{"default": [rule codes], "sterile": [rule codes], …}``: a family
without its own set runs the default one. A set may leave out a rule whose basis is guidance
only; never one a binding regulation demands (``Rule.mandatory``: the batch record, QC
results, materials, deviations, equipment, training, changes, nonconformances and the QP's
certification basis of Annex 16 §1.7 / 21 CFR 211.192).

A product is placed in a family by its dosage form (``families.py``): the code's catalogue,
unless the version carries its own families under the reserved entry ``"families"`` — one
configuration key, so a decision, which records the version it ran under, also records how its
product was placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import ConfigKind, InForce, Reading, register_kind
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordStatus
from pharmaqms.lifecycle.production.release.evidence import gather
from pharmaqms.lifecycle.production.release.families import (
    DEFAULT,
    FAMILIES_ENTRY,
    Family,
    families_changed,
    families_of,
    family_codes,
    family_of_lot,
    family_problems,
    has_own_families,
    shadowed_products,
)
from pharmaqms.lifecycle.production.release.models import BatchRelease
from pharmaqms.lifecycle.production.release.rules import RULES, Rule, judge_all
from pharmaqms.platform.masterdata.models import Lot

RELEASE_RULE_SETS = "production.release_rule_sets"
SANDBOX_BATCHES = 10
RULE_CODES = tuple(rule.code for rule in RULES)
MANDATORY = tuple(rule for rule in RULES if rule.mandatory)


def rules_for(content: Any, family: str) -> tuple[Rule, ...]:
    """The rules a family's batches run, in the catalogue's order."""
    chosen = set(content.get(family) or content[DEFAULT])
    return tuple(rule for rule in RULES if rule.code in chosen)


def rule_set_problems(content: Any) -> list[str]:
    """The schema: the version's own families if it has them, and a set per family of the
    version, each naming known rules once."""
    if not isinstance(content, dict) or not content:
        return ['give the rules per family, e.g. {"default": ["batch_record_complete", …]}']
    problems = family_problems(content[FAMILIES_ENTRY]) if FAMILIES_ENTRY in content else []
    # Malformed families name no family: their sets are checked for their rules only.
    known = None if problems else family_codes(content)
    if DEFAULT not in content:
        problems.append("the default set is missing: a family without its own set runs it")
    for family, codes in content.items():
        if family == FAMILIES_ENTRY:
            continue
        if known is not None and family not in known:
            whose = "this version's families" if FAMILIES_ENTRY in content else "known"
            problems.append(f"unknown product family {family!r}; {whose}: {', '.join(known)}")
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
        if family != FAMILIES_ENTRY
        for rule in MANDATORY
        if rule.code not in codes
    ]


def _changed(current: Any, proposed: Any) -> list[str]:
    lines = families_changed(current, proposed)
    codes = family_codes(proposed)
    codes += tuple(c for c in family_codes(current) if c not in codes)
    for family in codes:
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
    """The batches awaiting release: the family each falls in and its verdict, now and under
    the proposal (evaluated on their evidence as it stands, nothing written); and the batches
    decided lately that the proposal would place in another family."""
    lines = _changed(current.content, proposed)
    now_families, then_families = families_of(current.content), families_of(proposed)
    decided = select(BatchRelease.lot_id)
    lots = session.scalars(
        select(Lot)
        .join(BatchRecord, BatchRecord.lot_id == Lot.id)
        .where(BatchRecord.status == BatchRecordStatus.COMPLETED, Lot.id.not_in(decided))
        .order_by(BatchRecord.completed_at)
        .limit(SANDBOX_BATCHES)
    ).all()
    moves = []
    for lot in lots:
        family = family_of_lot(session, lot, now_families)
        moved_to = family_of_lot(session, lot, then_families)
        evidence = gather(session, lot.id)
        now = _verdict(judge_all(evidence, rules_for(current.content, family)))
        then = _verdict(judge_all(evidence, rules_for(proposed, moved_to)))
        placed = family if moved_to == family else f"{family} → {moved_to}"
        lines.append(f"{lot.audit_label()} ({placed}): {now}; under the proposal {then}")
        if moved_to != family:
            moves.append(f"{lot.audit_label()} {family} → {moved_to}")
    if now_families != then_families:
        lines.append(
            "changes family under the proposal: " + "; ".join(moves)
            if moves
            else "no batch awaiting release changes family under the proposal"
        )
    lines.append(
        f"{len(lots)} batch(es) awaiting release evaluated (at most {SANDBOX_BATCHES}); "
        "decided batches keep the rules they were decided under"
    )
    if now_families != then_families:
        lines += _decided_moves(session, then_families)
    lines += shadowed_products(session, then_families, now_families)
    return lines


def _decided_moves(session: Session, proposed: Sequence[Family]) -> list[str]:
    """The batches decided lately whose product the proposal places in another family than
    the version their decision recorded: they keep that placement (the proposal changes only
    decisions still to come)."""
    lines = []
    recent = session.execute(
        select(BatchRelease, Lot)
        .join(Lot, Lot.id == BatchRelease.lot_id)
        .order_by(BatchRelease.evaluated_at.desc(), BatchRelease.id.desc())
        .limit(SANDBOX_BATCHES)
    ).all()
    for release, lot in recent:
        used = config_store.used_on(session, release, RELEASE_RULE_SETS) or config_store.in_force(
            session, RELEASE_RULE_SETS, at=release.evaluated_at
        )
        family = family_of_lot(session, lot, families_of(used.content))
        moved_to = family_of_lot(session, lot, proposed)
        if moved_to != family:
            lines.append(
                f"{lot.audit_label()} ({release.number}) was decided as {family} under "
                f"{used.label}; the proposal would place it in {moved_to}; the decision keeps "
                "the placement it was made under"
            )
    return lines


def _verdict(results: Sequence[Any]) -> str:
    failing = [r.code for r in results if not r.passed]
    return f"fails {', '.join(failing)}" if failing else f"all {len(results)} rules pass"


def rule_set_in_force(session: Session) -> InForce:
    return config_store.in_force(session, RELEASE_RULE_SETS)


def _reading(content: Any) -> Reading:
    """A row per rule of the catalogue, a column per family that has its own set (and the
    default), each cell whether the family's batches run the rule; and the families the
    version places products in (its own, or the code's), with the words that place them."""
    placed = families_of(content)
    families = [DEFAULT, *(f.code for f in placed if f.code in content)]
    titles = {f.code: f.title for f in placed} | {DEFAULT: "every other family"}
    runs = {family: {r.code for r in rules_for(content, family)} for family in families}
    return Reading(
        "rule_sets",
        {
            "families": [(family, titles[family]) for family in families],
            "rows": [(rule, [rule.code in runs[family] for family in families]) for rule in RULES],
            "placed_by": [(f.code, f.title, ", ".join(f.words)) for f in placed],
            "own_families": has_own_families(content),
        },
    )


def _draft_from(content: Any) -> Any:
    """A draft starts with the families spelled out (the code's, where the version in force
    has none of its own), so QA edits them as part of the version instead of typing them."""
    if not isinstance(content, dict) or has_own_families(content):
        return content
    return {FAMILIES_ENTRY: [f.as_entry() for f in families_of(content)], **content}


register_kind(
    ConfigKind(
        key=RELEASE_RULE_SETS,
        title="Release rule sets per product family",
        module="release",
        description="Which rules of the release checklist the batches of each product family "
        "run (the family by the product's dosage form; a family without a set runs the "
        'default), and, under "families", the families themselves (code, title, the '
        "dosage-form words that place a product; the first match wins; without it, the code's "
        "families). A rule a binding regulation demands is in every set. A decision keeps the "
        "set and the placement it was made under.",
        builtin=lambda: {DEFAULT: list(RULE_CODES)},
        validate=rule_set_problems,
        controls=rule_set_controls,
        sandbox=_sandbox,
        regulatory_basis="EU GMP Annex 16 §1.7; 21 CFR 211.192",
        reading=_reading,
        draft_from=_draft_from,
    )
)
