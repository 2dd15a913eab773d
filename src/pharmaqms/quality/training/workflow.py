"""The life of a training requirement, the training permissions, and the gates training adds
to every module's workflow (see ``gate.py``):

assigned → completed   signed "Read and understood" by the trainee, after opening the text (and
                       passing the quiz if any)
assigned → cancelled   superseded by a newer version, no longer required, or document obsolete
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import DEFAULT_ROLES, READ_ONLY_ROLES, grant
from pharmaqms.kernel.workflow import Transition, Workflow, register_gate, roles, states
from pharmaqms.quality.training import gate
from pharmaqms.quality.training.models import TrainingRequirement

grant("training.manage", "qa")

# Everyone who works can be trained; the gate makes sure only the trainee signs their own.
TRAINEES = roles(*(r for r in DEFAULT_ROLES if r not in READ_ONLY_ROLES and r != "integration"))
CANCELLERS = roles("qa", "qualified_person", "admin", "system")


def quiz_passed(requirement: Any) -> list[str]:
    if requirement.quiz_required and requirement.quiz_passed_at is None:
        return [f"pass the quiz on {requirement.version_number} first"]
    return []


def document_opened(requirement: Any) -> list[str]:
    """ "Read and understood" after the text was opened, never blind (every path, the generic
    transition included)."""
    if requirement.opened_at is None:
        return [f"open {requirement.version_number} and read it first"]
    return []


def _completed(session: Session, requirement: Any, actor: Actor) -> None:
    from pharmaqms.quality.training.service import on_completed

    on_completed(session, requirement, actor=actor)


TRAINING_REQUIREMENT_WORKFLOW = Workflow(
    record_type="training_requirement",
    states=("assigned", "completed", "cancelled"),
    initial="assigned",
    retired_states=frozenset({"cancelled"}),
    transitions=(
        Transition(
            "complete",
            "Read and understood",
            states("assigned"),
            "completed",
            TRAINEES,
            signature="Read and understood",
            guards=(document_opened, quiz_passed),
            effects=(_completed,),
        ),
        Transition(
            "cancel",
            "Cancel",
            states("assigned"),
            "cancelled",
            CANCELLERS,
            reason_required=True,
        ),
    ),
)

TRAINING_REQUIREMENT = register(
    RecordType(
        name="training_requirement",
        label="Training requirement",
        plural="Training requirements",
        model=TrainingRequirement,
        workflow=TRAINING_REQUIREMENT_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("version_number", "Document"),
            ("title", "Title"),
            ("due_at", "Due"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("version_number", "Document version"),
            ("title", "Title"),
            ("source", "Why assigned"),
            ("due_at", "Due"),
            ("quiz_score_percent", "Quiz score (%)"),
            ("completed_at", "Completed"),
            ("expires_at", "Falls due again"),
            ("status", "Status"),
        ),
        module="training",
        detail_url=lambda r: f"/training/requirements/{r.id}",
        searchable=("number", "version_number", "title"),
    )
)

register_gate(gate.only_the_trainee_signs)
register_gate(gate.governed_steps_need_current_training)
