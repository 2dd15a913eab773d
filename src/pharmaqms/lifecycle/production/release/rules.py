"""The release checklist: declarative rules over the evidence of one batch, each returning
pass or fail with what it found and what it looked at. Pure: the evidence is loaded beforehand
(``evidence.gather``), so every rule can be tested without a database.

The engine fails closed: a rule whose evidence could not be loaded, or that breaks while
judging, fails with the reason — it never passes by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pharmaqms.lifecycle.production.batchrecords.models import (
    DONE_STEP_STATUSES,
    REVIEWED_EXCEPTION_STATUSES,
    BatchRecordStatus,
    step_signed_hash,
)
from pharmaqms.lifecycle.production.batchrecords.service import GENESIS, chain_digest
from pharmaqms.lifecycle.production.materials.models import APPROVED_STATUSES
from pharmaqms.lifecycle.production.release.evidence import (
    ConsumptionFacts,
    DeviationFacts,
    Evidence,
)
from pharmaqms.platform.connectors.mes_store import MATERIAL_HOLDER
from pharmaqms.platform.masterdata.models import LotStatus
from pharmaqms.quality.deviations.models import BatchDisposition, DeviationStatus

MAX_FINDINGS = 12
# Dispositions by which a deviation's investigation lets the batch go on to release.
NOT_IMPACTING = frozenset(
    {BatchDisposition.NO_IMPACT.value, BatchDisposition.RELEASE_PERMITTED.value}
)
CLOSED_DEVIATION = frozenset({DeviationStatus.CLOSED.value, DeviationStatus.CANCELLED.value})


@dataclass(frozen=True)
class Outcome:
    findings: list[str]  # why the rule fails; empty when it passes
    evidence: list[str]  # what it looked at


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    basis: str  # where the check comes from
    needs: tuple[str, ...]  # evidence parts it reads
    check: Callable[[Evidence], Outcome]
    # Demanded by a binding regulation (21 CFR 210/211, EU GMP and its Annex 16): a release
    # rule set of a product family may not leave it out. A rule whose basis is guidance only
    # (ISPE's review by exception, ICH Q10's process monitoring) may be left out of a family's
    # set under change control.
    mandatory: bool = False


@dataclass(frozen=True)
class RuleResult:
    code: str
    title: str
    basis: str
    passed: bool
    findings: tuple[str, ...]
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "title": self.title,
            "basis": self.basis,
            "passed": self.passed,
            "findings": list(self.findings),
            "evidence": list(self.evidence),
        }


def _capped(findings: list[str]) -> list[str]:
    if len(findings) <= MAX_FINDINGS:
        return findings
    return [*findings[:MAX_FINDINGS], f"… and {len(findings) - MAX_FINDINGS} more"]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- the rules ------------------------------------------------------------------------------


def external_record_reviewed(e: Evidence) -> Outcome:
    """A batch executed in an external MES: complete when the MES reported its end and its
    imported record was reviewed by exception, with a signature still covering that review,
    on the evidence as it stands now."""
    x = e.external
    assert x is not None
    findings: list[str] = []
    looked = [f"{e.lot.audit_label()} was executed in an external MES", *x.summary]
    if x.review_number is None:
        findings.append("its imported record has not been reviewed (open the MES record review)")
        return Outcome(findings, looked)
    looked.append(f"{x.review_number}: {x.review_status}")
    looked += [f"reviewed by {who}" for who in x.reviewed_by]
    if x.review_status != "reviewed":
        findings.append(f"{x.review_number} is {x.review_status}, not reviewed")
    elif not x.reviewed_by:
        findings.append(f"{x.review_number}: no 'Reviewed' signature covers the review")
    if not x.evidence_unchanged:
        findings.append(f"{x.review_number}: the imported record changed since it was reviewed")
    if e.lot.manufacturing_ended_at is None:
        findings.append("the MES has not reported the end of the batch")
    return Outcome(findings, looked)


def batch_record_complete(e: Evidence) -> Outcome:
    record = e.record
    if record is None and e.external is not None and e.external.executed_elsewhere:
        return external_record_reviewed(e)
    if record is None:
        return Outcome([f"{e.lot.audit_label()} has no electronic batch record"], [])
    findings: list[str] = []
    if record.status != BatchRecordStatus.COMPLETED:
        findings.append(f"{record.number} is {record.status.replace('_', ' ')}, not completed")
    if len(e.steps) != record.step_count:
        findings.append(f"{record.number} has {len(e.steps)} steps of {record.step_count}")
    hashes = {
        s.id: step_signed_hash(s.number, record.id, s.position, s.title, s.entries_digest)
        for s in e.steps
    }
    # Who signed each step, counting only signatures that still cover its content. A step is
    # performed once (the workflow), so one signer per step; more are kept aside if found.
    performed: dict[int, int] = {}
    more_performers: dict[int, set[int]] = {}
    verified: dict[int, list[int]] = {}
    for sig in e.step_signatures:
        step_id = sig.record_id
        if sig.content_hash != hashes.get(step_id):
            continue
        if sig.meaning == "Performed":
            if step_id in performed:
                more_performers.setdefault(step_id, {performed[step_id]}).add(sig.signer_id)
            else:
                performed[step_id] = sig.signer_id
        elif sig.meaning == "Verified":
            verified.setdefault(step_id, []).append(sig.signer_id)
    digest = GENESIS
    verifications = 0
    for step in e.steps:
        if step.status not in DONE_STEP_STATUSES:
            findings.append(
                f"step {step.position} ({step.title}) is {step.status.replace('_', ' ')}"
            )
            continue
        digest = chain_digest(digest, step.number, step.entries_digest)
        if step.id not in performed:
            findings.append(
                f"step {step.position}: no 'Performed' signature covers its current entries"
            )
        if step.verification_required:
            performers = more_performers.get(step.id) or {performed.get(step.id, 0)}
            if any(uid not in performers for uid in verified.get(step.id, ())):
                verifications += 1
            else:
                findings.append(
                    f"step {step.position} ({step.title}): the second-person verification is "
                    "missing"
                )
    reviewed = [s for s in e.record_signatures if s.meaning == "Reviewed"]
    if record.status == BatchRecordStatus.COMPLETED:
        if digest != record.steps_digest:
            findings.append(f"{record.number}: the steps no longer match the reviewed record")
        current = record.content_hash()
        if not any(s.content_hash == current for s in reviewed):
            findings.append(f"{record.number}: no production review signature covers its content")
    needed = sum(1 for s in e.steps if s.verification_required)
    looked = [
        f"{record.number} from {record.master_number}: {record.status.replace('_', ' ')}",
        f"{len(e.steps)} steps, {len(performed)} with a valid 'Performed' signature",
        f"{verifications} of {needed} second-person verifications present",
        "content hashes of every signed step recomputed; the step chain checked against the "
        "production review",
    ]
    looked += [
        f"production review: {s.meaning} by {s.signer} on {_stamp(s.signed_at)}" for s in reviewed
    ]
    return Outcome(_capped(findings), looked)


def exceptions_reviewed(e: Evidence) -> Outcome:
    x = e.external
    if e.record is None and x is not None and x.executed_elsewhere:
        if x.review_number is None:
            return Outcome(["the exceptions of the imported record have not been reviewed"], [])
        looked = [
            f"{x.review_number}: {len(x.assessed) + len(x.unassessed)} exceptions of the "
            f"imported record, {len(x.assessed)} assessed",
            *x.assessed[:MAX_FINDINGS],
        ]
        return Outcome(_capped([f"not assessed: {u}" for u in x.unassessed]), looked)
    if e.record is None:
        return Outcome(["no batch record, so no review of its exceptions"], [])
    open_ = [
        f"{n} ({k.replace('_', ' ')}): {d}"
        for n, k, s, d in e.exceptions
        if s not in REVIEWED_EXCEPTION_STATUSES
    ]
    looked = [f"{len(e.exceptions)} exceptions recorded, {len(e.exceptions) - len(open_)} reviewed"]
    looked += [f"{n} {k.replace('_', ' ')}: {s}" for n, k, s, _ in e.exceptions[:MAX_FINDINGS]]
    return Outcome(_capped([f"not reviewed: {o}" for o in open_]), looked)


def deviation_resolved(d: DeviationFacts) -> bool:
    """Closed (or cancelled), or its investigation found no impact on this batch — and never
    a decision to reject or reprocess it."""
    if d.disposition in (BatchDisposition.REJECT, BatchDisposition.REPROCESS):
        return False
    return d.status in CLOSED_DEVIATION or d.disposition in NOT_IMPACTING


def deviations_closed(e: Evidence) -> Outcome:
    findings = []
    for d in e.deviations:
        label = f"{d.number} ({d.classification or 'unclassified'}, {d.status.replace('_', ' ')})"
        if d.disposition in (BatchDisposition.REJECT, BatchDisposition.REPROCESS):
            findings.append(f"{label}: decided {d.disposition} for this batch")
        elif deviation_resolved(d):
            continue
        else:
            findings.append(
                f"{label} is open and its impact on the batch is not assessed: {d.title}"
            )
    looked = [f"{len(e.deviations)} deviations linked to the batch"]
    looked += [
        f"{d.number} {d.status.replace('_', ' ')}, batch disposition {d.disposition or 'none'} "
        f"({d.via})"
        for d in e.deviations[:MAX_FINDINGS]
    ]
    return Outcome(_capped(findings), looked)


def qc_passed(e: Evidence) -> Outcome:
    qc = e.qc
    if qc is None:
        return Outcome(["the QC status of the batch is not known"], [])
    findings = [f"QC {qc.verdict.replace('_', ' ')}: {r}" for r in qc.reasons]
    if not qc.passed and not findings:
        findings.append(f"QC verdict {qc.verdict.replace('_', ' ')}")
    if not qc.approved_certificates:
        findings.append("no approved certificate of analysis")
    looked = [
        f"QC verdict: {qc.verdict.replace('_', ' ')}",
        f"specifications: {', '.join(qc.specifications) or 'none'}",
    ]
    looked += [f"{t.test_code}: {t.shown} ({t.outcome.replace('_', ' ')})" for t in qc.tests]
    looked.append(f"open OOS investigations: {', '.join(qc.open_investigations) or 'none'}")
    looked.append(f"approved certificates: {', '.join(qc.approved_certificates) or 'none'}")
    return Outcome(_capped(findings), looked)


# The codes the material checks give (``materials.service``), so an override's codes compare.
STATUS_CODES = {
    LotStatus.QUARANTINE.value: "quarantine",
    LotStatus.ON_HOLD.value: "on_hold",
    LotStatus.REJECTED.value: "rejected",
    LotStatus.RECALLED.value: "recalled",
    LotStatus.EXPIRED.value: "expired_status",
}


def use_blocks(c: ConsumptionFacts) -> list[tuple[str, str]]:
    """Why a material lot should not have been used when it was: (code, what)."""
    blocks = []
    if c.status_at_use is None:
        blocks.append(("no_history", "its status at the time of use is not on record"))
    elif c.status_at_use != LotStatus.RELEASED:
        code = STATUS_CODES.get(c.status_at_use, "not_released")
        blocks.append((code, f"it was {c.status_at_use.replace('_', ' ')} when used"))
    day = c.consumed_at.astimezone(UTC).date()
    if c.expires_on is None:
        blocks.append(("no_expiry", "it has no expiry or retest date"))
    elif c.expires_on < day:
        blocks.append(("expired", f"it expired on {c.expires_on.isoformat()}, before its use"))
    blocks.extend(supplier_blocks(c))
    return blocks


def supplier_blocks(c: ConsumptionFacts) -> list[tuple[str, str]]:
    """Was the lot's supplier approved for the material when the lot was used: the approved
    supplier list entry as it stood then (a use from the MES never passed the dispensing check).
    The codes are those of ``materials.service.check_material_for_use``."""
    s = c.supplier
    if s is None:
        return [("no_supplier", "it has no supplier recorded")]
    if s.status is None:
        return [
            (
                "supplier_not_approved",
                f"its supplier {s.code} was not on the approved supplier list for "
                f"{c.material_code} when used",
            )
        ]
    if s.status not in APPROVED_STATUSES:
        return [
            (
                "supplier_not_approved",
                f"its supplier {s.code} was {s.status.replace('_', ' ')} for {c.material_code} "
                f"({s.approval}) when used",
            )
        ]
    if s.qualified_until is None or s.qualified_until < c.consumed_at.astimezone(UTC).date():
        until = s.qualified_until.isoformat() if s.qualified_until else "never set"
        return [
            (
                "qualification_expired",
                f"the qualification of its supplier {s.code} for {c.material_code} had expired "
                f"({until}; {s.approval}) when used",
            )
        ]
    return []


def _supplier_then(c: ConsumptionFacts) -> str:
    s = c.supplier
    if s is None:
        return "no supplier"
    if s.status is None:
        return f"supplier {s.code} not on the list then"
    return f"supplier {s.code} {s.status.replace('_', ' ')} then ({s.approval})"


def materials_released(e: Evidence) -> Outcome:
    findings = []
    for c in e.consumptions:
        blocks = use_blocks(c)
        if not blocks:
            continue
        if c.override and {code for code, _ in blocks} <= set(c.override_codes):
            continue
        findings.append(
            f"{c.material_code} lot {c.lot_number} ({c.step}): " + "; ".join(w for _, w in blocks)
        )
    looked = [f"{len(e.consumptions)} material consumptions of the batch (genealogy)"]
    looked += [
        f"{c.material_code} lot {c.lot_number}: {c.quantity:g} {c.unit} on {_stamp(c.consumed_at)}"
        f", status then {(c.status_at_use or 'unknown').replace('_', ' ')}, expiry "
        f"{c.expires_on.isoformat() if c.expires_on else 'none'}, {_supplier_then(c)}"
        + (f", under QA override {c.override}" if c.override else "")
        for c in e.consumptions[:MAX_FINDINGS]
    ]
    return Outcome(_capped(findings), looked)


def equipment_qualified(e: Evidence) -> Outcome:
    findings = [
        f"step {u.step_position}: " + "; ".join(u.standing.reasons)
        for u in e.equipment_uses
        if not u.standing.usable
    ]
    looked = [f"{len(e.equipment_uses)} equipment uses recorded"]
    looked += [
        f"step {u.step_position}: {u.code} on {_stamp(u.used_at)}, qualified until "
        f"{u.standing.qualification.valid_until.isoformat() if u.standing.qualification else '—'}"
        + (
            f", calibration due {u.standing.calibration.due_on.isoformat()}"
            if u.standing.calibration
            else ""
        )
        for u in e.equipment_uses[:MAX_FINDINGS]
    ]
    return Outcome(_capped(findings), looked)


def training_current(e: Evidence) -> Outcome:
    t = e.training
    findings = [
        f"{c.signature.signer}, '{c.signature.meaning}' on {_stamp(c.signature.signed_at)}: {c.why}"
        for c in t.failures
    ]
    signatures = len(e.step_signatures) + len(e.record_signatures)
    if signatures and not t.checks:
        findings.append("the batch record is signed but no governing document is known")
    looked = [
        f"{signatures} signatures ({t.checks} checks) of {len(t.signers)} people against "
        f"{len(t.documents)} governing documents: {', '.join(sorted(t.documents)) or 'none'}",
    ]
    looked += sorted(t.backing)[:MAX_FINDINGS]
    return Outcome(_capped(findings), looked)


def no_blocking_change(e: Evidence) -> Outcome:
    findings = [f"{n} is open ({s.replace('_', ' ')}): {t}" for n, t, s in e.changes]
    return Outcome(
        findings,
        [
            "change controls linked to the batch, its record or its steps: "
            + (", ".join(n for n, _, _ in e.changes) or "none open")
        ],
    )


def spc_alerts_acknowledged(e: Evidence) -> Outcome:
    findings = [f"{n} not acknowledged: {s}" for n, s in e.spc_alerts]
    return Outcome(_capped(findings), [f"{len(e.spc_alerts)} open SPC alerts on the batch"])


def no_open_nonconformance(e: Evidence) -> Outcome:
    findings = [f"{n} is {s.replace('_', ' ')}" for n, s in e.nonconformances]
    return Outcome(findings, [f"open nonconforming product records: {len(e.nonconformances)}"])


def lot_awaits_release(e: Evidence) -> Outcome:
    """In quarantine, or on hold by a record another rule judges (a deviation, an OOS
    investigation, a nonconformance): that rule then decides. A hold nobody's record explains
    (placed by a person, by a record not linked to the batch) fails here."""
    lot = e.lot
    looked = [f"{lot.audit_label()} is {lot.status.replace('_', ' ')}"]
    if lot.status == LotStatus.QUARANTINE:
        return Outcome([], looked)
    why = f" ({lot.status_reason})" if lot.status_reason else ""
    if lot.status == LotStatus.ON_HOLD and e.hold is not None:
        holder, before = e.hold
        looked.append(f"held by {holder}; {before.replace('_', ' ')} before the hold")
        judged_by = {d.number: "deviations_closed" for d in e.deviations}
        judged_by |= {n: "no_open_nonconformance" for n, _ in e.nonconformances}
        if e.qc is not None:
            judged_by |= {n: "qc_passed" for n in e.qc.open_investigations}
        # The MES import holds a batch that consumed a material lot not released for use.
        judged_by[MATERIAL_HOLDER] = "materials_released"
        if holder in judged_by and before == LotStatus.QUARANTINE:
            looked.append(
                f"{holder} is judged by the rule {judged_by[holder]}; the release lifts its hold"
            )
            return Outcome([], looked)
    return Outcome(
        [f"the batch is {lot.status.replace('_', ' ')}{why}, not awaiting release"], looked
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "batch_record_complete",
        "Batch record complete and signed",
        "21 CFR 211.188, 211.192; EU GMP Ch. 4; ISA-88 Part 4",
        ("steps", "signatures"),
        batch_record_complete,
        mandatory=True,
    ),
    Rule(
        "exceptions_reviewed",
        "Every exception reviewed by QA",
        "Review by exception (ISPE GAMP MES guidance)",
        ("exceptions",),
        exceptions_reviewed,
    ),
    Rule(
        "deviations_closed",
        "Deviations closed or assessed as not impacting",
        "21 CFR 211.192; EU GMP Ch. 1.4(xiv), Annex 16 §1.7",
        ("deviations",),
        deviations_closed,
        mandatory=True,
    ),
    Rule(
        "qc_passed",
        "QC results in specification, no open OOS, certificate approved",
        "21 CFR 211.165; EU GMP Ch. 6; FDA OOS guidance",
        ("qc",),
        qc_passed,
        mandatory=True,
    ),
    Rule(
        "materials_released",
        "Materials released, within expiry and from an approved supplier at time of use",
        "21 CFR 211.84, 211.86; EU GMP Ch. 5.35",
        ("materials",),
        materials_released,
        mandatory=True,
    ),
    Rule(
        "equipment_qualified",
        "Equipment qualified and calibrated at time of use",
        "21 CFR 211.68, 211.160(b)(4); EU GMP Annex 15",
        ("equipment",),
        equipment_qualified,
        mandatory=True,
    ),
    Rule(
        "training_current",
        "Training of every signer current at signing",
        "21 CFR 211.25; Part 11 §11.10(i); EU GMP Ch. 2",
        ("training",),
        training_current,
        mandatory=True,
    ),
    Rule(
        "no_blocking_change",
        "No open change control on the batch",
        "ICH Q10 §3.2.3; EU GMP Annex 16 §1.7",
        ("changes",),
        no_blocking_change,
        mandatory=True,
    ),
    Rule(
        "spc_alerts_acknowledged",
        "SPC alerts of the batch acknowledged",
        "ICH Q10 §3.2.1 (process performance monitoring)",
        ("spc",),
        spc_alerts_acknowledged,
    ),
    Rule(
        "no_open_nonconformance",
        "No open nonconforming product record",
        "21 CFR 211.115; EU GMP Ch. 5",
        ("nonconformances",),
        no_open_nonconformance,
        mandatory=True,
    ),
    Rule(
        "lot_awaits_release",
        "Batch awaiting release (not held by an open matter)",
        "EU GMP Annex 16 §1.7",
        ("hold",),
        lot_awaits_release,
        mandatory=True,
    ),
)


def judge(rule: Rule, evidence: Evidence) -> RuleResult:
    """One rule, failing closed."""
    missing = [
        f"{part}: {evidence.unavailable[part]}"
        for part in rule.needs
        if part in evidence.unavailable
    ]
    if missing:
        findings = [f"can't decide: evidence not available ({m})" for m in missing]
        return RuleResult(rule.code, rule.title, rule.basis, False, tuple(findings), ())
    try:
        outcome = rule.check(evidence)
    except Exception as failure:
        reason = (
            f"can't decide: the rule failed while judging ({failure or type(failure).__name__})"
        )
        return RuleResult(rule.code, rule.title, rule.basis, False, (reason,), ())
    return RuleResult(
        rule.code,
        rule.title,
        rule.basis,
        not outcome.findings,
        tuple(outcome.findings),
        tuple(outcome.evidence),
    )


def judge_all(evidence: Evidence, rules: Sequence[Rule] = RULES) -> list[RuleResult]:
    return [judge(rule, evidence) for rule in rules]
