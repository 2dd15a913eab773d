"""Demo competence, kept small: the QP job role (QP nomination and an observed batch
certification required), Peter Novak nominated QP two years ago with his nomination letter and
his observed certification passed, so the demo's batch releases are signed by a qualified QP;
Lena Fischer's GDP responsible-person nomination ending in three weeks (flagged on the
register); a quiz assessment for the HPLC analyst (failed once, then passed) and an observed
tablet-press set-up, so the effectiveness figures have something to count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.quality.training import curricula
from pharmaqms.quality.training import service as training
from pharmaqms.quality.training.competence import service
from pharmaqms.quality.training.demo import HPLC_QUIZ

NOMINATION_LETTER = (
    b"Nomination of a Qualified Person\n"
    b"Peter Novak meets the conditions of Article 49 of Directive 2001/83/EC and is named as\n"
    b"Qualified Person on manufacturing authorisation DE-MIA-2024-017, site Berlin.\n"
)


def load(session: Session, ctx: DemoContext) -> None:
    qa, head = ctx.people["quinn.qa"], ctx.people["rosa.qa"]
    roles = {r.name: r for r in curricula.list_job_roles(session)}
    now = clock.now()
    with clock.frozen_at(now - timedelta(days=40)) as moment:
        qp_role = curricula.create_job_role(
            session, actor=qa, name="Qualified Person", area="Quality assurance"
        )
        service.add_qualification_requirement(
            session,
            actor=qa,
            job_role_id=qp_role.id,
            kind="authorisation",
            title="QP nomination on the manufacturing authorisation",
            authorisation_kind="qp_certification",
            reason="Directive 2001/83/EC Art. 48–51",
        )
        certification = service.add_qualification_requirement(
            session,
            actor=qa,
            job_role_id=qp_role.id,
            kind="observed_practice",
            title="Batch certification under observation",
            valid_months=24,
            reason="EU GMP Annex 16 §1.7: the QP's knowledge of the products and processes",
        )
        hplc = roles["QC analyst — chromatography"]
        [hplc_document] = [
            document
            for c in curricula.curricula_of(session, hplc.id)
            for _item, document in curricula.items_of(session, c.id)
            if training.quiz_of(session, document.id) is not None
        ]
        quiz = service.add_qualification_requirement(
            session,
            actor=qa,
            job_role_id=hplc.id,
            kind="quiz",
            title="HPLC system suitability quiz",
            document_id=hplc_document.id,
            valid_months=12,
            reason="practical knowledge check of every analyst",
        )
        press = service.add_qualification_requirement(
            session,
            actor=qa,
            job_role_id=roles["Tablet press operator"].id,
            kind="observed_practice",
            title="Tablet press set-up observed",
            valid_months=12,
            reason="set-up errors are the commonest human error at compression",
        )
        peter = ctx.people["peter.qp"]
        training.assign_job_role(session, actor=qa, user_id=peter.user_id, job_role_id=qp_role.id)
        service.grant_authorisation(
            session,
            actor=head,
            password=ctx.password,
            user_id=peter.user_id,
            kind="qp_certification",
            basis="Eligible under Art. 49 (pharmacy degree, two years in manufacturing QA); "
            "named on manufacturing authorisation DE-MIA-2024-017",
            scope="Site Berlin: solid oral dosage forms",
            effective_from=now - timedelta(days=730),
            basis_file=service.BasisFile(
                "qp-nomination-peter-novak.txt", "text/plain", NOMINATION_LETTER
            ),
        )
        service.grant_authorisation(
            session,
            actor=head,
            password=ctx.password,
            user_id=ctx.people["lena.logistics"].user_id,
            kind="gdp_responsible_person",
            basis="Named on the wholesale distribution authorisation until the renewal",
            scope="Warehouse Hamburg",
            effective_from=now - timedelta(days=340),
            effective_to=now + timedelta(days=21),
        )
        moment.advance(days=2)
        service.record_observed_practice(
            session,
            actor=qa,
            password=ctx.password,
            user_id=peter.user_id,
            requirement_id=certification.id,
            passed=True,
            observations="Certified batch PB-OBS-01 against the Annex 16 §1.7 checklist; "
            "queried the open deviation before signing, as required.",
        )
        service.record_observed_practice(
            session,
            actor=ctx.people["sofia.supervisor"],
            password=ctx.password,
            user_id=ctx.people["oscar.operator"].user_id,
            requirement_id=press.id,
            passed=True,
            observations="Tooling checked against the set-up sheet, first tablets weighed.",
        )
        chen = ctx.people["chen.qc"]
        wrong = [1 - q["answer"] for q in HPLC_QUIZ]
        service.take_quiz_assessment(
            session, actor=chen, password=ctx.password, requirement_id=quiz.id, answers=wrong
        )
        moment.advance(days=1)
        service.take_quiz_assessment(
            session,
            actor=chen,
            password=ctx.password,
            requirement_id=quiz.id,
            answers=[q["answer"] for q in HPLC_QUIZ],
        )


register("competence", load)
