"""The whole disproportionality scan: every drug–event pair of a case base scored by the
chosen methods at once, with each method's signal rule applied.

Signal rules (each threshold is a field of :class:`Thresholds`):

- PRR (Evans, Waller & Davis 2001; EMA EudraVigilance guideline): PRR ≥ 2, χ² ≥ 4 and a ≥ 3.
  χ² is Pearson's without continuity correction, as the analysts' contract prints it; set
  ``chi2_yates`` to apply Evans' Yates-corrected χ² instead.
- ROR: the lower 95 % bound above 1, and a ≥ 3.
- IC (BCPNN, Norén et al. 2013): IC025 > 0.
- EBGM (MGPS, DuMouchel 1999): EB05 ≥ 2.

PRR, ROR and χ² read the crude 2×2 table. When the scan is stratified, IC and EBGM use the
stratified expected count ``E_stratified`` (Mantel–Haenszel style, see :mod:`.counts`), as
MGPS does; ``E`` stays the crude (a+b)(a+c)/N of the table shown beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Final

import numpy as np
import polars as pl

from pharmaqms.lifecycle.use.signals import disproportionality as dp
from pharmaqms.lifecycle.use.signals import mgps
from pharmaqms.lifecycle.use.signals.counts import DRUG, EVENT, PairCounts, count_pairs
from pharmaqms.lifecycle.use.signals.errors import SignalInputError


class Method(StrEnum):
    PRR = "prr"
    ROR = "ror"
    IC = "ic"
    EBGM = "ebgm"


ALL_METHODS: Final = (Method.PRR, Method.ROR, Method.IC, Method.EBGM)

# The figures of each method, in the order the contract lists them.
FIGURES: Final = {
    Method.PRR: ("PRR", "PRR_lo95", "PRR_hi95", "chi2"),
    Method.ROR: ("ROR", "ROR_lo95", "ROR_hi95"),
    Method.IC: ("IC", "IC025"),
    Method.EBGM: ("EBGM", "EB05", "EB95"),
}
TABLE: Final = ("a", "b", "c", "d", "N", "E")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When each method calls a pair a signal."""

    prr_min: float = 2.0
    chi2_min: float = 4.0
    prr_min_count: int = 3
    chi2_yates: bool = False
    ror_lower_min: float = 1.0  # ROR_lo95 must exceed it
    ror_min_count: int = 3
    ic025_min: float = 0.0  # IC025 must exceed it
    eb05_min: float = 2.0  # EB05 must reach it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The scored pairs and what they were scored with.

    ``pairs`` has one row per drug–event pair with a ≥ the scan's minimum count: ``drug``,
    ``event``, the table ``a b c d N`` (Int64) and ``E`` (Float64), ``E_stratified`` when
    stratified, the figures of each method asked (Float64, null where undefined) and one
    Boolean ``signal_<method>`` per method."""

    pairs: pl.DataFrame
    reports: int
    methods: tuple[Method, ...]
    stratified_by: tuple[str, ...]
    thresholds: Thresholds
    prior: mgps.GammaMixturePrior | None = None
    prior_fit: mgps.PriorFit | None = field(default=None)


def parse_methods(text: str) -> tuple[Method, ...]:
    """``"prr,ror,ic,ebgm"`` (any order, any subset) as methods in the contract's order."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(names - {m.value for m in Method})
    if unknown or not names:
        raise SignalInputError(
            f"unknown method {', '.join(unknown)}: choose from prr, ror, ic, ebgm"
            if unknown
            else "no method chosen: choose from prr, ror, ic, ebgm"
        )
    return tuple(m for m in ALL_METHODS if m.value in names)


def _column(values: np.ndarray, name: str) -> pl.Series:
    """A Float64 column with null wherever the figure is undefined (NaN or ±inf)."""
    series = pl.Series(name, values, dtype=pl.Float64)
    return series.set(~series.is_finite(), None)


def _posterior(
    prior: mgps.GammaMixturePrior, n: np.ndarray, expected: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EBGM, EB05, EB95, computed once per distinct (n, E): pairs of rare drugs and rare
    events repeat the same margins, so this halves the work on report data."""
    keys = pl.DataFrame({"n": n, "E": expected})
    distinct = keys.unique(maintain_order=False)
    dn, de = distinct["n"].to_numpy(), distinct["E"].to_numpy()
    low, high = mgps.posterior_interval(prior, dn, de)
    scored = distinct.with_columns(
        pl.Series("EBGM", mgps.ebgm(prior, dn, de)),
        pl.Series("EB05", low),
        pl.Series("EB95", high),
    )
    back = keys.join(scored, on=["n", "E"], how="left", maintain_order="left")
    return back["EBGM"].to_numpy(), back["EB05"].to_numpy(), back["EB95"].to_numpy()


def score_counts(
    counts: PairCounts,
    *,
    methods: Sequence[Method] = ALL_METHODS,
    min_count: int = 1,
    thresholds: Thresholds | None = None,
    prior: mgps.GammaMixturePrior | None = None,
) -> ScanResult:
    """Score counted pairs. MGPS fits its prior on every pair (a ≥ 1) unless ``prior`` is
    given; ``min_count`` only trims the pairs returned."""
    limits = thresholds or Thresholds()
    chosen = tuple(m for m in ALL_METHODS if m in set(methods))
    if not chosen:
        raise SignalInputError("no method chosen: choose from prr, ror, ic, ebgm")
    if min_count < 1:
        raise SignalInputError("the minimum count is at least 1")
    pairs = counts.pairs
    a = pairs["a"].to_numpy().astype(np.float64)
    a_, b, c, d = dp.cells_from_margins(
        a, pairs["n_drug"].to_numpy(), pairs["n_event"].to_numpy(), counts.reports
    )
    crude = dp.expected_count(a_, b, c, d)
    stratified = "E_stratified" in pairs.columns
    expected = pairs["E_stratified"].to_numpy() if stratified else crude

    columns: list[pl.Series] = [
        pl.Series("b", b, dtype=pl.Int64),
        pl.Series("c", c, dtype=pl.Int64),
        pl.Series("d", d, dtype=pl.Int64),
        pl.Series("N", np.full(a.size, counts.reports), dtype=pl.Int64),
        pl.Series("E", crude),
    ]
    signals: list[pl.Series] = []
    fit: mgps.PriorFit | None = None
    if Method.PRR in chosen:
        prr = dp.proportional_reporting_ratio(a, b, c, d)
        chi2 = dp.chi_square(a, b, c, d)
        rule_chi2 = dp.chi_square(a, b, c, d, yates=True) if limits.chi2_yates else chi2
        columns += [
            _column(prr.estimate, "PRR"),
            _column(prr.lower, "PRR_lo95"),
            _column(prr.upper, "PRR_hi95"),
            _column(chi2, "chi2"),
        ]
        flagged = (
            (prr.estimate >= limits.prr_min)
            & (rule_chi2 >= limits.chi2_min)
            & (a >= limits.prr_min_count)
        )
        signals.append(pl.Series("signal_prr", flagged & np.isfinite(prr.estimate)))
    if Method.ROR in chosen:
        ror = dp.reporting_odds_ratio(a, b, c, d)
        columns += [
            _column(ror.estimate, "ROR"),
            _column(ror.lower, "ROR_lo95"),
            _column(ror.upper, "ROR_hi95"),
        ]
        flagged = (ror.lower > limits.ror_lower_min) & (a >= limits.ror_min_count)
        signals.append(pl.Series("signal_ror", flagged))
    if Method.IC in chosen:
        ic = dp.information_component(a, expected)
        columns += [_column(ic.estimate, "IC"), _column(ic.lower, "IC025")]
        signals.append(pl.Series("signal_ic", ic.lower > limits.ic025_min))
    if Method.EBGM in chosen:
        if prior is None:
            fit = mgps.fit_prior(a, expected)
            prior = fit.prior
        gm, low, high = _posterior(prior, a, expected)
        columns += [_column(gm, "EBGM"), _column(low, "EB05"), _column(high, "EB95")]
        signals.append(pl.Series("signal_ebgm", low >= limits.eb05_min))
    table = [DRUG, EVENT, "a", "b", "c", "d", "N", "E", *(["E_stratified"] if stratified else [])]
    scored = (
        pairs.select(DRUG, EVENT, "a", *(["E_stratified"] if stratified else []))
        .with_columns(columns + signals)
        .select(*table, *[s.name for s in columns[5:]], *[s.name for s in signals])
    )
    if min_count > 1:
        scored = scored.filter(pl.col("a") >= min_count)
    return ScanResult(
        pairs=scored,
        reports=counts.reports,
        methods=chosen,
        stratified_by=counts.stratified_by,
        thresholds=limits,
        prior=prior if Method.EBGM in chosen else None,
        prior_fit=fit,
    )


def scan(
    rows: pl.DataFrame | pl.LazyFrame,
    *,
    methods: Sequence[Method] = ALL_METHODS,
    min_count: int = 1,
    stratify_by: Sequence[str] = (),
    thresholds: Thresholds | None = None,
    prior: mgps.GammaMixturePrior | None = None,
) -> ScanResult:
    """Count and score every drug–event pair of report–drug–event ``rows`` (columns
    ``report_id``, ``drug``, ``event``, and ``age``/``sex``/``year`` to stratify by)."""
    return score_counts(
        count_pairs(rows, stratify_by=stratify_by),
        methods=methods,
        min_count=min_count,
        thresholds=thresholds,
        prior=prior,
    )


def score_table(
    a: int, b: int, c: int, d: int, *, prior: mgps.GammaMixturePrior | None = None
) -> dict[str, float | int | None]:
    """The contract's figures for one table: PRR, PRR_lo95, PRR_hi95, chi2, ROR, ROR_lo95,
    ROR_hi95, E, IC, IC025 and, with a prior, EBGM, EB05, EB95 (None where undefined)."""
    cells = [a, b, c, d]
    if any(v < 0 for v in cells):
        raise SignalInputError("a count cannot be negative")
    if sum(cells) == 0:
        raise SignalInputError("the table is empty: N = a + b + c + d must be above 0")
    prr = dp.proportional_reporting_ratio(a, b, c, d)
    ror = dp.reporting_odds_ratio(a, b, c, d)
    expected = dp.expected_count(a, b, c, d)
    ic = dp.information_component(a, expected)
    figures: dict[str, float | int | None] = {
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "N": a + b + c + d,
        "PRR": dp.as_optional(prr.estimate),
        "PRR_lo95": dp.as_optional(prr.lower),
        "PRR_hi95": dp.as_optional(prr.upper),
        "chi2": dp.as_optional(dp.chi_square(a, b, c, d)),
        "ROR": dp.as_optional(ror.estimate),
        "ROR_lo95": dp.as_optional(ror.lower),
        "ROR_hi95": dp.as_optional(ror.upper),
        "E": dp.as_optional(expected),
        "IC": dp.as_optional(ic.estimate),
        "IC025": dp.as_optional(ic.lower),
    }
    if prior is not None:
        figures["EBGM"] = dp.as_optional(mgps.ebgm(prior, a, expected))
        figures["EB05"] = dp.as_optional(mgps.posterior_quantile(prior, a, expected, 0.05))
        figures["EB95"] = dp.as_optional(mgps.posterior_quantile(prior, a, expected, 0.95))
    return figures
