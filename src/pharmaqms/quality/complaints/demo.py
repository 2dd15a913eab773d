"""A year of demo complaints: quality complaints and adverse events, one lot that draws several
complaints (the trend shows it) and leads to a CAPA. Written through the services with the demo
timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality import events
from pharmaqms.quality.capa.demo import CAPA_DAYS, CapaPlan, Course, schedule_life
from pharmaqms.quality.complaints import service
from pharmaqms.quality.demo_timeline import Timeline

# (product, lot, complainant type, description, category, confirmed)
COMPLAINTS = (
    (
        "Paracetamol 500 mg tablets",
        "PA-2504-031",
        "pharmacist",
        "Several tablets in one blister are chipped.",
        "quality",
        True,
    ),
    (
        "Ibuprofen 400 mg tablets",
        "IB-2505-007",
        "patient",
        "The tablets smell unusual.",
        "quality",
        False,
    ),
    (
        "Paracetamol 500 mg tablets",
        "PA-2504-031",
        "patient",
        "A tablet crumbled when pressed out of the blister.",
        "quality",
        True,
    ),
    (
        "Amoxicillin 500 mg capsules",
        "AM-2506-112",
        "healthcare_professional",
        "Patient developed a rash after the second dose.",
        "adverse_event",
        False,
    ),
    (
        "Insulin glargine 100 U/ml",
        "IG-2507-044",
        "pharmacist",
        "Pen delivered warm; the cool pack had thawed.",
        "quality",
        True,
    ),
    (
        "Paracetamol 500 mg tablets",
        "PA-2504-031",
        "wholesaler",
        "Broken tablets found in three cartons on receipt.",
        "quality",
        True,
    ),
    (
        "Insulin glargine 100 U/ml",
        "IG-2508-051",
        "patient",
        "Low blood sugar after switching to a new pen; pen may have over-delivered.",
        "quality_and_adverse_event",
        False,
    ),
    (
        "Ibuprofen 400 mg tablets",
        "IB-2509-019",
        "pharmacist",
        "Carton printed with the wrong expiry date format.",
        "quality",
        True,
    ),
    (
        "Amoxicillin 500 mg capsules",
        "AM-2510-003",
        "patient",
        "Capsule was empty.",
        "quality",
        True,
    ),
    (
        "Paracetamol 500 mg tablets",
        "PA-2511-060",
        "patient",
        "Nausea after taking the tablets.",
        "adverse_event",
        False,
    ),
    (
        "Ibuprofen 400 mg tablets",
        "IB-2512-022",
        "pharmacist",
        "Blister foil peels off easily.",
        "quality",
        False,
    ),
    (
        "Insulin glargine 100 U/ml",
        "IG-2601-008",
        "healthcare_professional",
        "Crystals visible in the cartridge.",
        "quality",
        False,
    ),
)
TREND_LOT = "PA-2504-031"


def load(session: Session, ctx: DemoContext) -> None:
    today = clock.now()
    timeline = Timeline(today)
    people = ctx.people
    qa, rosa, qc, pv = people["quinn.qa"], people["rosa.qa"], people["chen.qc"], people["vera.pv"]
    count = len(COMPLAINTS)
    trend_ids: list[int] = []
    for index, (product, lot, who, text, category, confirmed) in enumerate(COMPLAINTS):
        received = today - timedelta(days=350 - index * (340 / count), hours=index)
        state: dict[str, int] = {}
        adverse = category != "quality"
        recent = index >= count - 2

        def receive(
            product: str = product,
            lot: str = lot,
            who: str = who,
            text: str = text,
            state: dict[str, int] = state,
            received: datetime = received,
        ) -> None:
            complaint = service.register_complaint(
                session,
                actor=rosa,
                product=product,
                lot=lot,
                complainant_name=f"Demo complainant ({who.replace('_', ' ')})",
                complainant_type=who,
                complainant_contact="by telephone via the customer service desk",
                received_at=received - timedelta(hours=3),
                description=text,
            )
            session.flush()
            state["id"] = complaint.id
            if lot == TREND_LOT:
                trend_ids.append(complaint.id)

        def triage(state: dict[str, int] = state, category: str = category) -> None:
            service.triage_complaint(
                session,
                actor=qa,
                complaint_id=state["id"],
                category=category,
                criticality="major" if category != "quality" else "minor",
                rationale="Adverse event reported: handed to pharmacovigilance."
                if category != "quality"
                else "Quality defect alleged; no harm reported.",
                investigator_id=qc.user_id,
            )

        def acknowledge(state: dict[str, int] = state) -> None:
            # The case pharmacovigilance opened at triage (its number is on the complaint).
            complaint = service.get_complaint(session, state["id"])
            service.acknowledge_handover(
                session,
                actor=pv,
                complaint_id=state["id"],
                pv_reference=complaint.pv_reference,
            )

        def investigate(state: dict[str, int] = state, confirmed: bool = confirmed) -> None:
            service.record_investigation(
                session,
                actor=qc,
                complaint_id=state["id"],
                summary="Retained samples and the batch record reviewed.",
                confirmed=confirmed,
                root_cause="Tablet hardness at the lower limit; blisters crushed in transit."
                if confirmed
                else "",
            )
            service.transition(
                session, actor=qc, complaint_id=state["id"], name="complete_investigation"
            )

        def respond_and_close(state: dict[str, int] = state) -> None:
            service.record_response(
                session,
                actor=qa,
                complaint_id=state["id"],
                response_text="Thank you for your report. We investigated the batch and "
                "have taken measures; a replacement pack has been sent.",
                responded_at=clock.now(),
            )
            service.transition(
                session, actor=rosa, complaint_id=state["id"], name="close", password=ctx.password
            )

        timeline.at(received, receive)
        timeline.at(received + timedelta(days=1), triage)
        if adverse:
            timeline.at(received + timedelta(days=2), acknowledge)
        if recent:
            continue
        timeline.at(received + timedelta(days=12), investigate)
        timeline.at(received + timedelta(days=16), respond_and_close)

    def capa_from_the_trend() -> None:
        opened = clock.now()
        owner = people["sofia.supervisor"]
        capa = events.open_capa(
            session,
            actor=qa,
            source_type="complaint",
            source_id=trend_ids[-1],
            source_label=None,
            title=f"Broken tablets in lot {TREND_LOT}",
            problem_statement="Three complaints about chipped and broken tablets from one lot: "
            "tablet hardness ran at the lower limit.",
            owner_id=owner.user_id,
            due_at=opened + timedelta(days=CAPA_DAYS),
            reason="three complaints on one lot",
        )
        session.flush()
        for complaint_id in trend_ids[:-1]:
            events.link_records(
                session,
                actor=qa,
                source_type="complaint",
                source_id=complaint_id,
                source_label=None,
                target_type="capa",
                target_id=capa.id,
                reason="same lot, same defect",
            )
        schedule_life(
            timeline,
            session,
            ctx,
            capa_id=capa.id,
            owner=owner,
            plan=CapaPlan(
                (
                    ("corrective", "Raise the hardness target of the compression set-up"),
                    ("preventive", "Add a drop test to the packaging qualification"),
                ),
                "No complaint about broken tablets over six months",
            ),
            course=Course.ON_TIME,
            opened=opened,
        )

    sixth = today - timedelta(days=350 - 5 * (340 / count), hours=5)
    timeline.at(sixth + timedelta(days=3), capa_from_the_trend)
    timeline.run()


register("complaints", load)
