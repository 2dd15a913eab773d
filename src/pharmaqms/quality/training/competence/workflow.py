"""The life of an authorisation and of an assessment, the competence permissions, and the
qualification gate this module adds to every workflow (``gate.py``):

authorisation  proposed → granted   signed "Approved" by the head of QA, never the holder
               granted → revoked    signed "Retired", with the reason
               (in force, expired or not yet effective is read from the effective dates)
assessment     recorded → confirmed a quiz signed "Performed" by the person who took it; an
                                    observed practice signed "Verified" by the observer, never
                                    by the person observed
"""

from __future__ import annotations

from typing import Any

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import DEFAULT_ROLES, READ_ONLY_ROLES, grant
from pharmaqms.kernel.workflow import Transition, Workflow, register_gate, roles, states
from pharmaqms.quality.training.competence import gate
from pharmaqms.quality.training.competence.models import (
    AssessmentStatus,
    Authorisation,
    AuthorisationStatus,
    CompetenceAssessment,
    RequirementKind,
)

# Granting and revoking authorisations for role-critical duties: the head of QA. The role is
# "qa"; an organisation with a separate head-of-QA role moves the permission to it.
grant("training.authorise", "qa")
# Observing practice and recording its outcome: QA and the supervisors who train on the job.
grant("training.assess", "qa", "production_supervisor", "qualified_person")

AUTHORISERS = roles("qa")
# Everyone who works may take a quiz; the actor guard makes sure only on their own behalf.
ASSESSED = roles(*(r for r in DEFAULT_ROLES if r not in READ_ONLY_ROLES and r != "integration"))
OBSERVERS = roles("qa", "production_supervisor", "qualified_person")


def _kind_is(kind: RequirementKind) -> Any:
    def guard(assessment: Any) -> list[str]:
        if assessment.kind != kind.value:
            return [f"{assessment.number} is not a {kind.value.replace('_', ' ')} assessment"]
        return []

    # Named for the configuration's guard catalogue, which chooses guards by name.
    guard.__name__ = guard.__qualname__ = f"kind_is_{kind.value}"
    return guard


def only_the_person_attests_a_quiz(assessment: Any, actor: Actor) -> list[str]:
    if assessment.user_id != actor.user_id:
        return [f"{assessment.number} is another person's quiz: only they sign it"]
    return []


AUTHORISATION_WORKFLOW = Workflow(
    record_type="training_authorisation",
    states=tuple(s.value for s in AuthorisationStatus),
    initial=AuthorisationStatus.PROPOSED.value,
    retired_states=frozenset({AuthorisationStatus.REVOKED.value}),
    transitions=(
        Transition(
            "grant",
            "Grant the authorisation",
            states("proposed"),
            "granted",
            AUTHORISERS,
            signature="Approved",
            # Nobody authorises themselves (EU GMP Chapter 2 §2.1: responsibilities assigned).
            forbid_holders_of=("user_id",),
        ),
        Transition(
            "revoke",
            "Revoke the authorisation",
            states("granted"),
            "revoked",
            AUTHORISERS,
            signature="Retired",
            reason_required=True,
        ),
    ),
)

ASSESSMENT_WORKFLOW = Workflow(
    record_type="training_assessment",
    states=tuple(s.value for s in AssessmentStatus),
    initial=AssessmentStatus.RECORDED.value,
    transitions=(
        Transition(
            "attest_quiz",
            "Sign the quiz result",
            states("recorded"),
            "confirmed",
            ASSESSED,
            signature="Performed",
            guards=(_kind_is(RequirementKind.QUIZ),),
            actor_guards=(only_the_person_attests_a_quiz,),
        ),
        Transition(
            "verify_observation",
            "Sign the observed practice",
            states("recorded"),
            "confirmed",
            OBSERVERS,
            signature="Verified",
            guards=(_kind_is(RequirementKind.OBSERVED_PRACTICE),),
            # The observer is someone else: nobody assesses their own practice.
            forbid_holders_of=("user_id",),
        ),
    ),
)

AUTHORISATION = register(
    RecordType(
        name="training_authorisation",
        label="Authorisation",
        plural="Authorisations",
        model=Authorisation,
        workflow=AUTHORISATION_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("kind", "Duty"),
            ("effective_from", "Effective from"),
            ("effective_to", "Effective to"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("kind", "Duty"),
            ("scope", "Scope"),
            ("basis", "Basis"),
            ("basis_sha256", "Basis document SHA-256"),
            ("effective_from", "Effective from"),
            ("effective_to", "Effective to"),
            ("granted_at", "Granted"),
            ("revoked_at", "Revoked"),
            ("revocation_reason", "Why revoked"),
            ("status", "Status"),
        ),
        module="training",
        detail_url=lambda r: f"/training/authorisations/{r.id}",
        searchable=("number", "kind", "scope"),
    )
)

ASSESSMENT = register(
    RecordType(
        name="training_assessment",
        label="Competence assessment",
        plural="Competence assessments",
        model=CompetenceAssessment,
        workflow=ASSESSMENT_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Assessment"),
            ("kind", "Kind"),
            ("assessed_at", "Assessed"),
            ("passed", "Passed"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Assessment"),
            ("kind", "Kind"),
            ("assessed_at", "Assessed"),
            ("passed", "Passed"),
            ("score_percent", "Score (%)"),
            ("observations", "Observations"),
            ("valid_until", "Valid until"),
            ("status", "Status"),
        ),
        module="training",
        detail_url=lambda r: f"/training/qualification/people/{r.user_id}",
        searchable=("number", "title"),
    )
)

register_gate(gate.duty_needs_qualification)
