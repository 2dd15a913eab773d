"""A year of demo deviations at the Leiden site: reported, classified, investigated, approved
and closed as they would have been, a few overdue today, the serious ones leading to CAPAs whose
lives play out too. Written through the services with the demo timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality import events
from pharmaqms.quality.capa.demo import CAPA_DAYS, CapaPlan, Course, schedule_life
from pharmaqms.quality.demo_timeline import Timeline
from pharmaqms.quality.deviations import extensions, impact, rules, service
from pharmaqms.quality.deviations.models import Deviation


@dataclass(frozen=True)
class Scenario:
    title: str
    area: str
    product: str
    batch_prefix: str
    classification: str
    scores: tuple[int, int, int]
    description: str
    immediate_actions: str
    root_cause: str
    category: str
    whys: tuple[str, ...]
    fishbone: dict[str, list[str]]
    capa: CapaPlan | None


SCENARIOS = (
    Scenario(
        "Upper punch broken during compression",
        "Production",
        "Paracetamol 500 mg tablets",
        "PA",
        "major",
        (4, 2, 3),
        "The upper punch of station 12 broke during compression; fragments were found in the "
        "feed frame.",
        "Press stopped, batch quarantined, all tablets passed through the metal detector.",
        "Punch used beyond its qualified life of 5 million compressions.",
        "machine",
        (
            "The punch tip broke.",
            "The punch was fatigued.",
            "It had run far beyond its qualified life.",
            "Compressions per punch set are not counted.",
            "The tooling SOP predates the stroke counter of the new press.",
        ),
        {"machine": ["punch fatigue"], "method": ["no life limit in the tooling SOP"]},
        CapaPlan(
            (
                ("corrective", "Retire every punch set above 4 million compressions"),
                ("preventive", "Count compressions per punch set and retire at the limit"),
            ),
            "No punch failure over the next 50 batches",
        ),
    ),
    Scenario(
        "Line clearance not documented before packaging start",
        "Packaging",
        "Ibuprofen 400 mg tablets",
        "IB",
        "minor",
        (2, 2, 2),
        "Line 2 started packaging before the line clearance record was signed.",
        "Line stopped; clearance performed and verified by a second person; no foreign "
        "material found.",
        "The shift handover skipped the clearance sign-off.",
        "man",
        ("The record was not signed.", "The operator was called away at shift change."),
        {"man": ["handover under time pressure"]},
        None,
    ),
    Scenario(
        "HPLC system suitability failed, sequence continued",
        "Quality control",
        "Amoxicillin 500 mg capsules",
        "AM",
        "major",
        (3, 3, 3),
        "The assay sequence continued after the tailing factor failed system suitability.",
        "Results invalidated; sequence repeated on a requalified column.",
        "The chromatography software does not stop a sequence on a suitability failure.",
        "method",
        (
            "Results were reported from a failed run.",
            "The failure was not noticed until review.",
            "The sequence did not stop on the failure.",
            "The stop-on-failure option is not part of the method template.",
        ),
        {"method": ["template lacks stop-on-failure"], "measurement": ["ageing column"]},
        CapaPlan(
            (
                ("corrective", "Enable stop-on-failure in all assay method templates"),
                ("preventive", "Add column performance trending to the HPLC SOP"),
            ),
            "No sequence run past a suitability failure in three months",
        ),
    ),
    Scenario(
        "Cold room CR-2 above 8 °C for 40 minutes",
        "Warehouse",
        "Insulin glargine 100 U/ml",
        "IG",
        "major",
        (4, 2, 2),
        "Cold room CR-2 reached 9.1 °C for 40 minutes during a defrost cycle.",
        "Product stability data reviewed; stock kept in quarantine pending assessment.",
        "The defrost cycle was reprogrammed after maintenance without a change control.",
        "machine",
        (
            "The room warmed during defrost.",
            "The defrost ran for twice its usual time.",
            "The controller settings were changed during maintenance.",
        ),
        {
            "machine": ["defrost controller settings"],
            "method": ["maintenance without change control"],
        },
        None,
    ),
    Scenario(
        "Wrong label roll loaded on packaging line 3",
        "Packaging",
        "Paracetamol 500 mg tablets",
        "PA",
        "critical",
        (5, 2, 3),
        "A label roll of the 250 mg strength was loaded for a 500 mg batch; the vision system "
        "rejected the first 40 packs.",
        "Line stopped, all packs of the run segregated and 100 % inspected.",
        "Label rolls of both strengths are stored on the same rack without segregation.",
        "material",
        (
            "The wrong roll was loaded.",
            "The rolls look alike.",
            "Both strengths are stored together at the line.",
            "Line-side storage was never assessed for mix-ups.",
        ),
        {"material": ["look-alike labels"], "environment": ["shared line-side rack"]},
        CapaPlan(
            (
                ("corrective", "Segregate label rolls by strength at every line"),
                ("preventive", "Barcode check of the label roll at loading"),
            ),
            "No label mix-up found in 100 packaging runs",
        ),
    ),
    Scenario(
        "Purified water conductivity above alert limit",
        "Utilities",
        "",
        "",
        "minor",
        (2, 2, 1),
        "Conductivity at point of use PW-07 read 1.2 µS/cm against an alert limit of 1.0.",
        "Loop sanitised; resampled within limits.",
        "A mixed-bed resin cartridge was exhausted before its scheduled change.",
        "material",
        ("Conductivity rose.", "The resin was exhausted early."),
        {"material": ["resin lot with lower capacity"]},
        None,
    ),
    Scenario(
        "Balance used for dispensing with calibration overdue",
        "Production",
        "Amoxicillin 500 mg capsules",
        "AM",
        "major",
        (3, 2, 3),
        "Balance BAL-14 was used for dispensing two days after its calibration fell due.",
        "Balance taken out of use and calibrated: as-found within tolerance.",
        "Calibration status is not checked by the dispensing system before weighing.",
        "measurement",
        (
            "An uncalibrated balance was used.",
            "Nobody noticed the overdue label.",
            "The dispensing system does not check calibration status.",
        ),
        {"measurement": ["no interlock on calibration status"], "man": ["label overlooked"]},
        None,
    ),
    Scenario(
        "Shipment delivered outside 2–8 °C",
        "Distribution",
        "Insulin glargine 100 U/ml",
        "IG",
        "critical",
        (5, 2, 2),
        "The data logger of shipment SH-881 recorded 11.4 °C for 95 minutes at the cross-dock.",
        "Consignee instructed to quarantine the delivery; stability data requested.",
        "The passive shipper is qualified for winter profiles only.",
        "environment",
        (
            "The product warmed in transit.",
            "The shipper held 2–8 °C for less time than the route took.",
            "It was qualified against a winter profile only.",
        ),
        {"environment": ["summer heat at the cross-dock"], "method": ["seasonal profiles missing"]},
        CapaPlan(
            (
                ("corrective", "Use the 96-hour shipper on all lanes from May to September"),
                ("preventive", "Qualify shippers against summer and winter profiles"),
            ),
            "No excursion on insulin lanes over the summer",
        ),
    ),
    Scenario(
        "Gowning procedure not followed at grade C entry",
        "Production",
        "Amoxicillin 500 mg capsules",
        "AM",
        "minor",
        (2, 1, 2),
        "A technician entered the grade C corridor without over-shoes.",
        "Technician left the area, re-gowned; area cleaned.",
        "New technician not yet trained on the updated gowning SOP.",
        "man",
        ("Over-shoes were not worn.", "The technician did not know the new step."),
        {"man": ["training not completed before access"]},
        None,
    ),
    Scenario(
        "Expired reference standard used in assay",
        "Quality control",
        "Paracetamol 500 mg tablets",
        "PA",
        "major",
        (3, 2, 3),
        "The paracetamol reference standard used for release testing expired three days before "
        "use.",
        "Results invalidated; assay repeated with a current standard, results unchanged.",
        "Expiry of reference standards is tracked on paper only.",
        "material",
        ("An expired standard was used.", "Its expiry was not visible at the bench."),
        {"material": ["standard expired"], "method": ["paper tracking of expiry"]},
        None,
    ),
)

# Who reports and who investigates, by area.
REPORTERS = {
    "Production": "oscar.operator",
    "Packaging": "oscar.operator",
    "Quality control": "chen.qc",
    "Warehouse": "lena.logistics",
    "Distribution": "lena.logistics",
    "Utilities": "sofia.supervisor",
}
INVESTIGATORS = {
    "Production": "sofia.supervisor",
    "Packaging": "sofia.supervisor",
    "Quality control": "chen.qc",
    "Warehouse": "lena.logistics",
    "Distribution": "lena.logistics",
    "Utilities": "sofia.supervisor",
}
CAPA_OWNERS = INVESTIGATORS

# Every fifth deviation's investigation stalls: the older ones finish late, the recent ones are
# still open — overdue today once their due date has passed. The seventh gets its due date
# extended by QA.
STALLED_EVERY = 5
STILL_OPEN_DAYS = 120
EXTENDED = 6


def _schedule(
    timeline: Timeline,
    session: Session,
    ctx: DemoContext,
    index: int,
    scenario: Scenario,
    discovered: datetime,
) -> None:
    rng = ctx.rng
    people = ctx.people
    reporter = people[REPORTERS[scenario.area]]
    investigator = people[INVESTIGATORS[scenario.area]]
    quinn, rosa, qp = people["quinn.qa"], people["rosa.qa"], people["peter.qp"]
    state: dict[str, int] = {}
    batch = (
        f"{scenario.batch_prefix}-{discovered:%y%m}-{rng.randint(10, 199):03d}"
        if scenario.batch_prefix
        else None
    )
    days = rules.due_days(scenario.classification, rules.due_days_in_force(session).content)
    stalled = index % STALLED_EVERY == STALLED_EVERY - 1
    investigation_days = days + 25 if stalled else rng.randint(5, max(6, days - 6))

    def deviation() -> Deviation:
        return service.get_deviation(session, state["id"])

    def report() -> None:
        found = service.report_deviation(
            session,
            actor=reporter,
            title=scenario.title,
            description=scenario.description,
            area=scenario.area,
            occurred_at=discovered - timedelta(hours=rng.randint(0, 30)),
            discovered_at=discovered,
            product=scenario.product,
            batch_ids=[batch] if batch else [],
            immediate_actions=scenario.immediate_actions,
        )
        session.flush()
        state["id"] = found.id

    def classify() -> None:
        severity, probability, detectability = scenario.scores
        service.classify_deviation(
            session,
            actor=quinn,
            deviation_id=state["id"],
            classification=scenario.classification,
            severity=severity,
            probability=probability,
            detectability=detectability,
            severity_basis=f"Worst credible effect on the patient rated {severity} of 5.",
            probability_basis=f"Recurrence judged {probability} of 5 from the history.",
            detectability_basis=f"Current controls would detect it: {detectability} of 5.",
            investigator_id=investigator.user_id,
        )

    def investigate() -> None:
        service.record_investigation(
            session,
            actor=investigator,
            deviation_id=state["id"],
            root_cause=scenario.root_cause,
            root_cause_category=scenario.category,
            why_chain=list(scenario.whys),
            fishbone=scenario.fishbone,
        )
        for batch_ref in deviation().batches:
            impact.assess_batch(
                session,
                actor=investigator,
                deviation_id=state["id"],
                batch_ref_id=batch_ref.id,
                impact_assessment="Retained samples tested within specification; no impact "
                "on the quality of the batch.",
            )
        if scenario.capa is None:
            service.decide_no_capa(
                session,
                actor=investigator,
                deviation_id=state["id"],
                rationale="Isolated event with a known cause removed by the immediate actions.",
            )
        else:
            opened = clock.now()
            owner = people[CAPA_OWNERS[scenario.area]]
            capa = events.open_capa(
                session,
                actor=quinn,
                source_type="deviation",
                source_id=state["id"],
                source_label=None,
                title=f"Prevent recurrence: {scenario.title.lower()}",
                problem_statement=scenario.root_cause,
                owner_id=owner.user_id,
                due_at=opened + timedelta(days=CAPA_DAYS),
            )
            session.flush()
            course = (Course.ON_TIME, Course.FAILED_ONCE, Course.LATE, Course.STALLED)[index % 4]
            schedule_life(
                timeline,
                session,
                ctx,
                capa_id=capa.id,
                owner=owner,
                plan=scenario.capa,
                course=course,
                opened=opened,
            )
        service.transition(session, actor=investigator, deviation_id=state["id"], name="submit")

    def request_extension() -> None:
        current = deviation().due_at
        assert current is not None
        extensions.request_extension(
            session,
            actor=investigator,
            deviation_id=state["id"],
            requested_due_at=current + timedelta(days=21),
            justification="Supplier analysis of the failed part is still outstanding.",
        )
        extension = deviation().extensions[-1]
        extensions.decide_extension(
            session,
            actor=rosa,
            deviation_id=state["id"],
            extension_id=extension.id,
            approve=True,
            reason="The supplier's analysis is needed to confirm the root cause.",
        )

    def approve() -> None:
        approver = rosa if reporter.user_id != rosa.user_id else quinn
        service.transition(
            session,
            actor=approver,
            deviation_id=state["id"],
            name="approve",
            password=ctx.password,
            comment="investigation complete; root cause supported by evidence",
        )

    def close() -> None:
        for batch_ref in deviation().batches:
            impact.record_disposition(
                session,
                actor=qp,
                deviation_id=state["id"],
                batch_ref_id=batch_ref.id,
                disposition="release_permitted",
                note="No impact on quality shown by the investigation and retained samples.",
            )
        service.transition(
            session, actor=quinn, deviation_id=state["id"], name="close", password=ctx.password
        )

    timeline.at(discovered + timedelta(hours=2), report)
    timeline.at(discovered + timedelta(days=1), classify)
    if stalled and timeline.today - discovered < timedelta(days=STILL_OPEN_DAYS):
        return
    if index == EXTENDED:
        timeline.at(discovered + timedelta(days=days - 3), request_extension)
        investigation_days = days + 10
    done = discovered + timedelta(days=investigation_days, hours=rng.randint(1, 6))
    timeline.at(done, investigate)
    timeline.at(done + timedelta(days=rng.randint(1, 3)), approve)
    timeline.at(done + timedelta(days=rng.randint(4, 6)), close)


def load(session: Session, ctx: DemoContext) -> None:
    today = clock.now()
    timeline = Timeline(today)
    count = max(6, round(40 * ctx.scale))
    for index in range(count):
        # Spread over the past year, a little irregularly, the newest a few days old.
        age = 365 - index * (360 / count) + ctx.rng.uniform(-3, 3)
        discovered = today - timedelta(days=max(age, 3), hours=ctx.rng.randint(0, 12))
        scenario = SCENARIOS[index % len(SCENARIOS)]
        _schedule(timeline, session, ctx, index, scenario, discovered)
    timeline.run()


register("deviations", load)
