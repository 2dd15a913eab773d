"""Demo notebook: one formulation project with a dissolution template, an experiment with a
witnessed entry, an amendment of it and a draft — through the services, so all of it is
encrypted, hashed, signed and audited like real data. A few signatures: about two seconds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.lifecycle.rnd.eln import service
from pharmaqms.lifecycle.rnd.eln.uploads import Upload

PROFILE = b"minutes,vessel1,vessel2,vessel3,vessel4,vessel5,vessel6\n" + b"\n".join(
    f"{t},{min(99, 12 + t * 2.6):.1f},{min(99, 11 + t * 2.7):.1f},{min(99, 13 + t * 2.5):.1f},"
    f"{min(99, 12 + t * 2.6):.1f},{min(99, 10 + t * 2.8):.1f},{min(99, 12 + t * 2.55):.1f}".encode()
    for t in (5, 10, 15, 20, 30, 45)
)


def load(session: Session, ctx: DemoContext) -> None:
    rd, qa = ctx.people["rahul.rd"], ctx.people["quinn.qa"]
    project = service.create_project(
        session,
        actor=rd,
        code="FORM-PARA-IR",
        title="Paracetamol 500 mg immediate-release tablet",
        description="Pre-formulation and formulation of a generic IR tablet.",
    )
    template = service.create_template(
        session,
        actor=rd,
        experiment_type="dissolution",
        name="USP apparatus II, 6 vessels",
        sections=[
            {
                "title": "Conditions",
                "fields": [
                    {"name": "medium", "label": "Medium", "kind": "text"},
                    {"name": "rpm", "label": "Paddle speed (rpm)", "kind": "number"},
                    {"name": "q30", "label": "Mean released at 30 min (%)", "kind": "number"},
                ],
            }
        ],
    )
    session.flush()
    experiment = service.start_experiment(
        session,
        actor=rd,
        project_id=project.id,
        template_id=template.id,
        title="Dissolution of trial blend 3 (croscarmellose 3 %)",
        protocol="USP <711> apparatus II, 900 mL pH 5.8 phosphate buffer, 37 ± 0.5 °C, "
        "50 rpm; pulls at 5, 10, 15, 20, 30 and 45 min; UV at 243 nm.",
        materials=["Paracetamol API lot PA-2611", "Croscarmellose sodium", "MCC PH-102"],
        equipment=["Dissolution bath DB-2", "UV spectrophotometer UV-1"],
    )
    session.flush()
    first = service.write_entry(
        session,
        actor=rd,
        experiment_id=experiment.id,
        content="Six tablets from trial blend 3 tested; no coning observed.",
        fields={"medium": "pH 5.8 phosphate buffer", "rpm": "50", "q30": "89.0"},
        results="Q30 mean 89.0 %, range 86.5-91.0 %.",
        conclusions="Meets the target of not less than 80 % (Q) in 30 minutes.",
        files=[Upload("dissolution-profile-blend3.csv", PROFILE)],
    )
    session.flush()
    service.sign_entry(session, actor=rd, entry_id=first.id, password=ctx.password)
    service.witness_entry(session, actor=qa, entry_id=first.id, password=ctx.password)
    amendment = service.write_entry(
        session,
        actor=rd,
        experiment_id=experiment.id,
        content="Vessel 5 reading at 30 min re-integrated (baseline drift): Q30 recalculated.",
        fields={"q30": "88.6"},
        results="Q30 mean 88.6 %.",
        conclusions="Conclusion unchanged.",
        amends_id=first.id,
    )
    session.flush()
    service.sign_entry(session, actor=rd, entry_id=amendment.id, password=ctx.password)
    service.write_entry(
        session,
        actor=rd,
        experiment_id=experiment.id,
        content="Blend 4 (croscarmellose 2 %) compressed; dissolution scheduled tomorrow.",
    )


register("R&D lab notebook", load)
