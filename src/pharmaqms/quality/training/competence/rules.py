"""The rules of competence, as tables each with its regulatory basis: the kinds of
authorisation, which signed duties need which authorisation, and what "qualified" checks.
Pure data and pure functions; ``status.py`` gathers the facts, ``gate.py`` enforces."""

from __future__ import annotations

from dataclasses import dataclass

from pharmaqms.quality.training.competence.models import AuthorisationKind


@dataclass(frozen=True)
class KindInfo:
    label: str
    basis: str


AUTHORISATION_KINDS: dict[str, KindInfo] = {
    AuthorisationKind.QP_CERTIFICATION.value: KindInfo(
        "Qualified Person (batch certification)",
        "Directive 2001/83/EC Art. 48–51; EU GMP Annex 16 §1, §2; EU GMP Chapter 2 §2.6",
    ),
    AuthorisationKind.GDP_RESPONSIBLE_PERSON.value: KindInfo(
        "Responsible Person for good distribution practice",
        "Directive 2001/83/EC Art. 79(b); EU GDP Guidelines 2013/C 343/01 §2.2",
    ),
    AuthorisationKind.QA_APPROVER.value: KindInfo(
        "QA approver of GMP documents and records",
        "EU GMP Chapter 2 §2.5, §2.7; 21 CFR 211.22",
    ),
    AuthorisationKind.QUALIFIED_TRAINER.value: KindInfo(
        "Qualified trainer and assessor",
        "EU GMP Chapter 2 §2.11–2.14; 21 CFR 211.25(a)",
    ),
}


def kind_label(kind: str) -> str:
    info = AUTHORISATION_KINDS.get(kind)
    return info.label if info else kind


@dataclass(frozen=True)
class DutyRule:
    """A signed step that only a person qualified for a duty may take."""

    code: str
    record_type: str
    step: str  # the workflow transition
    duty: str
    authorisation: AuthorisationKind
    basis: str


DUTY_RULES: tuple[DutyRule, ...] = (
    DutyRule(
        "qp_batch_certification",
        "batch_release",
        "release",
        "certify and release a batch",
        AuthorisationKind.QP_CERTIFICATION,
        "Directive 2001/83/EC Art. 51; EU GMP Annex 16 §1.5, §2; 21 CFR 211.22, 211.25(a)",
    ),
)


def duty_rules_for(record_type: str, step: str) -> list[DutyRule]:
    return [r for r in DUTY_RULES if r.record_type == record_type and r.step == step]


@dataclass(frozen=True)
class Check:
    """One part of being qualified for a job role, and where it comes from."""

    code: str
    title: str
    basis: str


CHECKS: tuple[Check, ...] = (
    Check(
        "training_current",
        "Training on the job role's curricula current",
        "EU GMP Chapter 2 §2.11, §2.12; 21 CFR 211.25(a)",
    ),
    Check(
        "assessment_valid",
        "Required assessments passed and not due again",
        "EU GMP Chapter 2 §2.14 (practical effectiveness of training assessed); "
        "EU GMP Annex 16 §1.7; 21 CFR 211.25(a)",
    ),
    Check(
        "authorisation_in_force",
        "Required authorisation in force",
        "Directive 2001/83/EC Art. 48–51; EU GMP Chapter 2 §2.6; EU GMP Annex 16 §2",
    ),
    Check(
        "holds_duty_role",
        "Holds a job role that carries the duty",
        "EU GMP Chapter 2 §2.3 (responsibilities set out in job descriptions)",
    ),
)
CHECK_BY_CODE = {c.code: c for c in CHECKS}


@dataclass(frozen=True)
class Gap:
    """A reason someone is not qualified: which check, and what exactly is missing."""

    check: str
    detail: str

    @property
    def basis(self) -> str:
        return CHECK_BY_CODE[self.check].basis

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "detail": self.detail, "basis": self.basis}
