"""What each phase must deliver before its gate may pass, and which functions approve it: two
tables, each row with its basis in the guidance. Pure data and pure functions (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pharmaqms.lifecycle.rnd.gates.models import PHASES, DevelopmentPhase, EvidenceKind

PHASE_LABELS: dict[str, str] = {
    DevelopmentPhase.PRE_FORMULATION: "Pre-formulation",
    DevelopmentPhase.FORMULATION: "Formulation",
    DevelopmentPhase.SCALE_UP: "Scale-up",
    DevelopmentPhase.CLINICAL_SUPPLY: "Clinical supply",
    DevelopmentPhase.REGISTRATION: "Registration",
    DevelopmentPhase.TECHNOLOGY_TRANSFER: "Technology transfer",
}


@dataclass(frozen=True)
class Deliverable:
    code: str
    label: str
    kind: EvidenceKind  # what counts as evidence of it
    basis: str


E, S, R, D = (
    EvidenceKind.EXPERIMENT,
    EvidenceKind.STABILITY_STUDY,
    EvidenceKind.RISK_ASSESSMENT,
    EvidenceKind.DOCUMENT,
)

DELIVERABLES: dict[DevelopmentPhase, tuple[Deliverable, ...]] = {
    DevelopmentPhase.PRE_FORMULATION: (
        Deliverable(
            "api_characterisation",
            "Drug substance characterisation (solid form, solubility, stability)",
            E,
            "ICH Q8(R2) §2.1.1 components of the drug product: drug substance",
        ),
        Deliverable(
            "excipient_compatibility",
            "Drug substance-excipient compatibility",
            E,
            "ICH Q8(R2) §2.1.2 excipients",
        ),
    ),
    DevelopmentPhase.FORMULATION: (
        Deliverable(
            "prototype_formulation",
            "Prototype formulations and their dissolution",
            E,
            "ICH Q8(R2) §2.2.1 formulation development",
        ),
        Deliverable(
            "formulation_risk",
            "Risk assessment of the critical quality attributes",
            R,
            "ICH Q9(R1) §4; ICH Q8(R2) §2 (quality risk management in development)",
        ),
    ),
    DevelopmentPhase.SCALE_UP: (
        Deliverable(
            "scale_up_batches",
            "Scale-up batches and the process parameters they set",
            E,
            "ICH Q8(R2) §2.3 manufacturing process development",
        ),
        Deliverable(
            "process_risk",
            "Process risk assessment (critical process parameters)",
            R,
            "ICH Q9(R1) §4; ICH Q11 §3 for the drug substance process",
        ),
    ),
    DevelopmentPhase.CLINICAL_SUPPLY: (
        Deliverable(
            "clinical_batch_record",
            "Batch record of the investigational product",
            D,
            "EudraLex Vol. 4 Annex 13 §§ 26-32 (manufacturing of investigational products)",
        ),
        Deliverable(
            "clinical_stability",
            "Stability of the clinical batches",
            S,
            "ICH Q1A(R2) §2.2; Annex 13 (shelf life of investigational products)",
        ),
    ),
    DevelopmentPhase.REGISTRATION: (
        Deliverable(
            "product_specification",
            "Finished product specification for the dossier",
            D,
            "ICH Q6A; ICH M4Q module 3.2.P.5",
        ),
        Deliverable(
            "registration_stability",
            "Primary stability data for the dossier",
            S,
            "ICH Q1A(R2) §2.2.7 (data at submission); ICH M4Q module 3.2.P.8",
        ),
    ),
    DevelopmentPhase.TECHNOLOGY_TRANSFER: (
        Deliverable(
            "commercial_batch_record",
            "Master batch record at the commercial site",
            D,
            "ICH Q10 §3.1.2 technology transfer; EudraLex Vol. 4 Chapter 4 §4.3",
        ),
        Deliverable(
            "transfer_risk",
            "Risk assessment of the transfer",
            R,
            "ICH Q9(R1) Annex II.6; WHO TRS 961 Annex 7 §3 (technology transfer)",
        ),
    ),
}


class Function(StrEnum):
    PROJECT_LEAD = "project_lead"
    QA_RND = "qa_rnd"
    REGULATORY_AFFAIRS = "regulatory_affairs"


FUNCTION_LABELS: dict[str, str] = {
    Function.PROJECT_LEAD: "Project lead",
    Function.QA_RND: "QA R&D",
    Function.REGULATORY_AFFAIRS: "Regulatory affairs",
}
# The role a function's signer holds; the project lead is moreover the project's lead.
FUNCTION_ROLE: dict[Function, str] = {
    Function.PROJECT_LEAD: "rd_scientist",
    Function.QA_RND: "qa",
    Function.REGULATORY_AFFAIRS: "regulatory_affairs",
}

_LEAD_QA = (Function.PROJECT_LEAD, Function.QA_RND)
_ALL = (*_LEAD_QA, Function.REGULATORY_AFFAIRS)
# Early gates are the lab's and QA's decision; from scale-up on, what is decided becomes part
# of the dossier (or must match it), so regulatory affairs signs too (ICH Q10 §2.7 management
# review of development; the registered details, Directive 2001/83/EC Art. 8(3)).
APPROVERS: dict[DevelopmentPhase, tuple[Function, ...]] = {
    DevelopmentPhase.PRE_FORMULATION: _LEAD_QA,
    DevelopmentPhase.FORMULATION: _LEAD_QA,
    DevelopmentPhase.SCALE_UP: _ALL,
    DevelopmentPhase.CLINICAL_SUPPLY: _ALL,
    DevelopmentPhase.REGISTRATION: _ALL,
    DevelopmentPhase.TECHNOLOGY_TRANSFER: _ALL,
}


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase.replace("_", " "))


def deliverable(phase: str, code: str) -> Deliverable | None:
    return next((d for d in DELIVERABLES[DevelopmentPhase(phase)] if d.code == code), None)


def next_phase(phase: str) -> DevelopmentPhase | None:
    index = PHASES.index(DevelopmentPhase(phase))
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


def missing_deliverables(phase: str, covered: set[str]) -> list[Deliverable]:
    """The deliverables of the phase without any current evidence."""
    return [d for d in DELIVERABLES[DevelopmentPhase(phase)] if d.code not in covered]


def waiting_functions(phase: str, approved: set[str]) -> list[Function]:
    return [f for f in APPROVERS[DevelopmentPhase(phase)] if f.value not in approved]
