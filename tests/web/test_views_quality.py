"""The quality loop pages through their forms: reporting and classifying a deviation, writing
the investigation, raising a CAPA from it, the registers with their filters, a refused form that
changes nothing, read-only pages for an auditor, the change control decision form, complaint
triage, the FMEA form and the trend charts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.quality.quality_steps import counts
from tests.support import PASSWORD
from tests.web.support import flash_of

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.changes import service as changes
from pharmaqms.quality.complaints import service as complaints
from pharmaqms.quality.deviations.models import Deviation


@pytest.fixture(autouse=True)
def _clock_stops_after_the_database_is_made(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """The template database must be made on real time (see tests/quality/test_deviations_api)."""


def _form_time(days: float) -> str:
    return (clock.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _date(days: float) -> str:
    return (clock.now() + timedelta(days=days)).strftime("%Y-%m-%d")


def report(client: Any, **fields: str) -> Any:
    client.get("/deviations/new")
    return client.post(
        "/deviations",
        {
            "title": "Label roll mix-up on line 3",
            "description": "A 250 mg label roll was loaded for a 500 mg batch.",
            "area": "Packaging",
            "occurred_at": _form_time(1),
            "discovered_at": _form_time(0.5),
            "product": "Paracetamol 500 mg tablets",
            "batch_ids": "PA-2603-001\nPA-2603-002",
            "immediate_actions": "Line stopped, packs segregated.",
            **fields,
        },
        referer="/deviations/new",
    )


def user_id(db: Database, username: str) -> int:
    from tests.quality.quality_steps import user_id as lookup

    return lookup(db, username)


def test_a_deviation_is_reported_classified_investigated_and_raises_a_capa(
    ui: Any, db: Database
) -> None:
    operator, qa, qc = ui("operator"), ui("qa"), ui("qc")

    reported = report(operator)
    assert reported.headers["location"] == "/deviations/1"
    page = operator.follow(reported).text
    assert flash_of(page) == "DEV-2026-0001 reported; QA will classify it."
    assert page.count("hold requested") == 2
    # the record's trail includes the rows that belong to it, named in the record column
    assert page.count('<span class="record-type">Deviation batch</span>') == 2
    assert "batch PA-2603-002" in page

    qa.get("/deviations/1")
    classified = qa.post(
        "/deviations/1/classification",
        {
            "classification": "critical",
            "severity": "5",
            "probability": "2",
            "detectability": "3",
            "severity_basis": "Wrong strength reaches patients.",
            "probability_basis": "First event.",
            "detectability_basis": "Vision system catches most packs.",
            "investigator_id": str(user_id(db, "qc")),
            "expected_version": "1",
        },
        referer="/deviations/1",
    )
    assert flash_of(qa.follow(classified).text) == (
        "DEV-2026-0001 classified critical, due 2026-03-16."
    )

    qc.get("/deviations/1")
    saved = qc.post(
        "/deviations/1/investigation",
        {
            "root_cause": "Both strengths stored on one rack.",
            "root_cause_category": "material",
            "why_chain": "Wrong roll loaded\nRolls look alike\n\nStored together",
            "material": "look-alike labels",
            "environment": "shared rack\nno segregation",
        },
        referer="/deviations/1",
    )
    page = qc.follow(saved).text
    assert flash_of(page) == "Investigation of DEV-2026-0001 saved."
    with unit_of_work(db, write=False) as session:
        deviation = session.scalars(select(Deviation)).one()
        assert deviation.why_chain == ["Wrong roll loaded", "Rolls look alike", "Stored together"]
        assert deviation.fishbone == {
            "material": ["look-alike labels"],
            "environment": ["shared rack", "no segregation"],
        }

    raised = qc.post(
        "/deviations/1/capa",
        {
            "title": "Segregate label rolls",
            "problem_statement": "Look-alike rolls are stored together.",
            "owner_id": str(user_id(db, "supervisor")),
            "due_at": _date(60),
        },
        referer="/deviations/1",
    )
    assert raised.headers["location"] == "/capas/1"
    capa_page = qc.follow(raised).text
    assert flash_of(capa_page) == "CAPA-2026-0001 raised from the deviation."
    assert re.search(r'data-testid="raised-from">.*?DEV-2026-0001', capa_page, re.S)
    deviation_page = qc.get("/deviations/1").text
    assert re.search(r'data-testid="led-to">.*?CAPA-2026-0001', deviation_page, re.S)
    assert "A CAPA is raised (see linked records)." in deviation_page


def test_a_refused_report_goes_back_with_the_reason_and_writes_nothing(
    ui: Any, db: Database
) -> None:
    operator = ui("operator")
    operator.get("/deviations/new")
    before = counts(db)

    refused = report(operator, occurred_at=_form_time(0.1), discovered_at=_form_time(2))

    assert refused.headers["location"] == "http://testserver/deviations/new"
    message = flash_of(operator.follow(refused).text)
    assert message.startswith("the deviation can't have been discovered")
    assert counts(db) == before


def test_the_registers_filter_and_flag_what_is_overdue(
    ui: Any, db: Database, frozen_clock: clock.FrozenClock
) -> None:
    qa = ui("qa")
    report(ui("operator"))
    report(ui("operator"), title="Gowning not followed", area="Production", batch_ids="")
    qa.get("/deviations/1")
    qa.post(
        "/deviations/1/classification",
        {
            "classification": "critical",
            "severity": "5",
            "probability": "2",
            "detectability": "3",
            "severity_basis": "b",
            "probability_basis": "b",
            "detectability_basis": "b",
            "investigator_id": str(user_id(db, "qc")),
        },
        referer="/deviations/1",
    )
    frozen_clock.advance(days=20)
    qa = ui("qa")

    overdue = qa.get("/deviations?overdue=1").text
    packaging = qa.get("/deviations?area=Packaging").text

    assert "Label roll mix-up on line 3" in overdue
    assert "Gowning not followed" not in overdue
    assert 'data-testid="overdue"' in overdue
    assert "Gowning not followed" not in packaging and "Label roll mix-up" in packaging
    register = qa.get("/capas").text
    assert re.search(r'class="kpi-value">0</span><span class="kpi-label">open', register)


def test_an_auditor_reads_every_quality_page_but_gets_no_form(ui: Any, db: Database) -> None:
    report(ui("operator"))
    auditor = ui("auditor")

    for url in (
        "/deviations",
        "/deviations/1",
        "/capas",
        "/changes",
        "/complaints",
        "/risk-assessments",
        "/quality/trends",
    ):
        page = auditor.get(url)
        assert page.status_code == 200, url
        assert 'method="post" action="/deviations' not in page.text, url
    assert "Read-only access" in auditor.get("/deviations/1").text


def test_a_function_signs_its_approval_on_the_change_page(
    ui: Any, db: Database, people: Any
) -> None:
    with unit_of_work(db) as session:
        change = changes.request_change(
            session,
            actor=people.rd,
            title="New blister foil supplier",
            description="Second source for the blister foil.",
            justification="Supply security.",
        )
        session.flush()
        cid = change.id
        changes.transition(session, actor=people.rd, change_id=cid, name="submit")
        changes.assess_impact(
            session,
            actor=people.qa,
            change_id=cid,
            impacts=[
                changes.ImpactInput(area, area == "validation", "assessed")
                for area in (
                    "documents",
                    "processes",
                    "equipment",
                    "validation",
                    "regulatory_filing",
                    "training",
                )
            ],
            regulatory_category="notification",
            regulatory_rationale="New supplier of a primary packaging component.",
            functions=["quality_assurance", "production"],
        )
        changes.transition(session, actor=people.qa, change_id=cid, name="submit_for_approval")
    supervisor = ui("supervisor")
    page = supervisor.get(f"/changes/{cid}").text
    assert '<option value="production">production</option>' in page
    assert "notification" in page

    signed = supervisor.post(
        f"/changes/{cid}/decisions",
        {"function": "production", "decision": "approve", "password": PASSWORD},
        referer=f"/changes/{cid}",
    )

    assert flash_of(supervisor.follow(signed).text) == (
        "Production approved (signed); status now approval."
    )
    again = supervisor.post(
        f"/changes/{cid}/decisions",
        {"function": "production", "decision": "approve", "password": PASSWORD},
        referer=f"/changes/{cid}",
    )
    assert "already approved" in flash_of(supervisor.follow(again).text)


def test_complaint_triage_hands_an_adverse_event_to_pharmacovigilance(
    ui: Any, db: Database, people: Any
) -> None:
    with unit_of_work(db) as session:
        complaint = complaints.register_complaint(
            session,
            actor=people.qa,
            product="Insulin glargine 100 U/ml",
            lot="IG-2602-001",
            complainant_name="A. Patient",
            complainant_type="patient",
            received_at=clock.now() - timedelta(hours=2),
            description="Dizzy after the injection.",
        )
        session.flush()
        cid = complaint.id
    qa = ui("qa")
    qa.get(f"/complaints/{cid}")

    triaged = qa.post(
        f"/complaints/{cid}/triage",
        {
            "category": "adverse_event",
            "criticality": "major",
            "rationale": "Suspected adverse reaction.",
            "investigator_id": str(user_id(db, "qc")),
            "expected_version": "1",
        },
        referer=f"/complaints/{cid}",
    )

    page = qa.follow(triaged).text
    assert flash_of(page) == (
        "Triaged as adverse event. The adverse event is handed to pharmacovigilance."
    )
    assert "PV handover pending" in page
    pv_page = ui("pv").get(f"/complaints/{cid}").text
    assert 'name="pv_reference"' in pv_page
    trend = qa.get("/complaints").text
    assert re.search(r'data-testid="trend-by-lot">.*?IG-2602-001', trend, re.S)


def test_the_fmea_form_scores_a_failure_mode(ui: Any, db: Database) -> None:
    report(ui("operator"))
    supervisor = ui("supervisor")
    supervisor.get("/risk-assessments/new?subject_type=deviation&subject_id=1")
    created = supervisor.post(
        "/risk-assessments",
        {"title": "Label FMEA", "scope": "Line 3", "subject_type": "deviation", "subject_id": "1"},
        referer="/risk-assessments/new",
    )
    assert created.headers["location"] == "/risk-assessments/1"
    supervisor.follow(created)

    added = supervisor.post(
        "/risk-assessments/1/items",
        {
            "failure_mode": "Wrong roll loaded",
            "effect": "Wrong strength on packs",
            "cause": "Look-alike rolls",
            "severity": "5",
            "occurrence": "2",
            "detectability": "3",
            "controls": "Barcode check at loading",
            "residual_severity": "5",
            "residual_occurrence": "1",
            "residual_detectability": "1",
        },
        referer="/risk-assessments/1",
    )

    page = supervisor.follow(added).text
    assert flash_of(page) == "Failure mode added: RPN 30, high risk."
    assert "DEV-2026-0001" in page
    assert "RA-2026-0001" in supervisor.get("/deviations/1").text


def test_the_trend_charts_are_svg_with_a_bar_per_month_and_class(ui: Any, db: Database) -> None:
    report(ui("operator"))
    qa = ui("qa")

    page = qa.get("/quality/trends?months=6").text
    chart = qa.get("/quality/charts/deviations-by-class.svg?months=6")
    capa = qa.get("/quality/charts/capa-on-time.svg?months=6")

    assert 'src="/quality/charts/deviations-by-class.svg?months=6"' in page
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.count('id="bar-unclassified') == 6
    assert chart.text.count('id="bar-critical') == 6
    assert capa.headers["content-type"] == "image/svg+xml"
    assert capa.text.count('id="bar-on-time') == 6
    assert "line-rate" not in capa.text  # no CAPA closed: no rate to draw
    assert re.search(r"<td>2026-03</td><td class=\"num\">0</td>", page)


def test_the_capa_register_filters_by_the_record_types_capas_are_raised_from(
    ui: Any, api: Any, db: Database, people: Any
) -> None:
    from tests.lifecycle.production.setup import (
        PRODUCT,
        add_batch,
        approved_specification,
        seed_master_data,
    )

    # given QC's OOS investigation of an assay below specification raised a CAPA
    seed_master_data(db, people)
    qc, qa_api = api("qc"), api("qa")
    approved_specification(qc, qa_api, item_code=PRODUCT)
    recorded = qc.post(
        "/api/v1/production/qc/results",
        json={
            "lot_id": add_batch(db, people, "B26001"),
            "sample_id": "S-1",
            "test_code": "ASSAY",
            "tested_at": "2026-03-02T08:00:00Z",
            "value": 94.94,
            "unit": "%",
        },
    )
    assert recorded.status_code == 201, recorded.text
    raised = qa_api.post(
        "/api/v1/capas",
        json={
            "title": "Assay method robustness",
            "problem_statement": "Assay results scatter near the lower limit.",
            "owner_id": user_id(db, "qc"),
            "due_at": (clock.now() + timedelta(days=60)).isoformat(),
            "source": {
                "source_type": "oos_investigation",
                "source_id": recorded.json()["investigation_id"],
            },
        },
    )
    assert raised.status_code == 201, raised.text

    # when QA opens the register
    qa = ui("qa")
    page = qa.get("/capas").text

    # then the source filter offers the record types as registered, QC's OOS investigation
    # among them, and filtering on it finds the CAPA
    select_html = re.search(r'<select name="source_type">(.*?)</select>', page, re.S)
    assert select_html is not None
    assert re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', select_html[1]) == [
        ("audit_finding", "Audit finding"),
        ("complaint", "Complaint"),
        ("deviation", "Deviation"),
        ("management_review", "Management review"),
        ("oos_investigation", "OOS investigation"),
        ("signal", "Pharmacovigilance signal"),
        ("excursion", "Temperature excursion"),
    ]
    assert "CAPA-2026-0001" in qa.get("/capas?source_type=oos_investigation").text
    assert "CAPA-2026-0001" not in qa.get("/capas?source_type=deviation").text
