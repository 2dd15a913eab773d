"""Two demo change controls: the tablet press stroke counter (raised from a CAPA, implemented
with a revised SOP and retraining, reviewed and closed) and the summer packing configuration
for insulin (waiting for the distribution and QP approvals). Written through the services with
the demo timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality import events
from pharmaqms.quality.capa.models import Capa
from pharmaqms.quality.changes import service
from pharmaqms.quality.changes.models import ImpactArea
from pharmaqms.quality.demo_timeline import Timeline
from pharmaqms.quality.deviations.models import Deviation
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.training.demo_steps import name_for_training, read_and_sign

TOOLING_SOP = "Tablet press tooling: inspection, stroke counting and retirement"
TOOLING_BODY = (
    "1. Purpose\n\nHow punches and dies of the tablet presses are inspected, stored and "
    "retired.\n\n2. Procedure\n\n2.1 Inspect punch tips under magnification before use.\n"
    "2.2 Record the tooling set used in the batch record.\n2.3 Retire damaged tooling."
)
PACKING_INSTRUCTION = "Packing of temperature-controlled shipments"
PACKING_BODY = (
    "1. Purpose\n\nHow shipments of 2–8 °C products are packed.\n\n2. Procedure\n\n"
    "2.1 Condition the cool packs for 24 h.\n2.2 Pack in the qualified 72-hour passive "
    "shipper.\n2.3 Start the data logger and record its serial in the shipment."
)
COUNTER_SECTION = (
    "\n2.4 Read the stroke counter of each punch set at the end of every batch and record it."
    "\n2.5 Retire a punch set at 5 million compressions."
)


def _impacts(impacted: dict[ImpactArea, str], default: str) -> list[service.ImpactInput]:
    return [
        service.ImpactInput(area.value, area in impacted, impacted.get(area, default))
        for area in ImpactArea
    ]


def _source(session: Session, model: type[Capa] | type[Deviation], title: str) -> int | None:
    found = session.scalars(
        select(model.id).where(model.title.ilike(f"%{title}%")).order_by(model.id)
    ).first()
    return int(found) if found is not None else None


def _stroke_counter(
    timeline: Timeline, session: Session, ctx: DemoContext, start: datetime
) -> None:
    people = ctx.people
    quinn, rosa, sofia, peter = (
        people["quinn.qa"],
        people["rosa.qa"],
        people["sofia.supervisor"],
        people["peter.qp"],
    )
    state: dict[str, int] = {}

    def sop_in_force() -> None:
        version = documents.create_document(
            session,
            actor=sofia,
            doc_type="sop",
            title=TOOLING_SOP,
            body=TOOLING_BODY,
            area="Production",
        )
        documents.transition(session, actor=sofia, version_id=version.id, name="submit")
        documents.transition(
            session, actor=quinn, version_id=version.id, name="approve", password=ctx.password
        )
        name_for_training(session, ctx, version.document_id, "Production")
        documents.transition(session, actor=quinn, version_id=version.id, name="make_effective")
        read_and_sign(session, ctx, version.id)
        state["document"] = version.document_id

    def request() -> None:
        # Raised from the CAPA of the broken punch when the deviation demo made one.
        capa_id = _source(session, Capa, "upper punch broken")
        change = events.request_change(
            session,
            actor=quinn,
            source_type="capa" if capa_id is not None else "audit_finding",
            source_id=capa_id,
            source_label="Tooling review 2025",
            # QA owns it: production approves it, so its supervisor can't be the owner too.
            owner_id=quinn.user_id,
            reason="preventive action of the CAPA",
            title="Stroke counter for tablet press punches",
            description="Count compressions per punch set with the press's stroke counter "
            "and retire punch sets at 5 million compressions.",
            justification="Punch fatigue broke an upper punch during compression.",
        )
        session.flush()
        state["id"] = change.id
        service.transition(session, actor=quinn, change_id=change.id, name="submit")

    def assess() -> None:
        cid = state["id"]
        service.assess_impact(
            session,
            actor=quinn,
            change_id=cid,
            impacts=_impacts(
                {
                    ImpactArea.DOCUMENTS: "The tooling SOP gains the counter reading and limit.",
                    ImpactArea.EQUIPMENT: "Stroke counters of both presses are activated.",
                    ImpactArea.TRAINING: "Operators learn to read and record the counter.",
                },
                "No impact: the process parameters and the registered method are unchanged.",
            ),
            regulatory_category="none",
            regulatory_rationale="Internal tooling control; no registered detail changes.",
            functions=["quality_assurance", "production", "qualified_person"],
        )
        now = clock.now()
        for kind, text, document_id, role, days in (
            ("revise_document", "Revise the tooling SOP", state["document"], None, 20),
            (
                "retrain_role",
                "Train press operators on the revised tooling SOP",
                state["document"],
                "production_operator",
                30,
            ),
            ("qualify_equipment", "Verify the stroke counters of both presses", None, None, 25),
        ):
            service.add_action(
                session,
                actor=quinn,
                change_id=cid,
                kind=kind,
                description=text,
                owner_id=sofia.user_id,
                due_at=now + timedelta(days=days),
                document_id=document_id,
                role=role,
            )
        service.transition(session, actor=quinn, change_id=cid, name="submit_for_approval")

    def approve(person: Actor, function: str) -> None:
        service.decide_as_function(
            session,
            actor=person,
            change_id=state["id"],
            function=function,
            approve=True,
            password=ctx.password,
            comment="impact assessment agreed",
        )

    def revise_sop() -> None:
        revision = documents.revise(
            session,
            actor=sofia,
            document_id=state["document"],
            major=False,
            change_summary="Stroke counting and retirement limit (change control).",
        )
        documents.edit_draft(
            session,
            actor=sofia,
            version_id=revision.id,
            expected_version=revision.version,
            body=TOOLING_BODY + COUNTER_SECTION,
        )
        documents.transition(session, actor=sofia, version_id=revision.id, name="submit")
        documents.transition(
            session, actor=quinn, version_id=revision.id, name="approve", password=ctx.password
        )
        documents.transition(session, actor=quinn, version_id=revision.id, name="make_effective")
        state["revision"] = revision.id

    def retrained() -> None:
        # The operators read the revision; the retraining task is done by their records.
        read_and_sign(
            session,
            ctx,
            state["revision"],
            also=("oscar.operator",),
            reason="retraining of the stroke counter change",
        )

    def complete(index: int, evidence: str) -> None:
        change = service.get_change(session, state["id"])
        service.complete_action(
            session,
            actor=sofia,
            change_id=change.id,
            action_id=change.actions[index].id,
            evidence=evidence,
        )

    def implemented() -> None:
        service.transition(
            session, actor=sofia, change_id=state["id"], name="complete_implementation"
        )

    def reviewed_and_closed() -> None:
        service.record_effectiveness_review(
            session,
            actor=rosa,
            change_id=state["id"],
            effective=True,
            summary="Three months of counter readings recorded; no punch failure since.",
        )
        service.transition(
            session, actor=rosa, change_id=state["id"], name="close", password=ctx.password
        )

    timeline.at(start - timedelta(days=100), sop_in_force)
    timeline.at(start, request)
    timeline.at(start + timedelta(days=3), assess)
    timeline.at(start + timedelta(days=5), lambda: approve(rosa, "quality_assurance"))
    timeline.at(start + timedelta(days=6), lambda: approve(sofia, "production"))
    timeline.at(start + timedelta(days=7), lambda: approve(peter, "qualified_person"))
    timeline.at(start + timedelta(days=18), revise_sop)
    timeline.at(start + timedelta(days=19), lambda: complete(0, "SOP revised and in force"))
    timeline.at(start + timedelta(days=22), lambda: complete(2, "Counters verified: IQ/OQ"))
    timeline.at(start + timedelta(days=25), retrained)
    timeline.at(start + timedelta(days=28), lambda: complete(1, ""))
    timeline.at(start + timedelta(days=29), implemented)
    timeline.at(start + timedelta(days=120), reviewed_and_closed)


def _summer_packing(
    timeline: Timeline, session: Session, ctx: DemoContext, start: datetime
) -> None:
    people = ctx.people
    quinn, rosa, lena = people["quinn.qa"], people["rosa.qa"], people["lena.logistics"]
    state: dict[str, int] = {}

    def instruction_in_force() -> None:
        version = documents.create_document(
            session,
            actor=rosa,
            doc_type="work_instruction",
            title=PACKING_INSTRUCTION,
            body=PACKING_BODY,
            area="Distribution",
        )
        documents.transition(session, actor=rosa, version_id=version.id, name="submit")
        documents.transition(
            session, actor=quinn, version_id=version.id, name="approve", password=ctx.password
        )
        name_for_training(session, ctx, version.document_id, "Distribution")
        documents.transition(session, actor=quinn, version_id=version.id, name="make_effective")
        read_and_sign(session, ctx, version.id)
        state["document"] = version.document_id

    def request() -> None:
        deviation_id = _source(session, Deviation, "Shipment delivered outside")
        change = events.request_change(
            session,
            actor=quinn,
            source_type="deviation" if deviation_id is not None else "audit_finding",
            source_id=deviation_id,
            source_label="GDP self-inspection 2025-Q4, finding 2",
            owner_id=lena.user_id,
            title="Summer packing configuration for insulin shipments",
            description="Ship insulin in the 96-hour passive shipper from May to September.",
            justification="Summer excursions on the insulin lanes.",
        )
        session.flush()
        state["id"] = change.id
        service.transition(session, actor=quinn, change_id=change.id, name="submit")

    def assess() -> None:
        cid = state["id"]
        service.assess_impact(
            session,
            actor=quinn,
            change_id=cid,
            impacts=_impacts(
                {
                    ImpactArea.PROCESSES: "Packing instruction gains a seasonal configuration.",
                    ImpactArea.VALIDATION: "The 96-hour shipper needs a summer qualification.",
                    ImpactArea.TRAINING: "Warehouse staff learn the seasonal configuration.",
                },
                "No impact.",
            ),
            regulatory_category="none",
            regulatory_rationale="Distribution practice; the marketing authorisation is "
            "unaffected.",
            functions=["quality_assurance", "distribution", "qualified_person"],
        )
        service.add_action(
            session,
            actor=quinn,
            change_id=cid,
            kind="retrain_role",
            description="Train warehouse staff on the seasonal packing configuration",
            owner_id=lena.user_id,
            due_at=clock.now() + timedelta(days=40),
            document_id=state["document"],
            role="logistics",
        )
        service.transition(session, actor=quinn, change_id=cid, name="submit_for_approval")

    def approve_qa() -> None:
        service.decide_as_function(
            session,
            actor=rosa,
            change_id=state["id"],
            function="quality_assurance",
            approve=True,
            password=ctx.password,
        )

    timeline.at(start - timedelta(days=150), instruction_in_force)
    timeline.at(start, request)
    timeline.at(start + timedelta(days=2), assess)
    timeline.at(start + timedelta(days=4), approve_qa)


def load(session: Session, ctx: DemoContext) -> None:
    today = clock.now()
    timeline = Timeline(today)
    _stroke_counter(timeline, session, ctx, today - timedelta(days=200))
    _summer_packing(timeline, session, ctx, today - timedelta(days=12))
    timeline.run()


register("change control", load)
