"""The demo's configuration change under change control: after an inspection observation that
production was not consulted on the SOPs it follows, QA adds production's concurrence before
QA's approval of any SOP version (``workflow.document_version.sign_offs``). A change control
assessed and approved, the version drafted by one QA person, run on the sandbox, approved by
another, in force from a few seconds later. Runs last: every demo document is approved under
the code's rules before it; the SOP the demo leaves in review then waits for production, and
Sofia Rossi has the task.

Under the same change, Quinn then drafts the next step and leaves it for Rosa: SOP review tasks
due in 7 days rather than 10 (production's concurrence now comes first), run on the sandbox and
waiting for approval — a draft to approve, or to try on a sandbox copy of the demo database
(docs/compliance.md).

Under a second change, after a CAPA whose actions were replaced went on without a new plan
approval, QA adds a site step to the CAPA workflow (``workflow.capa.transitions``): from
implementation back to plan approval, with a reason, taken by QA; in force a few seconds later,
so a CAPA in implementation offers it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.sign_off_tasks import open_waiting_sign_off_tasks
from pharmaqms.quality.changes import service as changes

KEY = "workflow.document_version.sign_offs"
TASKS_KEY = "workflow.document_version.tasks"
SOONER_REVIEWS = {
    "in_review": {"role": "qa", "due_in_days": 7},
    "approved": {"role": "qa", "due_in_days": 30},
}
CONCURRENCE = {
    "production_concurrence": {
        "label": "Production concurs",
        "before": "approve",
        "roles": ["production_supervisor"],
        "meaning": "Reviewed",
        "forbid_author": True,
    }
}
CAPA_STEPS_KEY = "workflow.capa.transitions"
REPLAN = {
    "label": "Back to plan approval (actions changed)",
    "from": ["implementation"],
    "to": "plan_approval",
    "roles": ["qa"],
    "guards": ["plan_complete"],
    "signature": None,
    "forbid_author": False,
    "forbid_holders_of": [],
    "forbid_signers_of": [],
    "reason_required": True,
}
AREAS = ("documents", "processes", "equipment", "validation", "regulatory_filing", "training")


def _approved_change(
    session: Session,
    ctx: DemoContext,
    qa: Actor,
    qa2: Actor,
    *,
    title: str,
    description: str,
    justification: str,
    impacted: dict[str, str],
) -> int:
    """A change control requested and assessed by ``qa``, approved for QA by ``qa2``: in
    implementation. ``impacted``: the areas it affects, each with the assessment's words."""
    change = changes.request_change(
        session, actor=qa, title=title, description=description, justification=justification
    )
    session.flush()
    changes.transition(session, actor=qa, change_id=change.id, name="submit")
    changes.assess_impact(
        session,
        actor=qa,
        change_id=change.id,
        impacts=[
            changes.ImpactInput(
                area,
                area in impacted,
                impacted.get(area, f"No effect on {area.replace('_', ' ')}."),
            )
            for area in AREAS
        ],
        regulatory_category="none",
        regulatory_rationale="An internal approval step; no filing is affected.",
        functions=["quality_assurance"],
    )
    changes.transition(session, actor=qa, change_id=change.id, name="submit_for_approval")
    changes.decide_as_function(
        session,
        actor=qa2,
        change_id=change.id,
        function="quality_assurance",
        approve=True,
        password=ctx.password,
    )
    return int(change.id)


def _in_force_in_seconds(
    session: Session,
    ctx: DemoContext,
    qa: Actor,
    qa2: Actor,
    *,
    key: str,
    content: object,
    change_id: int,
    rationale: str,
) -> datetime:
    """Drafted by ``qa``, run on the sandbox, approved by ``qa2``; in force 5 s from now (the
    moment returned)."""
    effective = clock.now() + timedelta(seconds=5)
    version = service.draft_version(
        session,
        actor=qa,
        key=key,
        content=content,
        effective_from=effective,
        change_id=change_id,
        rationale=rationale,
    )
    session.flush()
    service.test_version(session, actor=qa, version_id=version.id)
    service.transition(
        session, actor=qa2, version_id=version.id, name="approve", password=ctx.password
    )
    return effective


def load(session: Session, ctx: DemoContext) -> None:
    qa, qa2 = ctx.people["quinn.qa"], ctx.people["rosa.qa"]
    briefed = "SOP approval gains production's sign-off; approvers are briefed."
    change_id = _approved_change(
        session,
        ctx,
        qa,
        qa2,
        title="Production concurs before QA approves an SOP",
        description=(
            "Add a signed sign-off by a production supervisor before QA's approval of every "
            "SOP version (configuration workflow.document_version.sign_offs)."
        ),
        justification=(
            "Inspection observation: SOPs were approved without the area that follows them; "
            "EU GMP Chapter 4.3 asks documents to be approved by appropriate people."
        ),
        impacted=dict.fromkeys(("documents", "processes", "training"), briefed),
    )
    effective = _in_force_in_seconds(
        session,
        ctx,
        qa,
        qa2,
        key=KEY,
        content=CONCURRENCE,
        change_id=change_id,
        rationale="Production, which follows the SOPs, concurs before QA approves them.",
    )
    # What the night's daily job does once the version is in force, done as at its first
    # second: the SOP already in review gets production's sign-off task.
    with clock.frozen_at(effective + timedelta(seconds=1)):
        open_waiting_sign_off_tasks(session, actor=auth.system_actor(session, Channel.SYSTEM))
    sooner = service.draft_version(
        session,
        actor=qa,
        key=TASKS_KEY,
        content=SOONER_REVIEWS,
        effective_from=clock.now() + timedelta(days=7),
        change_id=change_id,
        rationale=(
            "With production's concurrence first, QA's review of an SOP is due in 7 days, "
            "not 10, so that a new SOP still comes into force within the month."
        ),
    )
    session.flush()
    service.test_version(session, actor=qa, version_id=sooner.id)
    replan = _approved_change(
        session,
        ctx,
        qa,
        qa2,
        title="A CAPA whose actions change goes back for plan approval",
        description=(
            "Add a site step to the CAPA workflow, from implementation back to plan approval "
            "with a reason (configuration workflow.capa.transitions)."
        ),
        justification=(
            "Self-inspection finding: a CAPA's actions were replaced during implementation "
            "without QA approving the new plan (ICH Q10 §3.2.2)."
        ),
        impacted={
            "processes": "CAPA plans changed in implementation are approved again by QA.",
            "training": "QA and CAPA owners are briefed on the new step.",
        },
    )
    _in_force_in_seconds(
        session,
        ctx,
        qa,
        qa2,
        key=CAPA_STEPS_KEY,
        content={"added": {"site_replan": REPLAN}, "withdrawn": {}},
        change_id=replan,
        rationale="A changed CAPA plan is approved again before its actions go on.",
    )


register("compliance: configuration under change control", load)
