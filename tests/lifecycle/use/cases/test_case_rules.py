"""The case-processing rules, pure: validity, seriousness, expectedness against the reference
safety information, and the reporting clocks of each region with their regulatory basis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from pharmaqms.lifecycle.use.cases import rules
from pharmaqms.lifecycle.use.cases.rules import CaseFacts, EventFact, ProductFact, ReferenceInfo

DAY0 = date(2026, 3, 1)
BASE = CaseFacts(
    report_type="spontaneous",
    patient_initials="JD",
    patient_age_years=Decimal("54"),
    patient_sex="female",
    reporter_type="hcp",
    reporter_country="DE",
    products=(ProductFact("Paracetamol", "suspect", "L1"),),
    events=(EventFact("skin rash", "", ()),),
    reference={},
)


def codes(facts: CaseFacts) -> list[tuple[str, int]]:
    return [(c.code, c.days) for c in rules.clocks(facts, DAY0)]


def test_a_complete_case_meets_the_four_minimum_criteria() -> None:
    assert [r.passed for r in rules.validity(BASE)] == [True, True, True, True]
    assert all("ICH E2D" in r.basis for r in rules.validity(BASE))


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        (
            {"patient_initials": "", "patient_age_years": None, "patient_sex": "unknown"},
            "identifiable_patient",
        ),
        ({"reporter_type": None}, "identifiable_reporter"),
        ({"products": (ProductFact("Atorvastatin", "concomitant", ""),)}, "suspect_product"),
        ({"events": ()}, "adverse_event"),
    ],
)
def test_each_missing_criterion_fails_its_own_rule(change: dict[str, object], failing: str) -> None:
    results = rules.validity(replace(BASE, **change))  # type: ignore[arg-type]
    assert [r.code for r in results if not r.passed] == [failing]


def test_a_non_serious_spontaneous_case_is_due_in_90_days_in_the_eu_and_30_in_china() -> None:
    assert codes(BASE) == [("eu_non_serious_90", 90), ("cn_non_serious_30", 30)]
    assert rules.clocks(BASE, DAY0)[0].due_on == date(2026, 5, 30)


def test_a_serious_unexpected_case_is_expedited_in_every_region() -> None:
    serious = replace(BASE, events=(EventFact("anaphylaxis", "", ("life_threatening",)),))
    assert codes(serious) == [("eu_serious_15", 15), ("us_alert_15", 15), ("cn_serious_15", 15)]


def test_a_serious_expected_case_is_not_a_us_15_day_alert() -> None:
    listed = ReferenceInfo("SmPC 4.8 v3", ("Anaphylaxis",))
    serious = replace(
        BASE,
        events=(EventFact("anaphylaxis", "", ("hospitalisation",)),),
        reference={"Paracetamol": listed},
    )
    assert rules.expectedness(serious).expected is True
    assert codes(serious) == [("eu_serious_15", 15), ("cn_serious_15", 15)]


def test_a_fatal_unexpected_study_case_is_a_7_day_susar() -> None:
    fatal = replace(BASE, report_type="study", events=(EventFact("death", "", ("death",)),))
    assert codes(fatal) == [("eu_susar_7", 7), ("us_ind_7", 7), ("cn_susar_7", 7)]
    unrelated = replace(fatal, causality="unlikely")
    assert codes(unrelated) == []


def test_every_clock_rule_names_its_regulatory_basis() -> None:
    assert {r.region for r in rules.CLOCK_RULES} == {"EU", "US", "CN"}
    assert all(r.basis.strip() for r in rules.CLOCK_RULES)


def test_without_reference_safety_information_an_event_is_unexpected() -> None:
    judged = rules.expectedness(BASE)
    assert judged.expected is False
    assert judged.per_event == (
        ("Paracetamol", "skin rash", False, "no reference safety information"),
    )


def test_a_meddra_code_listed_in_the_reference_makes_the_event_expected() -> None:
    coded = replace(
        BASE,
        events=(EventFact("spots all over", "10037844", ()),),
        reference={"Paracetamol": ReferenceInfo("CCSI v7", ("10037844",))},
    )
    assert rules.expectedness(coded).expected is True


def test_seriousness_names_the_criteria_met() -> None:
    serious = replace(
        BASE, events=(EventFact("a", "", ("death",)), EventFact("b", "", ("hospitalisation",)))
    )
    result = rules.seriousness(serious)
    assert (result.passed, result.found) == (
        True,
        "serious: results in death; requires or prolongs hospitalisation",
    )
