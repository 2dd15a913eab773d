"""The risk-factor analysis on hand-built case rows: with one factor varying the answer is the
2×2 table with ½ added to each cell (Firth on a single binary factor), worked out by hand; the
evidence table is the counts per level; a factor with one level is set aside and said so; too
few cases, no case with the outcome, or all of them, are refused with the reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.psur.selection import CaseRow, EventRow
from pharmaqms.lifecycle.use.risk.analysis import Outcome, analyse
from pharmaqms.lifecycle.use.risk.forest import forest_svg

SERIOUS = EventRow("liver injury", "", ("hospitalisation",))
MILD = EventRow("nausea", "", ())


def row(
    i: int,
    *,
    age: str | None = "40",
    serious: bool = False,
    sex: str = "female",
    lot: str = "L1",
    others: tuple[str, ...] = (),
    weight: str | None = None,
    dose: tuple[str, str] | None = None,
    route: str = "",
) -> CaseRow:
    return CaseRow(
        id=i,
        number=f"PV-{i}",
        status="valid",
        source="staff",
        report_type="spontaneous",
        received_on=date(2026, 1, 1),
        country="DE",
        reporter_type="hcp",
        age_years=Decimal(age) if age is not None else None,
        sex=sex,
        events=(SERIOUS if serious else MILD,),
        suspect_lots=(lot,),
        concomitants=others,
        weight_kg=Decimal(weight) if weight is not None else None,
        doses=((Decimal(dose[0]), dose[1]),) if dose else (),
        routes=(route,) if route else (),
    )


def age_only() -> list[CaseRow]:
    """≥ 65: 20 cases, 12 serious; 18–64: 40 cases, 8 serious."""
    old = [row(i, age="70", serious=i < 12) for i in range(20)]
    young = [row(100 + i, age="40", serious=i < 8) for i in range(40)]
    return old + young


def test_one_factor_gives_the_hand_worked_odds_ratio_and_its_reading() -> None:
    found = analyse(age_only(), Outcome())
    [odds] = found.rows
    # (12 + ½)/(8 + ½) against (8 + ½)/(32 + ½)
    assert odds.odds_ratio == pytest.approx((12.5 / 8.5) / (8.5 / 32.5), rel=1e-6)
    assert (odds.factor, odds.level, odds.reference) == ("Age band", "aged ≥ 65", "aged 18–64")
    assert (odds.cases, odds.events, odds.ci_method) == (20, 12, "profile")
    assert 1 < odds.ci_low < odds.odds_ratio < odds.ci_high
    assert odds.reading == (
        "Patients aged ≥ 65 had 5.62 times the odds of a serious outcome compared with "
        f"patients aged 18–64 (95 % CI {odds.ci_low:.2f}–{odds.ci_high:.1f})."
    )
    assert [(e.level, e.reference, e.cases, e.events) for e in found.evidence] == [
        ("aged 18–64", True, 40, 8),
        ("aged ≥ 65", False, 20, 12),
    ]
    assert [d.split(":")[0] for d in found.dropped] == [
        "Sex",
        "Weight",
        "Route",
        "Co-medication",
        "Lot",
    ]
    assert found.not_held == ()


def test_several_factors_the_evidence_counts_and_unknown_ages_kept() -> None:
    cases = age_only()
    cases += [
        row(200 + i, age=None, serious=i < 2, sex="male", lot="L2" if i < 3 else "L1")
        for i in range(6)
    ]
    cases += [
        row(300 + i, serious=i < 3, others=("warfarin",), lot="L2" if i < 4 else "L1")
        for i in range(9)
    ]
    found = analyse(cases, Outcome())
    levels = {(e.factor, e.level): (e.cases, e.events) for e in found.evidence}
    assert levels[("Age band", "age unknown")] == (6, 2)
    assert levels[("Age band", "aged 18–64")] == (49, 11)
    assert levels[("Sex", "male")] == (6, 2)
    assert levels[("Co-medication", "1 or more concomitant drugs")] == (9, 3)
    assert levels[("Lot", "lot L1")] == (68, 20) and levels[("Lot", "lot L2")] == (7, 5)
    # every case of unknown age is male: the data can't tell the two apart, and say so
    assert [r.level for r in found.rows] == [
        "aged ≥ 65",
        "age unknown",
        "1 or more concomitant drugs",
        "lot L2",
    ]
    assert any(d.startswith("Sex: male is the same cases") for d in found.dropped)
    named = analyse(cases, Outcome(), comedication="Warfarin")
    assert ("Co-medication", "with Warfarin") in {(e.factor, e.level) for e in named.evidence}
    svg = forest_svg(found.rows)
    assert svg.count('class="row"') == 4 and 'data-value="1"' in svg


def test_a_reaction_term_is_an_outcome_of_its_own() -> None:
    found = analyse(age_only(), Outcome("Liver  INJURY"))
    assert found.outcome == "reporting 'Liver  INJURY'" and found.events == 20


def test_a_separating_factor_is_estimated_finitely() -> None:
    # every case of lot L9 is serious
    cases = age_only() + [row(400 + i, serious=True, lot="L9") for i in range(5)]
    found = analyse(cases, Outcome())
    lot = next(r for r in found.rows if r.level == "lot L9")
    assert lot.events == lot.cases == 5
    assert 1 < lot.odds_ratio < 1000 and lot.ci_low > 1


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ([row(i, serious=i < 5) for i in range(19)], "only 19 cases"),
        ([row(i) for i in range(30)], "none of the 30 cases"),
        ([row(i, serious=True) for i in range(30)], "all 30 cases"),
    ],
)
def test_too_little_to_analyse_is_refused(cases: list[CaseRow], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        analyse(cases, Outcome())


def test_beyond_the_eight_lots_with_most_cases_the_rest_are_compared_together() -> None:
    cases = [
        row(i, age="70" if i % 3 == 0 else "40", serious=i % 4 == 0, lot=f"L{i % 12:02d}")
        for i in range(120)
    ]
    found = analyse(cases, Outcome())
    lots = [e for e in found.evidence if e.factor == "Lot"]
    counted = {e.level: e.cases for e in lots}
    # twelve lots of ten cases: L00 (the reference) to L07 alone, L08–L11 together
    assert len(counted) == 9 and counted["other lots"] == 40 and counted["lot L07"] == 10
    assert sum(counted.values()) == 120


def test_weight_band_is_a_factor_with_its_evidence_and_reading() -> None:
    """≥ 100 kg: 15 cases, 10 serious; 50–99 kg: 30 cases, 6 serious; unknown: 5, 1."""
    cases = [row(i, weight="120", serious=i < 10) for i in range(15)]
    cases += [row(100 + i, weight="70", serious=i < 6) for i in range(30)]
    cases += [row(200 + i, weight=None, serious=i < 1) for i in range(5)]

    found = analyse(cases, Outcome())

    heavy = next(r for r in found.rows if r.level == "weighing ≥ 100 kg")
    assert heavy.odds_ratio == pytest.approx(
        (10.5 / 5.5) / (6.5 / 24.5), rel=0.25
    )  # two levels compared at once: near, not equal to, the ½-corrected table
    assert heavy.reading.startswith("Patients weighing ≥ 100 kg had ")
    assert [(e.factor, e.level, e.reference, e.cases, e.events) for e in found.evidence] == [
        ("Weight", "weighing 50–99 kg", True, 30, 6),
        ("Weight", "weighing ≥ 100 kg", False, 15, 10),
        ("Weight", "of unknown weight", False, 5, 1),
    ]


def test_dose_is_split_at_the_median_in_one_unit_converted_by_pint() -> None:
    """Doses given in g and mg are compared in mg (the most common unit): 2 g is above the
    median of 500 mg; a dose in mg/kg is a level of its own."""
    cases = [row(i, dose=("500", "mg"), serious=i < 3) for i in range(20)]
    cases += [row(100 + i, dose=("2", "g"), serious=i < 9) for i in range(12)]
    cases += [row(200 + i, dose=("10", "mg/kg"), serious=i < 1) for i in range(4)]
    cases += [row(300 + i, serious=i < 1) for i in range(4)]

    found = analyse(cases, Outcome())

    assert [(e.level, e.reference, e.cases, e.events) for e in found.evidence] == [
        ("given ≤ 500 mg", True, 20, 3),
        ("given > 500 mg", False, 12, 9),
        ("given a dose in other units", False, 4, 1),
        ("with no dose given", False, 4, 1),
    ]
    high = next(r for r in found.rows if r.level == "given > 500 mg")
    assert high.ci_low > 1
    assert high.reading.startswith("Patients given > 500 mg had ")


def test_route_is_a_factor_with_the_most_common_route_as_reference() -> None:
    cases = [row(i, route="048", serious=i < 4) for i in range(25)]
    cases += [row(100 + i, route="042", serious=i < 8) for i in range(10)]

    found = analyse(cases, Outcome())

    [odds] = found.rows
    assert (odds.factor, odds.level, odds.reference) == (
        "Route",
        "route intravenous (not otherwise specified)",
        "route oral",
    )
    # one binary factor: the 2×2 table with ½ added to each cell
    assert odds.odds_ratio == pytest.approx((8.5 / 2.5) / (4.5 / 21.5), rel=1e-6)
    assert odds.reading.startswith("Cases with route intravenous (not otherwise specified) had ")
