"""Dose, route, weight and co-medication on a case: read by pint and the E2B code list, kept
through intake (staff, public form, API), shown on the case page; impossible values refused
with the reason and nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.lifecycle.use.cases.pv_steps import counts, staff_report
from tests.lifecycle.use.cases.test_case_pages import GOOD, form_token
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use import e2b
from pharmaqms.lifecycle.use.cases import doses, export, facts, service, sources
from pharmaqms.lifecycle.use.cases.intake import ProductReport
from pharmaqms.lifecycle.use.cases.models import PVCase


@pytest.fixture(autouse=True)
def _fixed_time(db: Any, frozen_clock: clock.FrozenClock) -> None:
    """Every test at one fixed time, on a database of its own (where the rate limit of the
    public form counts its attempts: nothing is left from another test)."""


@pytest.mark.parametrize(
    ("spelling", "ucum"),
    [
        ("mg", "mg"),
        ("milligram", "mg"),
        ("mcg", "ug"),
        ("µg/kg", "ug/kg"),
        ("mg/m2", "mg/m2"),
        ("IU", "[iU]"),
        ("k[iU]", "k[iU]"),
        ("tablet", "{tbl}"),
        ("{DF}", "{DF}"),
        ("mL/h", "mL/h"),
    ],
)
def test_a_dose_unit_is_read_by_pint_and_kept_as_its_ucum_code(spelling: str, ucum: str) -> None:
    assert doses.dose_unit(spelling) == ucum


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("furlong", "'furlong' is not a dose unit (it is made of furlong)"),
        ("spoonfuls", "unknown dose unit 'spoonfuls': pint does not know it"),
        ("degC", "'degC' is not a dose unit (it is made of degree_Celsius)"),
        ("h", "'h' is not a dose unit: a dose is an amount"),
        ("mg<b>", "'mg<b>' is not a dose unit"),
        ("mg**0.5", "'mg**0.5' is not a dose unit (a power of 0.5 of milligram)"),
        ("mg*mg", "'mg*mg' is not a dose unit (milligram to the power 2)"),
    ],
)
def test_what_is_not_a_dose_unit_is_refused_by_name(spelling: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        doses.dose_unit(spelling)
    assert refused.value.detail.startswith(message)


def test_routes_are_e2b_codes_by_code_or_name() -> None:
    assert [doses.route(r) for r in ("048", "48", "oral", "Intravenous drip", "")] == [
        "048",
        "048",
        "048",
        "041",
        "",
    ]
    with pytest.raises(InvalidInput, match="unknown route of administration 'by mouth'"):
        doses.route("by mouth")


def test_a_staff_report_keeps_dose_route_weight_and_co_medication(db: Any, people: Any) -> None:
    report = staff_report(
        patient_weight="81.4",
        products=(
            ProductReport(
                "Paracetamol 500 mg tablets",
                "L2403-117",
                dose_value="1000",
                dose_unit="milligram",
                route="oral",
            ),
            ProductReport(
                "Warfarin 5 mg tablets", role="concomitant", dose_value="5", dose_unit="mg"
            ),
        ),
    )
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=report)
        session.flush()
        assert case.patient_weight_kg == Decimal("81.40")
        assert [
            (p.role, p.product, doses.dose_text(p.dose_value, p.dose_unit), p.route)
            for p in facts.products_of(session, case)
        ] == [
            ("suspect", "Paracetamol 500 mg tablets", "1000 mg", "048"),
            ("concomitant", "Warfarin 5 mg tablets", "5 mg", ""),
        ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"patient_weight": "0"}, "patient_weight", "a weight of 0 kg is not possible"),
        ({"patient_weight": "-70"}, "patient_weight", "a weight of -70 kg is not possible"),
        ({"patient_weight": "651"}, "patient_weight", "a weight of 651 kg is not possible"),
        (
            {"patient_weight": "heavy"},
            "patient_weight",
            "the patient's weight must be a number of kilograms",
        ),
        (
            {"products": (ProductReport("Paracetamol", dose_value="2", dose_unit="spoonfuls"),)},
            "products[1].dose_unit",
            "unknown dose unit 'spoonfuls'",
        ),
        (
            {"products": (ProductReport("Paracetamol", dose_value="2"),)},
            "products[1].dose_unit",
            "the dose needs its unit",
        ),
        (
            {"products": (ProductReport("Paracetamol", dose_unit="mg"),)},
            "products[1].dose_value",
            "product 1: a dose unit without a dose",
        ),
        (
            {"products": (ProductReport("Paracetamol", dose_value="-5", dose_unit="mg"),)},
            "products[1].dose_value",
            "a dose of -5 is not possible",
        ),
        (
            {"products": (ProductReport("Paracetamol", route="999"),)},
            "products[1].route",
            "unknown route of administration '999'",
        ),
    ],
)
def test_an_impossible_weight_dose_or_route_is_refused_and_nothing_changes(
    db: Any, people: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    before = counts(db)
    with pytest.raises(InvalidInput) as refused, unit_of_work(db) as session:
        service.record_case(session, actor=people.pv, report=staff_report(**overrides))
    assert refused.value.field == field
    assert refused.value.detail.startswith(message)
    assert counts(db) == before


def test_a_follow_up_that_gives_the_weight_records_the_change(db: Any, people: Any) -> None:
    with unit_of_work(db) as session:
        case_id = service.record_case(session, actor=people.pv, report=staff_report()).id
    with unit_of_work(db) as session:
        case = service.record_follow_up(
            session, actor=people.pv, case_id=case_id, report=staff_report(patient_weight="64")
        )
        assert case.patient_weight_kg == Decimal("64.00")
    with unit_of_work(db, write=False) as session:
        versions = service.get_case(session, case_id)
        assert versions.case_version == 2


def test_staff_intake_form_takes_the_details_and_the_case_page_shows_them(
    app: Any, db: Any
) -> None:
    pv = UiClient(app)
    pv.login("pv")
    assert 'name="patient_weight"' in pv.get("/pv/cases/new").text

    taken = pv.post(
        "/pv/cases",
        {
            "received_at": "2026-03-01T10:00",
            "product": "Paracetamol 500 mg tablets",
            "dose_value": "500",
            "dose_unit": "mg",
            "route": "048",
            "concomitant": "Warfarin 5 mg tablets\nOmeprazole 20 mg capsules",
            "verbatim": "rash",
            "patient_weight": "70",
            "reporter_type": "hcp",
            "reporter_country": "DE",
        },
        referer="/pv/cases/new",
    )

    page = pv.follow(taken).text
    assert '<span data-testid="patient-weight">70 kg</span>' in page
    assert "<td>suspect</td><td>Paracetamol 500 mg tablets</td><td>500 mg</td><td>Oral</td>" in page
    assert "<td>concomitant</td><td>Omeprazole 20 mg capsules</td>" in page


def test_staff_intake_form_refuses_an_unknown_unit_and_nothing_changes(app: Any, db: Any) -> None:
    pv = UiClient(app)
    pv.login("pv")
    pv.get("/pv/cases/new")
    before = counts(db)

    refused = pv.post(
        "/pv/cases",
        {
            "received_at": "2026-03-01T10:00",
            "product": "Paracetamol",
            "dose_value": "2",
            "dose_unit": "spoonfuls",
            "verbatim": "rash",
        },
        referer="/pv/cases/new",
    )

    assert "unknown dose unit" in pv.follow(refused).text
    assert counts(db) == before


def test_the_public_form_takes_weight_dose_and_other_medicines(
    app: Any, db: Any, people: Any
) -> None:
    visitor = TestClient(app, follow_redirects=False)
    token, page = form_token(visitor)
    assert 'id="weight"' in page and 'id="others"' in page

    sent = visitor.post(
        "/report-side-effect",
        data={
            **GOOD,
            "weight": "58",
            "dose": "2",
            "dose_unit": "tablet",
            "others": "Ibuprofen",
            "csrf_token": token,
        },
    )

    assert sent.status_code == 200, sent.text
    with unit_of_work(db, write=False) as session:
        case = session.scalars(select(PVCase)).one()
        assert case.patient_weight_kg == Decimal("58.00")
        assert [
            (p.role, p.product, doses.dose_text(p.dose_value, p.dose_unit))
            for p in facts.products_of(session, case)
        ] == [
            ("suspect", "Paracetamol 500 mg tablets", "2 {tbl}"),
            ("concomitant", "Ibuprofen", ""),
        ]


def test_the_public_form_refuses_a_weight_of_700_kg_next_to_the_field(app: Any, db: Any) -> None:
    visitor = TestClient(app, follow_redirects=False)
    token, _page = form_token(visitor)
    before = counts(db)

    refused = visitor.post(
        "/report-side-effect", data={**GOOD, "weight": "700", "csrf_token": token}
    )

    assert refused.status_code == 422
    assert 'href="#weight">A weight of 700 kg is not possible' in refused.text
    assert counts(db) == before


def test_dose_route_and_weight_travel_through_fhir_and_back_into_a_case(
    db: Any, people: Any
) -> None:
    # A case → its E2B model → a FHIR R4 Bundle as JSON text → the E2B model → the report a
    # case is made from: the weight, and each drug's dose and route, are those of the case.
    report = staff_report(
        patient_weight="81.4",
        products=(
            ProductReport(
                "Paracetamol 500 mg tablets",
                "L2403-117",
                dose_value="1000",
                dose_unit="milligram",
                route="oral",
            ),
            ProductReport(
                "Enoxaparin 40 mg/0.4 mL",
                role="concomitant",
                dose_value="0.4",
                dose_unit="mL",
                route="subcutaneous",
            ),
        ),
    )
    with unit_of_work(db) as session:
        case = service.record_case(session, actor=people.pv, report=report)
        session.flush()
        icsr = export.icsr_of(session, case)
    bundle = json.loads(json.dumps(e2b.to_fhir(icsr)))
    back = sources.report_from_icsr(e2b.from_fhir(bundle, message=icsr.message))

    assert back.patient_weight == "81.4"
    assert [
        (p.product, p.role, p.lot_number, p.dose_value, p.dose_unit, p.route) for p in back.products
    ] == [
        ("Paracetamol 500 mg tablets", "suspect", "L2403-117", "1000", "mg", "048"),
        ("Enoxaparin 40 mg/0.4 mL", "concomitant", "", "0.4", "mL", "058"),
    ]
