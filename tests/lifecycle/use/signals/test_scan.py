"""The whole scan: its columns and nulls, the signal rules, the methods and thresholds
chosen, and its PRR/ROR/EBGM against vigipy where the two counting conventions coincide."""

import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
import vigipy

from pharmaqms.lifecycle.use.signals import (
    GammaMixturePrior,
    Method,
    SignalInputError,
    Thresholds,
    parse_methods,
    scan,
    score_table,
)
from pharmaqms.lifecycle.use.signals.disproportionality import chi_square

PRIOR = GammaMixturePrior(3.25280367, 0.39983376, 2.02490400, 1.90726819, 0.06536416)


def one_pair_per_report(counts: dict[tuple[str, str], int]) -> pl.DataFrame:
    """Reports naming one drug and one event each: then reports and drug–event rows are the
    same unit, and vigipy's tables equal ours."""
    drugs, events = [], []
    for (drug, event), count in counts.items():
        drugs += [drug] * count
        events += [event] * count
    return pl.DataFrame({"report_id": list(range(len(drugs))), "drug": drugs, "event": events})


COUNTS = {
    ("A", "X"): 15, ("A", "Y"): 3, ("A", "Z"): 1, ("B", "X"): 4, ("B", "Z"): 7,
    ("C", "Y"): 2, ("C", "Z"): 9, ("D", "X"): 1, ("D", "Y"): 30, ("E", "Z"): 40,
}  # fmt: skip


def vigipy_result(method, **options) -> pd.DataFrame:
    frame = pd.DataFrame([{"name": d, "AE": e, "count": n} for (d, e), n in COUNTS.items()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = method(
            vigipy.convert(frame), min_events=1, decision_metric="signals", decision_thres=0,
            **options,
        )  # fmt: skip
    return result.all_signals.sort_values(["Product", "Adverse Event"]).reset_index(drop=True)


def test_prr_ror_and_ebgm_equal_vigipy_on_the_same_table() -> None:
    ours = scan(one_pair_per_report(COUNTS), prior=PRIOR).pairs.sort("drug", "event")
    prr = vigipy_result(vigipy.prr, continuity_correction=False)
    ror = vigipy_result(vigipy.ror, continuity_correction=False)
    gps = vigipy_result(vigipy.gps, prior_param=list(PRIOR.as_tuple()))
    assert ours["drug"].to_list() == prr["Product"].tolist()
    assert ours["event"].to_list() == prr["Adverse Event"].tolist()
    assert ours["E"].to_numpy() == pytest.approx(prr["Expected Count"].to_numpy(), rel=1e-12)
    # vigipy replaces an empty cell by 1e-8 when uncorrected: E–Z has b = 0, so vigipy's ROR
    # there is a finite 1e10-sized number where ours is undefined (null). Compare the rest.
    full = (ours["b"] > 0).to_numpy()
    assert full.tolist() == [True] * 9 + [False]
    assert ror["ROR"].iloc[9] > 1e9 and ours["ROR"][9] is None
    for column, theirs in (("PRR", "PRR"), ("PRR_lo95", "CI Lower"), ("PRR_hi95", "CI Upper")):
        assert ours[column].to_numpy()[full] == pytest.approx(
            prr[theirs].to_numpy()[full], rel=1e-9
        )
    for column, theirs in (("ROR", "ROR"), ("ROR_lo95", "CI Lower"), ("ROR_hi95", "CI Upper")):
        assert ours[column].to_numpy()[full] == pytest.approx(
            ror[theirs].to_numpy()[full], rel=1e-9
        )
    assert ours["EBGM"].to_numpy() == pytest.approx(gps["EBGM"].to_numpy(), rel=1e-7)
    assert ours["EB05"].to_numpy() == pytest.approx(gps["LowerBound"].to_numpy(), rel=1e-4)


def test_columns_nulls_and_signals() -> None:
    result = scan(one_pair_per_report(COUNTS), prior=PRIOR)
    pairs = result.pairs
    assert pairs.columns == [
        "drug", "event", "a", "b", "c", "d", "N", "E", "PRR", "PRR_lo95", "PRR_hi95", "chi2",
        "ROR", "ROR_lo95", "ROR_hi95", "IC", "IC025", "EBGM", "EB05", "EB95",
        "signal_prr", "signal_ror", "signal_ic", "signal_ebgm",
    ]  # fmt: skip
    assert result.reports == 112
    assert result.prior == PRIOR and result.prior_fit is None
    # E–Z: every report of E names Z, so b = 0 and the ROR is undefined: null, not inf.
    e_z = pairs.filter(pl.col("drug") == "E").row(0, named=True)
    assert (e_z["a"], e_z["b"], e_z["c"], e_z["d"]) == (40, 0, 17, 55)
    assert (e_z["ROR"], e_z["ROR_lo95"], e_z["ROR_hi95"]) == (None, None, None)
    assert e_z["signal_ror"] is False
    floats = pairs.select(pl.col(pl.Float64))
    assert floats.select(pl.all().is_nan().any()).row(0) == (False,) * floats.width
    # The Evans rule by hand for each pair.
    for row in pairs.iter_rows(named=True):
        evans = row["PRR"] >= 2 and row["chi2"] >= 4 and row["a"] >= 3
        assert row["signal_prr"] is evans
        assert row["signal_ic"] is (row["IC025"] > 0)
        assert row["signal_ebgm"] is (row["EB05"] >= 2)


def test_methods_min_count_and_thresholds() -> None:
    rows = one_pair_per_report(COUNTS)
    result = scan(
        rows, methods=[Method.IC, Method.PRR], min_count=4, thresholds=Thresholds(prr_min=5.0)
    )
    assert result.methods == (Method.PRR, Method.IC)
    assert result.prior is None
    assert "EBGM" not in result.pairs.columns and "ROR" not in result.pairs.columns
    assert result.pairs["a"].min() == 4
    assert sorted(result.pairs.filter("signal_prr")["drug"].to_list()) == ["A", "D"]
    evans = scan(rows, methods=[Method.PRR], min_count=4)
    assert sorted(evans.pairs.filter("signal_prr")["drug"].to_list()) == ["A", "D", "E"]
    # B–X (PRR 2.3, χ² 2.8) and C–Z (PRR 1.7, χ² 4.7) pass looser thresholds.
    looser = scan(rows, methods=[Method.PRR], thresholds=Thresholds(prr_min=1.5, chi2_min=2.5))
    assert sorted(looser.pairs.filter("signal_prr")["drug"].to_list()) == ["A", "B", "C", "D", "E"]


def test_yates_chi_square_on_request() -> None:
    # C–Z: PRR 1.7 and Pearson's χ² 4.7; with a χ² threshold between the Yates-corrected
    # and the plain value, the pair is flagged only when the rule reads the plain one.
    rows = one_pair_per_report(COUNTS)
    pair = scan(rows, methods=[Method.PRR]).pairs.filter(drug="C", event="Z").row(0, named=True)
    yates = float(chi_square(pair["a"], pair["b"], pair["c"], pair["d"], yates=True))
    between = (yates + pair["chi2"]) / 2
    assert yates < between < pair["chi2"]
    flags = []
    for corrected in (False, True):
        limits = Thresholds(prr_min=1.5, chi2_min=between, chi2_yates=corrected)
        scored = scan(rows, methods=[Method.PRR], thresholds=limits).pairs
        flags += scored.filter(drug="C", event="Z")["signal_prr"].to_list()
    assert flags == [True, False]


def test_fitted_prior_and_stratified_scan() -> None:
    rng = np.random.default_rng(5)
    reports = 3_000
    rows = pl.DataFrame(
        {
            "report_id": np.repeat(np.arange(reports), 2),
            "drug": [f"D{i}" for i in rng.integers(0, 40, 2 * reports)],
            "event": [f"E{i}" for i in rng.integers(0, 30, 2 * reports)],
            "sex": np.repeat(rng.choice(["F", "M"], reports), 2),
        }
    )
    result = scan(rows, stratify_by=["sex"])
    assert result.prior_fit is not None and result.prior == result.prior_fit.prior
    assert result.stratified_by == ("sex",)
    assert result.pairs.columns.index("E_stratified") == result.pairs.columns.index("E") + 1
    assert result.pairs["E_stratified"].sum() == pytest.approx(result.pairs["E"].sum(), rel=0.05)


def test_parse_methods() -> None:
    assert parse_methods("ebgm, PRR") == (Method.PRR, Method.EBGM)
    with pytest.raises(SignalInputError, match="unknown method foo"):
        parse_methods("prr,foo")
    with pytest.raises(SignalInputError, match="no method chosen"):
        parse_methods(" , ")


def test_score_table_figures_and_refusals() -> None:
    figures = score_table(12, 88, 50, 9850, prior=PRIOR)
    assert list(figures) == [
        "a", "b", "c", "d", "N", "PRR", "PRR_lo95", "PRR_hi95", "chi2", "ROR", "ROR_lo95",
        "ROR_hi95", "E", "IC", "IC025", "EBGM", "EB05", "EB95",
    ]  # fmt: skip
    assert figures["E"] == pytest.approx(0.62)
    assert figures["IC"] == pytest.approx(math.log2(12.5 / 1.12))
    with pytest.raises(SignalInputError, match="cannot be negative"):
        score_table(-1, 2, 3, 4)
    with pytest.raises(SignalInputError, match="the table is empty"):
        score_table(0, 0, 0, 0)
