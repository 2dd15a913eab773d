"""Competence beyond training: authorisations granted with the head of QA's signature (never
one's own), their basis kept byte for byte, revoked with a reason, flagged when expiring or
expired; observed practice assessed by someone else only; the qualification matrix with its
reasons; the training-effectiveness figures against hand counts."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from tests.quality.competence_steps import counts, hold, job_role, ok, requirement, user_ids
from tests.quality.document_steps import effective_document
from tests.quality.quality_steps import INVESTIGATION, classified_deviation
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.training.competence import effectiveness

LETTER = b"%PDF-1.4\n% nomination letter of the QP\n\x00\x01\x02binary tail\n%%EOF\n"


def grant(qa: Any, user_id: int, **extra: Any) -> Any:
    body = {
        "user_id": user_id,
        "kind": "gdp_responsible_person",
        "basis": "Nominated as Responsible Person on the wholesale authorisation",
        "effective_from": clock.now().isoformat(),
        "password": PASSWORD,
        **extra,
    }
    return qa.post("/api/v1/training/authorisations", json=body)


@pytest.mark.postgres
def test_an_authorisation_is_granted_signed_kept_byte_for_byte_flagged_and_revoked(
    db, api, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    qa, qa2, ids = api("qa"), api("qa2"), user_ids(api)
    until = clock.now() + timedelta(days=90)

    # given: the head of QA grants Lars the GDP responsible person, with the nomination letter
    granted = ok(
        grant(
            qa,
            ids["logistics"],
            effective_to=until.isoformat(),
            scope="Warehouse Hamburg",
            basis_file={
                "filename": "nomination.pdf",
                "media_type": "application/pdf",
                "content_base64": base64.b64encode(LETTER).decode(),
            },
        ),
        201,
    )

    # then: granted, signed "Approved" by QA, the letter's digest in the signed content
    assert (granted["status"], granted["state"], granted["username"]) == (
        "granted",
        "in_force",
        "logistics",
    )
    assert granted["basis_sha256"] == hashlib.sha256(LETTER).hexdigest()
    assert [(s["meaning"], s["signer_username"]) for s in granted["signatures"]] == [
        ("Approved", "qa")
    ]
    letter = qa2.get(f"/api/v1/training/authorisations/{granted['id']}/basis")
    assert letter.status_code == 200
    assert letter.content == LETTER
    assert letter.headers["x-content-sha256"] == hashlib.sha256(LETTER).hexdigest()

    # when the clock nears the end: flagged expiring soon; past it: expired
    frozen_clock.advance(days=31)
    qa = api("qa")  # a new sign-in: tokens expire
    register = ok(qa.get("/api/v1/training/authorisations"))
    assert [(a["number"], a["state"]) for a in register if a["username"] == "logistics"] == [
        (granted["number"], "expiring_soon")
    ]
    frozen_clock.advance(days=60)
    qa = api("qa")
    assert ok(qa.get(f"/api/v1/training/authorisations/{granted['id']}"))["state"] == "expired"

    # and a second authorisation is revoked with its reason, signed "Retired"
    second = ok(grant(qa, ids["logistics"], kind="qualified_trainer", basis="Trainer course"), 201)
    before = counts(db)
    no_reason = qa.post(
        f"/api/v1/training/authorisations/{second['id']}/revoke",
        json={"reason": " ", "password": PASSWORD},
    )
    assert no_reason.status_code == 422
    assert counts(db) == before
    revoked = ok(
        qa.post(
            f"/api/v1/training/authorisations/{second['id']}/revoke",
            json={"reason": "left the company", "password": PASSWORD},
        )
    )
    assert (revoked["status"], revoked["state"], revoked["revocation_reason"]) == (
        "revoked",
        "revoked",
        "left the company",
    )
    assert [s["meaning"] for s in revoked["signatures"]] == ["Approved", "Retired"]


@pytest.mark.postgres
def test_nobody_authorises_themselves_and_only_qa_authorises_and_nothing_changes(
    db, api, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    ids = user_ids(api)
    before = counts(db)

    own = grant(api("qa"), ids["qa"])
    by_qp = grant(api("qp"), ids["logistics"])
    wrong_password = grant(api("qa"), ids["logistics"], password="wrong-password-1")
    naive = grant(api("qa"), ids["logistics"], effective_from="2026-03-01T00:00:00")

    assert (own.status_code, own.json()["code"]) == (403, "segregation_of_duties")
    assert own.json()["detail"] == (
        "qa may not authorise themselves: another person of QA grants it"
    )
    assert by_qp.status_code == 403
    assert wrong_password.status_code in (401, 403)
    assert naive.status_code == 422  # a time without its zone is malformed
    after = counts(db)
    # a failed signature attempt is audited (Part 11): only the audit may have grown
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }


@pytest.mark.postgres
def test_observed_practice_is_assessed_by_someone_else_and_the_matrix_says_why(
    db, api, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    qa, supervisor, ids = api("qa"), api("supervisor"), user_ids(api)
    sop = effective_document(api("qc"), qa, "Aseptic gowning")
    role = job_role(qa, "Aseptic operator", document_id=sop["id"])
    practice = requirement(
        qa, role, kind="observed_practice", title="Gowning observed", valid_months=12
    )
    requirement(
        qa, role, kind="authorisation", title="Trainer", authorisation_kind="qualified_trainer"
    )
    assigned = hold(qa, role, ids["operator"])["assigned"]

    # the matrix: not qualified, and why
    [cell] = ok(qa.get("/api/v1/training/qualification"))
    assert (cell["username"], cell["job_role"], cell["qualified"]) == (
        "operator",
        "Aseptic operator",
        False,
    )
    assert [(g["check"], g["detail"]) for g in cell["gaps"]] == [
        (
            "training_current",
            f"{sop['number']} Aseptic gowning: training {assigned[0]['number']} on "
            f"{sop['number']} v1.0 assigned (due 2026-03-16) but not completed",
        ),
        ("assessment_valid", "Gowning observed (observed practice): never assessed"),
        ("authorisation_in_force", "Qualified trainer and assessor: no authorisation"),
    ]
    assert cell["gaps"][0]["basis"].startswith("EU GMP Chapter 2")

    # when the supervisor records their own observed practice: refused, nothing changed
    before = counts(db)
    own = supervisor.post(
        "/api/v1/training/assessments/observed",
        json={
            "user_id": ids["supervisor"],
            "requirement_id": practice,
            "passed": True,
            "observations": "all fine",
            "password": PASSWORD,
        },
    )
    assert (own.status_code, own.json()["code"]) == (403, "segregation_of_duties")
    assert own.json()["detail"] == (
        "supervisor may not assess their own practice: another person observes it"
    )
    assert counts(db) == before

    # the supervisor observes the operator: first not passed, then passed
    observed = {
        "user_id": ids["operator"],
        "requirement_id": practice,
        "observations": "Gloves changed after touching the door handle.",
        "password": PASSWORD,
    }
    failed = ok(
        supervisor.post(
            "/api/v1/training/assessments/observed", json={**observed, "passed": False}
        ),
        201,
    )
    frozen_clock.advance(days=1)
    passed = ok(
        supervisor.post("/api/v1/training/assessments/observed", json={**observed, "passed": True}),
        201,
    )
    assert (failed["passed"], failed["valid_until"]) == (False, None)
    assert passed["valid_until"].startswith("2027-03-03")
    assert [(s["meaning"], s["signer_username"]) for s in passed["signatures"]] == [
        ("Verified", "supervisor")
    ]
    person = ok(qa.get(f"/api/v1/training/qualification/people/{ids['operator']}"))
    assert [g["check"] for g in person["qualifications"][0]["gaps"]] == [
        "training_current",
        "authorisation_in_force",
    ]
    assert [a["number"] for a in person["assessments"]] == [passed["number"], failed["number"]]

    # a year later the practice is due again
    frozen_clock.advance(days=366)
    qa = api("qa")
    [cell] = ok(qa.get("/api/v1/training/qualification"))
    assert (
        "assessment_valid",
        f"Gowning observed (observed practice): {passed['number']} passed on 2026-03-03, "
        "due again since 2027-03-03",
    ) in [(g["check"], g["detail"]) for g in cell["gaps"]]


def test_training_effectiveness_figures_against_hand_counts(db, api, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    qa, qc, supervisor, ids = api("qa"), api("qc"), api("supervisor"), user_ids(api)
    sop = effective_document(api("supervisor"), qa, "HPLC sequence review")
    ok(
        qa.client.put(
            f"/api/v1/training/quizzes/{sop['id']}",
            headers=qa.headers,
            json={
                "pass_mark_percent": 100,
                "questions": [{"question": "Who reviews?", "options": ["A", "B"], "answer": 1}],
            },
        )
    )
    role = job_role(qa, "QC analyst", document_id=sop["id"])
    quiz = requirement(qa, role, kind="quiz", title="HPLC quiz", document_id=sop["id"])
    practice = requirement(qa, role, kind="observed_practice", title="HPLC run observed")
    [training] = hold(qa, role, ids["qc"])["assigned"]

    # read and understood: the quiz failed once, then passed, on time (first time: no)
    complete = f"/api/v1/training/requirements/{training['id']}/complete"
    # signing needs the text opened first (read and understood)
    assert qc.post(f"/api/v1/training/requirements/{training['id']}/open").status_code == 200
    assert qc.post(complete, json={"password": PASSWORD, "answers": [0]}).status_code == 400
    ok(qc.post(complete, json={"password": PASSWORD, "answers": [1]}))
    # the quiz assessment: passed at the first attempt (first time: yes)
    take = {"requirement_id": quiz, "answers": [1], "password": PASSWORD}
    ok(qc.post("/api/v1/training/assessments/quiz", json=take), 201)
    # observed practice: not passed, then passed
    observed = {"user_id": ids["qc"], "requirement_id": practice, "observations": "seen"}
    for passed in (False, True):
        ok(
            supervisor.post(
                "/api/v1/training/assessments/observed",
                json={**observed, "passed": passed, "password": PASSWORD},
            ),
            201,
        )
    # an ad-hoc training after a human-error deviation, never done: due in 1 day, late
    man = classified_deviation(db, api("operator"), qa, "qc")
    ok(
        qc.post(
            f"/api/v1/deviations/{man['id']}/investigation",
            json={**INVESTIGATION, "root_cause_category": "man"},
        )
    )
    other = classified_deviation(db, api("operator"), qa, "qc")
    ok(
        qc.post(
            f"/api/v1/deviations/{other['id']}/investigation",
            json={**INVESTIGATION, "root_cause_category": "man"},
        )
    )
    machine = classified_deviation(db, api("operator"), qa, "qc")
    ok(qc.post(f"/api/v1/deviations/{machine['id']}/investigation", json=INVESTIGATION))
    ok(
        qa.post(
            "/api/v1/training/requirements",
            json={
                "user_id": ids["operator"],
                "document_id": sop["id"],
                "due_in_days": 1,
                "reason": f"retraining after {man['number']}",
            },
        ),
        201,
    )
    frozen_clock.advance(days=2)
    qa = api("qa")

    figures = ok(qa.get("/api/v1/training/effectiveness"))

    # by hand: first-time quiz 1 of 2; assessments 2 of 3; on time 1 of 2 (the operator's
    # retraining is late); in February (the deviations occurred two days before) two
    # human-error deviations, one followed by a retraining (the machine one is left out)
    months = {m["month"]: m for m in figures["months"]}
    keys = (
        "first_time_quiz_pass",
        "assessment_pass",
        "on_time_completion",
        "retrained_after_human_error",
    )
    march, february = months["2026-03"], months["2026-02"]
    assert [
        (march[k]["numerator"], march[k]["denominator"], march[k]["percent"]) for k in keys
    ] == [(1, 2, 50.0), (2, 3, 66.7), (1, 2, 50.0), (0, 0, None)]
    assert [(february[k]["numerator"], february[k]["denominator"]) for k in keys] == [
        (0, 0),
        (0, 0),
        (0, 0),
        (1, 2),
    ]
    assert figures["total"]["assessment_pass"] == march["assessment_pass"]
    assert (min(months), max(months), len(months)) == ("2025-04", "2026-03", 12)
    with unit_of_work(db, write=False) as session:
        assert effectiveness.figures(session).total.on_time.denominator == 2
