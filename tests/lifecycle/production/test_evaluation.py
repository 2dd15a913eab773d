"""Judging results and detecting trends, on constructed values (no database): limits, rounding,
units, list criteria, and the two OOT rules with their edges."""

from __future__ import annotations

import pytest

from pharmaqms.lifecycle.production.qc.evaluation import (
    Criterion,
    completes_run,
    criterion_problems,
    judge,
    outside_mean_ks,
    trend_findings,
)

ASSAY = Criterion("ASSAY", "numeric", "%", 95.0, 105.0, decimals=1)


@pytest.mark.parametrize(
    ("value", "unit", "outcome", "compared"),
    [
        (95.0, "%", "pass", 95.0),  # a limit conforms
        (94.95, "%", "pass", 95.0),  # rounds half up to 95.0
        (94.94, "%", "fail", 94.9),
        (105.04, "%", "pass", 105.0),
        (105.05, "%", "fail", 105.1),
        (999.0, "mg/g", "pass", 99.9),  # converted to % before rounding
    ],
)
def test_numeric_results_are_rounded_in_the_criterion_unit_before_comparison(
    value: float, unit: str, outcome: str, compared: float
) -> None:
    verdict = judge(ASSAY, value=value, text_value=None, unit=unit)
    assert (verdict.outcome.value, verdict.compared_value) == (outcome, compared)


@pytest.mark.parametrize(
    ("unit", "note"),
    [
        ("kg", "'kg' can't be converted to '%': a different kind of quantity"),
        ("", "the result has no unit; the criterion is in %"),
        ("xyzzy", "unknown unit 'xyzzy'"),
    ],
)
def test_a_unit_that_cant_be_compared_is_not_evaluated_never_passed(unit: str, note: str) -> None:
    verdict = judge(ASSAY, value=99.0, text_value=None, unit=unit)
    assert (verdict.outcome.value, verdict.compared_value, verdict.note) == (
        "not_evaluated",
        None,
        note,
    )


def test_list_criteria_compare_ignoring_case_and_spaces() -> None:
    appearance = Criterion("APP", "list", allowed_values=("white tablet", "off-white tablet"))
    assert judge(appearance, value=None, text_value=" White Tablet ", unit="").outcome == "pass"
    assert judge(appearance, value=None, text_value="grey tablet", unit="").outcome == "fail"
    assert judge(appearance, value=3.0, text_value=None, unit="").outcome == "not_evaluated"


def test_criteria_that_cant_be_approved_say_why() -> None:
    assert criterion_problems(Criterion("X", "numeric", "%")) == [
        "X: a numeric criterion needs a lower or an upper limit"
    ]
    assert criterion_problems(Criterion("X", "numeric", "%", 10.0, 5.0)) == [
        "X: the lower limit 10 is above the upper 5"
    ]
    assert criterion_problems(Criterion("X", "list", trend_rule="run")) == [
        "X: a list criterion needs at least one allowed answer",
        "X: trends are followed on numeric results only",
    ]


# --- out of trend ---------------------------------------------------------------------------

STEADY = [99.8, 100.1, 100.0, 99.9, 100.2, 100.0, 99.7, 100.1, 100.0, 99.9]  # mean 99.97


def test_mean_ks_flags_a_value_outside_three_sigma_of_the_previous_batches() -> None:
    # s of STEADY = 0.1494; mean ± 3 s = 99.52 … 100.42
    assert outside_mean_ks(STEADY, 100.4, window=10, k=3.0) is None
    finding = outside_mean_ks(STEADY, 100.5, window=10, k=3.0)
    assert finding == (
        "100.5 lies outside mean ± 3·s of the previous 10 batches "
        "(99.52 to 100.4; mean 99.97, s 0.149)"
    )
    assert outside_mean_ks(STEADY, 99.5, window=10, k=3.0) is not None


def test_mean_ks_uses_only_the_last_n_batches_and_needs_six() -> None:
    drifted = [90.0] * 20 + STEADY  # an old level outside the window changes nothing
    assert outside_mean_ks(drifted, 100.4, window=10, k=3.0) is None
    assert outside_mean_ks(STEADY[:5], 120.0, window=10, k=3.0) is None  # five: not judged
    assert outside_mean_ks(STEADY[:6], 120.0, window=10, k=3.0) is not None


def test_a_history_without_spread_flags_any_other_value() -> None:
    assert outside_mean_ks([100.0] * 8, 100.0, window=10, k=3.0) is None
    assert outside_mean_ks([100.0] * 8, 100.1, window=10, k=3.0) is not None


def test_a_run_of_six_rising_or_falling_batches_is_out_of_trend() -> None:
    rising = [99.0, 99.2, 99.3, 99.5, 99.6]
    assert completes_run(rising, 99.8, length=6) == (
        "99.8 ends a run of 6 batches each higher than the one before"
    )
    assert completes_run([101.0, 100.8, 100.5, 100.4, 100.1], 100.0, length=6) == (
        "100 ends a run of 6 batches each lower than the one before"
    )
    assert completes_run(rising, 99.6, length=6) is None  # an equal value breaks the run
    assert completes_run(rising[1:], 99.8, length=6) is None  # only five in the run
    assert completes_run([98.0, *rising], 99.8, length=7) is not None


def test_the_rule_of_a_criterion_decides_which_findings_count() -> None:
    rising = [99.0, 99.2, 99.3, 99.5, 99.6, 99.7]
    both = Criterion("A", "numeric", "%", 95.0, 105.0, trend_rule="both")
    none = Criterion("A", "numeric", "%", 95.0, 105.0, trend_rule="none")
    run_only = Criterion("A", "numeric", "%", 95.0, 105.0, trend_rule="run")
    assert len(trend_findings(both, rising, 100.5)) == 2
    assert trend_findings(none, rising, 100.5) == []
    assert trend_findings(run_only, rising, 100.5) == [
        "100.5 ends a run of 6 batches each higher than the one before"
    ]
