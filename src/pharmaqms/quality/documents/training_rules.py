"""Which documents need training before they come into force, and the check that the training
they need is assigned (EU GMP Chapter 2 §2.11, 21 CFR 211.25(a)).

A version of a document that governs how people work comes into force only when the job roles
it applies to are named: a curriculum of at least one active job role names the document, so
making the version effective assigns read-and-understood training to everyone holding those
roles (training's hook, registered through ``training_port``). A version nobody is to be
trained on would come into force read by nobody. The document types below that need no
training say why, with their basis; every other type needs it.

The judgement is pure (``needs_training``, ``training_named``) over facts loaded beforehand
(``facts_of``), like the release rules (``lifecycle/production/release/rules.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pharmaqms.quality.documents.models import DocumentType, DocumentVersion
from pharmaqms.quality.documents.training_port import training


@dataclass(frozen=True)
class TrainingRule:
    doc_type: DocumentType
    needs_training: bool
    why: str
    basis: str


TRAINING_RULES: tuple[TrainingRule, ...] = (
    TrainingRule(
        DocumentType.SOP,
        True,
        "a procedure is a way of working: whoever works under it is trained on it",
        "21 CFR 211.25(a); EU GMP Ch. 2 §2.11, Ch. 4 §4.29",
    ),
    TrainingRule(
        DocumentType.WORK_INSTRUCTION,
        True,
        "a work instruction is a procedure at the level of one task",
        "21 CFR 211.25(a); EU GMP Ch. 2 §2.11",
    ),
    TrainingRule(
        DocumentType.POLICY,
        True,
        "a policy states principles everyone it applies to must know (GMP, data integrity)",
        "EU GMP Ch. 2 §2.11-2.12; ICH Q10 §2.3",
    ),
    TrainingRule(
        DocumentType.SPECIFICATION,
        False,
        "acceptance criteria, not a way of working: results are judged against them, and the "
        "analyst is trained on the test procedure (an SOP) that applies them",
        "EU GMP Ch. 4 §4.11-4.14; 21 CFR 211.160",
    ),
    TrainingRule(
        DocumentType.FORM,
        False,
        "a template of a record, filled in under the procedure that prescribes it: the training "
        "is on that procedure",
        "EU GMP Ch. 4 §4.1 (records), §4.29",
    ),
    TrainingRule(
        DocumentType.MASTER_BATCH_RECORD,
        False,
        "executed step by step in the electronic batch record, each step shown at the point of "
        "use and refused to anyone not trained on the SOPs the step names",
        "21 CFR 211.186, 211.188; EU GMP Ch. 4 §4.15-4.18",
    ),
    TrainingRule(
        DocumentType.PATIENT_LEAFLET,
        False,
        "written for patients: no one at the site works under it",
        "Directive 2001/83/EC Art. 59",
    ),
)

RULE_OF_TYPE = {rule.doc_type.value: rule for rule in TRAINING_RULES}


@dataclass(frozen=True)
class EffectiveFacts:
    """What the check reads of a version about to come into force."""

    number: str  # the document's number, SOP-2026-0004
    version: str  # "1.0"
    doc_type: str
    job_roles: tuple[str, ...]  # active job roles whose active curricula name the document


def needs_training(doc_type: str) -> bool:
    """A type the table does not know needs training: fail closed."""
    rule = RULE_OF_TYPE.get(doc_type)
    return rule is None or rule.needs_training


def training_named(facts: EffectiveFacts) -> list[str]:
    """Why the version may not come into force yet: empty when its training is named."""
    if not needs_training(facts.doc_type) or facts.job_roles:
        return []
    return [
        f"{facts.number} v{facts.version} needs read-and-understood training, and no job role's "
        "curriculum names it: add the document to the curriculum of each job role it applies "
        "to (Training → Job roles), then make the version effective"
    ]


def facts_of(session: Session, version: DocumentVersion) -> EffectiveFacts:
    document = version.document
    return EffectiveFacts(
        number=document.number,
        version=version.label,
        doc_type=document.doc_type,
        # Training's fact, asked through its registration: documents does not import it.
        job_roles=training().job_roles_naming(session, document.id),
    )
