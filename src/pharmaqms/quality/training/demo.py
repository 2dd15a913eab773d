"""Demo training: four job roles with their curricula, the demo people in them, two months of
history (most read and understood, a few left overdue, a quiz passed, a revision still due).
The documents of the other demos join these job roles' curricula as they come into force
(``demo_steps.TRAINED_IN``), so this demo loads before them. Written through the services, so
all of it is audited; the history is written with the clock set back, as it would have happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.models import DocumentVersion
from pharmaqms.quality.training import curricula, gate, service
from pharmaqms.quality.training.models import RequirementStatus

TRAINING_DOCUMENTS = {
    "gmp": ("policy", "Good manufacturing practice: basic principles", "Quality assurance"),
    "gowning": ("sop", "Gowning for grade C and D areas", "Production"),
    "press": ("work_instruction", "Set-up and in-process checks of the tablet press", "Production"),
    "hplc": ("sop", "HPLC system suitability and sequence review", "Quality control"),
    "review": ("sop", "Periodic review of controlled documents", "Quality assurance"),
    "goods_in": ("sop", "Receipt and sampling of incoming goods", "Distribution"),
}

# job role: (area, {curriculum: [(document key, recurrence in months)]}, holders)
JobRoles = dict[str, tuple[str, dict[str, list[tuple[str, int | None]]], list[str]]]
JOB_ROLES: JobRoles = {
    "Tablet press operator": (
        "Production",
        {"GMP basics": [("gmp", 12), ("gowning", 12)], "Compression": [("press", None)]},
        ["oscar.operator", "sofia.supervisor"],
    ),
    "QC analyst — chromatography": (
        "Quality control",
        {"GMP basics": [("gmp", 12)], "Chromatography": [("hplc", 24)]},
        ["chen.qc"],
    ),
    "QA specialist": (
        "Quality assurance",
        {"GMP basics": [("gmp", 12)], "Quality system": [("review", None)]},
        ["quinn.qa", "rosa.qa"],
    ),
    "Warehouse and distribution operator": (
        "Distribution",
        {"GMP basics": [("gmp", 12)], "Goods in": [("goods_in", None)]},
        ["lena.logistics"],
    ),
}

# Training left unread in the history: overdue today.
UNREAD = {("oscar.operator", "gowning"), ("lena.logistics", "gmp"), ("sofia.supervisor", "press")}

HPLC_QUIZ: list[dict[str, Any]] = [
    {
        "question": "When is a sequence allowed to start?",
        "options": [
            "After the system suitability test has passed",
            "As soon as the column is warm",
        ],
        "answer": 0,
    },
    {
        "question": "The resolution of the critical pair is below the limit. What do you do?",
        "options": ["Integrate manually", "Stop, record it and inform the supervisor"],
        "answer": 1,
    },
    {
        "question": "Who reviews the audit trail of the sequence?",
        "options": ["A second analyst before release of the results", "Nobody"],
        "answer": 0,
    },
]


def _approved(session: Session, ctx: DemoContext, key: str) -> DocumentVersion:
    """Written and approved; it comes into force once a curriculum names it."""
    # Imported here: importing the document demo registers its loaders, which run after this.
    from pharmaqms.quality.documents.demo import BODY

    doc_type, title, area = TRAINING_DOCUMENTS[key]
    author = ctx.people["sofia.supervisor" if area == "Production" else "chen.qc"]
    approver = ctx.people["quinn.qa"]
    body = BODY.format(title_lower=title[0].lower() + title[1:], area=area)
    version = documents.create_document(
        session, actor=author, doc_type=doc_type, title=title, body=body, area=area
    )
    documents.transition(session, actor=author, version_id=version.id, name="submit")
    documents.transition(
        session, actor=approver, version_id=version.id, name="approve", password=ctx.password
    )
    return version


def _sign_open(session: Session, ctx: DemoContext, person: Actor, skip: set[int]) -> None:
    for requirement in service.requirements_of(
        session, person.user_id, statuses=[RequirementStatus.ASSIGNED]
    ):
        if requirement.document_id in skip:
            continue
        answers = [q["answer"] for q in HPLC_QUIZ] if requirement.quiz_required else None
        service.open_for_reading(session, actor=person, requirement_id=requirement.id)
        service.complete_training(
            session,
            actor=person,
            requirement_id=requirement.id,
            password=ctx.password,
            answers=answers,
        )


def load(session: Session, ctx: DemoContext) -> None:
    qa = ctx.people["quinn.qa"]
    today = clock.now()
    with clock.frozen_at(today - timedelta(days=60)) as moment:
        versions = {key: _approved(session, ctx, key) for key in TRAINING_DOCUMENTS}
        doc_ids = {key: v.document_id for key, v in versions.items()}
        curricula.set_quiz(
            session,
            actor=qa,
            document_id=doc_ids["hplc"],
            questions=HPLC_QUIZ,
            pass_mark_percent=80,
            reason="knowledge check for analysts",
        )
        roles = {}
        for name, (area, role_curricula, _holders) in JOB_ROLES.items():
            role = curricula.create_job_role(session, actor=qa, name=name, area=area)
            roles[name] = role
            for curriculum_name, items in role_curricula.items():
                curriculum = curricula.create_curriculum(
                    session, actor=qa, job_role_id=role.id, name=curriculum_name
                )
                for key, recurrence in items:
                    curricula.add_to_curriculum(
                        session,
                        actor=qa,
                        curriculum_id=curriculum.id,
                        document_id=doc_ids[key],
                        recurrence_months=recurrence,
                    )
        for version in versions.values():
            documents.transition(session, actor=qa, version_id=version.id, name="make_effective")
        for name, (_area, _c, holders) in JOB_ROLES.items():
            for username in holders:
                service.assign_job_role(
                    session,
                    actor=qa,
                    user_id=ctx.people[username].user_id,
                    job_role_id=roles[name].id,
                )
        moment.advance(days=3)
        for _area, _c, holders in JOB_ROLES.values():
            for username in holders:
                unread = {doc_ids[key] for who, key in UNREAD if who == username}
                _sign_open(session, ctx, ctx.people[username], unread)
                moment.advance(hours=5)
        gate.add_governing_document(
            session,
            actor=qa,
            record_type="periodic_review",
            transition="conclude_no_change",
            document_id=doc_ids["review"],
            reason="periodic reviews follow the periodic review SOP",
        )
        # A revision effective five days ago: the analyst has a week left to read it.
        moment.current = today - timedelta(days=5)
        revision = documents.revise(
            session,
            actor=ctx.people["chen.qc"],
            document_id=doc_ids["hplc"],
            major=False,
            change_summary="Tailing factor limit added to the system suitability criteria.",
        )
        documents.transition(
            session, actor=ctx.people["chen.qc"], version_id=revision.id, name="submit"
        )
        documents.transition(
            session, actor=qa, version_id=revision.id, name="approve", password=ctx.password
        )
        documents.transition(session, actor=qa, version_id=revision.id, name="make_effective")


register("training", load)
