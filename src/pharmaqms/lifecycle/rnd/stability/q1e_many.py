"""ICH Q1E shelf lives of many attribute sets at once: the same evaluation as
``q1e.estimate_shelf_life``, vectorised across sets with NumPy.

Sets whose batches and time points are the same (the *layout*: batch names and each batch's
time points, in order) share every design matrix, so each model's least-squares fit of all of
them is one product with the design's pseudo-inverse (a column per set); (XᵀX)⁻¹, the degrees
of freedom and the t quantile are computed once per layout. The ANCOVA F-tests, the choice of
model, the confidence bounds and their crossings with the limits (the closed-form quadratic of
``q1e.first_crossing``, here on arrays) are array operations. Only reading the observations
(``q1e.check_request``, per set) and building the result objects loop in Python.

The answers equal the per-set function's (tested on random sets to 1e-9): the same formulas in
the same order. A set the per-set function would refuse gets its ``ShelfLifeRefused`` in its
place in the answer instead of stopping the others."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from pharmaqms.lifecycle.rnd.stability.q1e import (
    CONFIDENCE,
    POOLING_ALPHA,
    TANGENT,
    Array,
    BatchFit,
    Observation,
    Pooling,
    ShelfLife,
    ShelfLifeRefused,
    _t_quantile,
    check_request,
    extrapolation_limit,
)

Layout = tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class _Fits:
    """One design's fit of every set: coefficients (p × S), (XᵀX)⁻¹, residual SD, SSE (S)."""

    beta: Array
    cov_unscaled: Array
    s: Array
    df: int
    sse: Array


def _fit_all(design: Array, y: Array) -> _Fits:
    # One pseudo-inverse of the small design serves every set: a product, not a solve per
    # set (LAPACK's least squares with a thousand right-hand sides was the slow part).
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ShelfLifeRefused("the time points do not support a regression (all equal?)")
    beta = np.linalg.pinv(design) @ y
    residual = y - design @ beta
    sse = np.einsum("ij,ij->j", residual, residual)
    df = design.shape[0] - design.shape[1]
    unscaled = np.asarray(np.linalg.inv(design.T @ design), dtype=np.float64)
    return _Fits(beta, unscaled, np.sqrt(sse / df), df, sse)


def _p_values(
    sse_reduced: Array, sse_larger: Array, df_num: int, full: _Fits, total_ss: Array
) -> Array:
    """``q1e._p_value`` on arrays (the same thresholds for exact fits)."""
    tiny = 1e-12 * np.maximum(total_ss, 1e-300)
    extra = sse_reduced - sse_larger
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (extra / df_num) / (full.sse / full.df)
        p = special.fdtrc(df_num, full.df, f)
    return np.where(extra <= tiny, 1.0, np.where(full.sse <= tiny, 0.0, p))


def first_crossings(d: Array, b: Array, k: Array, qa: float, qb: float, qc: float) -> Array:
    """``q1e.first_crossing`` on arrays: the earliest t ≥ 0 where d + b·t − k·sqrt(qa + 2·qb·t
    + qc·t²) ≤ 0, NaN where the bound never meets the limit."""
    width0 = k * math.sqrt(max(qa, 0.0))
    a2 = b * b - k * k * qc
    a1 = 2.0 * (d * b - k * k * qb)
    a0 = d * d - k * k * qa
    scale = np.maximum(np.maximum(np.abs(a2), np.abs(a1)), np.maximum(np.abs(a0), 1e-300))
    linear = np.abs(a2) <= 1e-12 * scale
    nan = np.full_like(d, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        disc = a1 * a1 - 4.0 * a2 * a0
        disc = np.where(np.abs(disc) <= TANGENT * (a1 * a1 + np.abs(4.0 * a2 * a0)), 0.0, disc)
        root = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
        q = -0.5 * (a1 + np.copysign(root, a1))
        r1 = np.where(linear, np.where(a1 != 0.0, -a0 / a1, nan), np.where(q != 0.0, q / a2, nan))
        r2 = np.where(
            linear, nan, np.where(q != 0.0, a0 / q, -a1 / (2.0 * a2))
        )  # q == 0: the double root
        floor = -1e-9 * np.maximum(np.abs(d), 1.0)
        found = nan
        for r in (r1, r2):
            ok = (r > 0.0) & (d + b * r >= floor)
            found = np.where(ok & ~(found <= r), r, found)
    return np.where(d - width0 <= 0.0, 0.0, found)


def _crossing(
    fits: _Fits,
    intercept: Array,
    slope: Array,
    ix: int,
    jx: int,
    quantile: float,
    lower: float | None,
    upper: float | None,
) -> Array:
    kk = _t_quantile(quantile, fits.df) * fits.s
    v = fits.cov_unscaled
    qa, qb, qc = float(v[ix, ix]), float(v[ix, jx]), float(v[jx, jx])
    found = np.full_like(intercept, np.nan)
    for limit, d, b in (
        (lower, intercept - (lower or 0.0), slope),
        (upper, (upper or 0.0) - intercept, -slope),
    ):
        if limit is not None:
            when = first_crossings(d, b, kk, qa, qb, qc)
            found = np.fmin(found, when)  # fmin: NaN (never) loses to a crossing
    return found


def _layout_of(grouped: dict[str, list[Observation]]) -> Layout:
    return tuple((name, tuple(o.months for o in rows)) for name, rows in grouped.items())


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _evaluate(
    layout: Layout,
    y: Array,
    lower: float | None,
    upper: float | None,
    confidence: float,
) -> list[ShelfLife]:
    """Every set of one layout: ``y`` is (observations × sets)."""
    names = [name for name, _ in layout]
    sizes = [len(months) for _, months in layout]
    k = len(names)
    t = np.array([m for _, months in layout for m in months], dtype=np.float64)
    index = np.repeat(np.arange(k), sizes)
    dummies = np.eye(k)[index]
    n_sets = y.shape[1]

    pooled = _fit_all(np.column_stack([np.ones_like(t), t]), y)
    pooling = np.full(n_sets, 0)  # 0 pooled, 1 common slope, 2 separate
    p_slopes = p_intercepts = np.full(n_sets, np.nan)
    if k > 1:
        common = _fit_all(np.column_stack([dummies, t]), y)
        full = _fit_all(np.column_stack([dummies, dummies * t[:, None]]), y)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        p_slopes = _p_values(common.sse, full.sse, k - 1, full, total)
        slopes_equal = p_slopes >= POOLING_ALPHA
        p_intercepts = np.where(
            slopes_equal, _p_values(pooled.sse, common.sse, k - 1, full, total), np.nan
        )
        pooling = np.where(slopes_equal, np.where(p_intercepts >= POOLING_ALPHA, 0, 1), 2)

    two_sided = lower is not None and upper is not None
    quantile = (1.0 + confidence) / 2.0 if two_sided else confidence
    sided = "two-sided" if two_sided else ("lower" if lower is not None else "upper")

    # Every model's lines and crossings for every set; each set then takes its own model's.
    a_p, b_p = pooled.beta[0], pooled.beta[1]
    when_p = _crossing(pooled, a_p, b_p, 0, 1, quantile, lower, upper)
    slope = np.tile(b_p, (k, 1))
    intercept = np.tile(a_p, (k, 1))
    when = np.tile(when_p, (k, 1))
    sd = pooled.s.copy()
    df = np.full(n_sets, pooled.df)
    if k > 1:
        b_c = common.beta[k]
        own_start = np.concatenate([[0], np.cumsum(sizes)])
        for i in range(k):
            c = pooling == 1
            a_c = common.beta[i]
            w_c = _crossing(common, a_c, b_c, i, k, quantile, lower, upper)
            rows = slice(int(own_start[i]), int(own_start[i + 1]))
            tb = t[rows]
            own = _fit_all(np.column_stack([np.ones_like(tb), tb]), y[rows])
            a_s, b_s = own.beta[0], own.beta[1]
            w_s = _crossing(own, a_s, b_s, 0, 1, quantile, lower, upper)
            s = pooling == 2
            slope[i] = np.where(c, b_c, np.where(s, b_s, slope[i]))
            intercept[i] = np.where(c, a_c, np.where(s, a_s, intercept[i]))
            when[i] = np.where(c, w_c, np.where(s, w_s, when[i]))
        sd = np.where(pooling == 1, common.s, np.where(pooling == 2, full.s, sd))
        df = np.where(pooling == 1, common.df, np.where(pooling == 2, full.df, df))

    span = float(t.max())
    cap = extrapolation_limit(span)
    any_found = ~np.all(np.isnan(when), axis=0)
    first = np.argmin(np.where(np.isnan(when), np.inf, when), axis=0)  # first batch on ties
    estimate = np.where(any_found, when[first, np.arange(n_sets)], np.nan)
    found: list[ShelfLife] = []
    for j in range(n_sets):
        model = (Pooling.POOLED, Pooling.COMMON_SLOPE, Pooling.SEPARATE)[int(pooling[j])]
        est = _num(float(estimate[j]))
        limiting = names[int(first[j])] if est is not None else None
        if model is Pooling.POOLED and k > 1:
            limiting = None
        proposal = cap if est is None else min(est, cap)
        found.append(
            ShelfLife(
                pooling=model,
                p_slopes=_num(float(p_slopes[j])) if k > 1 else None,
                p_intercepts=_num(float(p_intercepts[j])) if k > 1 else None,
                estimated_months=est,
                limiting_batch=limiting,
                long_term_months=span,
                extrapolation_limit_months=cap,
                shelf_life_months=math.floor(proposal + 1e-9),
                lower=lower,
                upper=upper,
                sided=sided,
                residual_sd=float(sd[j]),
                df=int(df[j]),
                batches={
                    name: BatchFit(
                        name,
                        float(slope[i, j]),
                        float(intercept[i, j]),
                        sizes[i],
                        _num(float(when[i, j])),
                    )
                    for i, name in enumerate(names)
                },
            )
        )
    return found


def estimate_shelf_lives(
    sets: Sequence[Sequence[Observation]],
    *,
    lower: float | None = None,
    upper: float | None = None,
    confidence: float = CONFIDENCE,
) -> list[ShelfLife | ShelfLifeRefused]:
    """``estimate_shelf_life`` of every set, in order; a refused set gets its refusal."""
    answers: list[ShelfLife | ShelfLifeRefused | None] = [None] * len(sets)
    layouts: dict[Layout, list[tuple[int, list[float]]]] = {}
    for position, observations in enumerate(sets):
        try:
            grouped = check_request(observations, lower, upper)
        except ShelfLifeRefused as refused:
            answers[position] = refused
            continue
        values = [o.value for rows in grouped.values() for o in rows]
        layouts.setdefault(_layout_of(grouped), []).append((position, values))
    for layout, members in layouts.items():
        y = np.array([values for _, values in members], dtype=np.float64).T
        try:
            results: list[ShelfLife | ShelfLifeRefused] = list(
                _evaluate(layout, y, lower, upper, confidence)
            )
        except ShelfLifeRefused as refused:
            results = [refused] * len(members)
        for (position, _), result in zip(members, results, strict=True):
            answers[position] = result
    assert all(a is not None for a in answers)  # every set was either refused or evaluated
    return [a for a in answers if a is not None]
