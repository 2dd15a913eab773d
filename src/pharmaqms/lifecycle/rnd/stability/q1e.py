"""ICH Q1E shelf-life estimation and out-of-trend detection: pure NumPy/SciPy, no database.

The method (ICH Q1E, section 2.4 and Appendix B):

1. Per batch, the attribute is regressed linearly on time (months).
2. Poolability across batches by ANCOVA at the 0.25 significance level. Sequential F-tests on
   ``y ~ t + batch + batch:t``, each against the residual mean square of the full model
   (separate slopes and intercepts) — the same F-tests as statsmodels' type I ``anova_lm``:
   first equality of slopes (the ``batch:t`` term); if its p ≥ 0.25, equality of intercepts
   given a common slope (the ``batch`` term). Both ≥ 0.25 → one pooled line (``pooled``);
   only the slopes → common slope with one intercept per batch (``common_slope``); else each
   batch on its own (``separate``). With one batch there is nothing to test: ``pooled``.
3. The shelf-life estimate is the earliest time at which the 95 % confidence bound of the
   *mean* (not the prediction interval) meets the acceptance criterion: the one-sided lower
   bound against a lower limit (an assay that falls), the one-sided upper bound against an upper
   limit (a degradant that rises); with both limits the attribute may move either way and Q1E
   asks for the two-sided 95 % limits (97.5 % on each side) against both. Under
   ``common_slope`` and ``separate`` every batch gets its own bound and the batch whose bound
   meets its limit first governs (the ``limiting_batch``).
4. Extrapolation. Q1E §2.4.1 (no significant change at accelerated) and the Appendix A
   decision tree (room-temperature storage, long-term data amenable to statistical
   analysis): the proposed shelf life may be up to
   twice the period covered by long-term data, but not more than 12 months beyond it. The rule
   implemented here: ``proposal = min(estimate, 2·X, X + 12)`` with X the last long-term time
   point, rounded down to whole months. The stricter Q1E cases (significant change at
   accelerated, refrigerated or frozen products: 1.5·X and X + 6, or none) are a
   decision of the stability scientist and are not applied automatically; the estimate and
   the extrapolation limit are reported separately so that the decision can be made on both.

The bound of a fit ŷ = Xβ at a point x is ŷ ± t(q, df)·s·sqrt(xᵀ(XᵀX)⁻¹x), with df and s those
of the model used. Where that bound meets a limit is found in closed form: the bound minus the
limit is g(t) − k·sqrt(Q(t)) with g linear and Q quadratic, so the crossings are the roots of a
quadratic — exact, and fast enough for a thousand sets a second and more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy import special

POOLING_ALPHA = 0.25
CONFIDENCE = 0.95
MIN_TIME_POINTS = 3
# Q1E Appendix A: up to twice the long-term span, and not more than 12 months beyond it.
EXTRAPOLATION_FACTOR = 2.0
EXTRAPOLATION_MONTHS = 12.0
# Out-of-trend: a result outside the 99 % prediction interval of its batch's regression on the
# earlier time points (the "regression control chart" of the PhRMA CMC statistics group,
# Pharm. Technol. 2003). 99 % rather than 95 %: a study of 3 batches × 8 time points × 5
# attributes would otherwise raise about six false alarms.
OOT_LEVEL = 0.99
OOT_MIN_POINTS = 3
# A discriminant this small against its terms is zero: the crossing is a tangent.
TANGENT = 1e-12

Array = NDArray[np.float64]


class Pooling(StrEnum):
    POOLED = "pooled"
    COMMON_SLOPE = "common_slope"
    SEPARATE = "separate"


class ShelfLifeRefused(ValueError):
    """The data or the request can't give a Q1E estimate; the message says why (one line)."""


@dataclass(frozen=True)
class Observation:
    batch: str
    months: float
    value: float


@dataclass(frozen=True)
class BatchFit:
    """A batch's line under the chosen model, its bound's coefficients and its estimate."""

    batch: str
    slope: float
    intercept: float
    n: int
    # The estimate for this batch (months), None when its bound never meets a limit.
    estimated_months: float | None


@dataclass(frozen=True)
class ShelfLife:
    pooling: Pooling
    p_slopes: float | None
    p_intercepts: float | None
    # The earliest time the bound meets a limit, over the batches; None: it never does.
    estimated_months: float | None
    limiting_batch: str | None
    # Q1E's extrapolation limit for the data (min(2X, X + 12)) and the proposal.
    long_term_months: float
    extrapolation_limit_months: float
    shelf_life_months: int
    lower: float | None
    upper: float | None
    sided: str  # "lower", "upper" or "two-sided"
    residual_sd: float
    df: int
    batches: dict[str, BatchFit] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The analysts' contract (``pharmaqms stability shelf-life --json``)."""
        return {
            "shelf_life_months": self.shelf_life_months,
            "estimated_months": _rounded(self.estimated_months),
            "extrapolation_limit_months": self.extrapolation_limit_months,
            "long_term_months": self.long_term_months,
            "pooling": self.pooling.value,
            "p_slopes": _rounded(self.p_slopes, 6),
            "p_intercepts": _rounded(self.p_intercepts, 6),
            "limiting_batch": self.limiting_batch,
            "bound": self.sided,
            "lower": self.lower,
            "upper": self.upper,
            "batches": {
                name: {
                    "slope": fit.slope,
                    "intercept": fit.intercept,
                    "n": fit.n,
                    "estimated_months": _rounded(fit.estimated_months),
                }
                for name, fit in self.batches.items()
            },
        }


def _t_quantile(q: float, df: int) -> float:
    """Student's t quantile. ``scipy.special`` directly: the same numbers as ``scipy.stats``
    without its argument checking, which cost most of an estimate's time."""
    return float(special.stdtrit(df, q))


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class _Model:
    """A least-squares fit: coefficients, (XᵀX)⁻¹, residual SD and degrees of freedom."""

    beta: Array
    cov_unscaled: Array
    s: float
    df: int
    sse: float


def _fit(design: Array, y: Array) -> _Model:
    beta, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < design.shape[1]:
        raise ShelfLifeRefused("the time points do not support a regression (all equal?)")
    residual = y - design @ beta
    sse = float(residual @ residual)
    df = design.shape[0] - design.shape[1]
    unscaled = np.asarray(np.linalg.inv(design.T @ design), dtype=np.float64)
    return _Model(np.asarray(beta, dtype=np.float64), unscaled, math.sqrt(sse / df), df, sse)


def _p_value(
    sse_reduced: float, sse_larger: float, df_num: int, full: _Model, total_ss: float
) -> float:
    """The p-value of the F-test of the error a reduced model adds over a larger one, against
    the full model's residual mean square (type I ANCOVA). Rounding makes the "residuals" of an
    exact fit 1e-30-ish: below 1e-12 of the total variation they are taken as zero, so that
    perfect data are judged exactly rather than on rounding noise."""
    tiny = 1e-12 * max(total_ss, 1e-300)
    extra = sse_reduced - sse_larger
    if extra <= tiny:
        return 1.0
    if full.sse <= tiny:
        return 0.0
    return float(special.fdtrc(df_num, full.df, (extra / df_num) / (full.sse / full.df)))


def first_crossing(d: float, b: float, k: float, qa: float, qb: float, qc: float) -> float | None:
    """The earliest t ≥ 0 where d + b·t − k·sqrt(qa + 2·qb·t + qc·t²) ≤ 0, or None.

    d + b·t is the distance of the fitted mean from the limit (positive on the safe side),
    k·sqrt(...) the half-width of the confidence bound. Squaring gives a quadratic whose roots
    with d + b·t ≥ 0 are where the bound touches the limit."""
    width0 = k * math.sqrt(max(qa, 0.0))
    if d - width0 <= 0.0:
        return 0.0
    a2 = b * b - k * k * qc
    a1 = 2.0 * (d * b - k * k * qb)
    a0 = d * d - k * k * qa
    roots: list[float] = []
    scale = max(abs(a2), abs(a1), abs(a0), 1e-300)
    if abs(a2) <= 1e-12 * scale:
        if a1 != 0.0:
            roots.append(-a0 / a1)
    else:
        disc = a1 * a1 - 4.0 * a2 * a0
        if abs(disc) <= TANGENT * (a1 * a1 + abs(4.0 * a2 * a0)):
            # A double root within rounding: the bound touches the limit (an exact line, whose
            # bound has no width, meets it so). Rounding must not decide "never".
            disc = 0.0
        if disc >= 0.0:
            root = math.sqrt(disc)
            # The numerically stable pair (no cancellation between -a1 and root).
            q = -0.5 * (a1 + math.copysign(root, a1))
            if q != 0.0:
                roots.extend((q / a2, a0 / q))
            else:
                roots.append(-a1 / (2.0 * a2))
    valid = [t for t in roots if t > 0.0 and d + b * t >= -1e-9 * max(abs(d), 1.0)]
    return min(valid) if valid else None


def _by_batch(observations: Sequence[Observation]) -> dict[str, list[Observation]]:
    grouped: dict[str, list[Observation]] = {}
    for obs in observations:
        grouped.setdefault(obs.batch, []).append(obs)
    return dict(sorted(grouped.items()))


def check_request(
    observations: Sequence[Observation], lower: float | None, upper: float | None
) -> dict[str, list[Observation]]:
    """The reasons a request gets no estimate, as one refusal: no limit, a non-finite value,
    a batch with fewer than three distinct time points."""
    if lower is None and upper is None:
        raise ShelfLifeRefused("no specification limit: give a lower limit, an upper or both")
    for limit in (lower, upper):
        if limit is not None and not math.isfinite(limit):
            raise ShelfLifeRefused("a specification limit must be a finite number")
    if lower is not None and upper is not None and lower >= upper:
        raise ShelfLifeRefused(f"lower limit {lower:g} is not below upper limit {upper:g}")
    if not observations:
        raise ShelfLifeRefused("no results to evaluate")
    for obs in observations:
        if not (math.isfinite(obs.months) and math.isfinite(obs.value)):
            raise ShelfLifeRefused(f"batch {obs.batch}: months and value must be finite numbers")
        if obs.months < 0:
            raise ShelfLifeRefused(f"batch {obs.batch}: a negative time point ({obs.months:g})")
    grouped = _by_batch(observations)
    for name, rows in grouped.items():
        points = len({o.months for o in rows})
        if points < MIN_TIME_POINTS:
            raise ShelfLifeRefused(
                f"batch {name} has {points} time point{'s' if points != 1 else ''}; "
                f"Q1E regression needs at least {MIN_TIME_POINTS}"
            )
    return grouped


def extrapolation_limit(long_term_months: float) -> float:
    """Q1E Appendix A: at most 2·X and at most X + 12 months (X: the long-term data span)."""
    return min(EXTRAPOLATION_FACTOR * long_term_months, long_term_months + EXTRAPOLATION_MONTHS)


def estimate_shelf_life(
    observations: Sequence[Observation],
    *,
    lower: float | None = None,
    upper: float | None = None,
    confidence: float = CONFIDENCE,
) -> ShelfLife:
    grouped = check_request(observations, lower, upper)
    names = list(grouped)
    k = len(names)
    t = np.array([o.months for rows in grouped.values() for o in rows], dtype=np.float64)
    y = np.array([o.value for rows in grouped.values() for o in rows], dtype=np.float64)
    index = np.repeat(np.arange(k), [len(rows) for rows in grouped.values()])
    dummies = np.eye(k)[index]

    pooled = _fit(np.column_stack([np.ones_like(t), t]), y)
    p_slopes = p_intercepts = None
    pooling = Pooling.POOLED
    if k > 1:
        common = _fit(np.column_stack([dummies, t]), y)
        full = _fit(np.column_stack([dummies, dummies * t[:, None]]), y)
        total = float(((y - y.mean()) ** 2).sum())
        p_slopes = _p_value(common.sse, full.sse, k - 1, full, total)
        if p_slopes >= POOLING_ALPHA:
            p_intercepts = _p_value(pooled.sse, common.sse, k - 1, full, total)
            pooling = Pooling.POOLED if p_intercepts >= POOLING_ALPHA else Pooling.COMMON_SLOPE
        else:
            pooling = Pooling.SEPARATE

    two_sided = lower is not None and upper is not None
    quantile = (1.0 + confidence) / 2.0 if two_sided else confidence
    sided = "two-sided" if two_sided else ("lower" if lower is not None else "upper")

    def crossing(model: _Model, intercept: float, slope: float, ix: int, jx: int) -> float | None:
        """Earliest crossing of a line whose intercept and slope are coefficients ix and jx."""
        kk = _t_quantile(quantile, model.df) * model.s
        v = model.cov_unscaled
        qa, qb, qc = float(v[ix, ix]), float(v[ix, jx]), float(v[jx, jx])
        found = [
            first_crossing(d, b, kk, qa, qb, qc)
            for limit, d, b in (
                (lower, intercept - (lower or 0.0), slope),
                (upper, (upper or 0.0) - intercept, -slope),
            )
            if limit is not None
        ]
        finite = [f for f in found if f is not None]
        return min(finite) if finite else None

    fits: dict[str, BatchFit] = {}
    if pooling is Pooling.POOLED:
        a, b = float(pooled.beta[0]), float(pooled.beta[1])
        when = crossing(pooled, a, b, 0, 1)
        for name, rows in grouped.items():
            fits[name] = BatchFit(name, b, a, len(rows), when)
        residual_sd, df = pooled.s, pooled.df
    elif pooling is Pooling.COMMON_SLOPE:
        b = float(common.beta[k])
        for i, (name, rows) in enumerate(grouped.items()):
            a = float(common.beta[i])
            fits[name] = BatchFit(name, b, a, len(rows), crossing(common, a, b, i, k))
        residual_sd, df = common.s, common.df
    else:
        for name, rows in grouped.items():
            tb = np.array([o.months for o in rows])
            own = _fit(np.column_stack([np.ones_like(tb), tb]), np.array([o.value for o in rows]))
            a, b = float(own.beta[0]), float(own.beta[1])
            fits[name] = BatchFit(name, b, a, len(rows), crossing(own, a, b, 0, 1))
        residual_sd, df = full.s, full.df

    limiting: str | None = None
    estimate: float | None = None
    for name in names:
        when = fits[name].estimated_months
        if when is not None and (estimate is None or when < estimate):
            estimate, limiting = when, name
    if pooling is Pooling.POOLED and k > 1:
        limiting = None  # one line for all batches: no batch governs
    span = float(t.max())
    cap = extrapolation_limit(span)
    proposal = cap if estimate is None else min(estimate, cap)
    return ShelfLife(
        pooling=pooling,
        p_slopes=p_slopes,
        p_intercepts=p_intercepts,
        estimated_months=estimate,
        limiting_batch=limiting,
        long_term_months=span,
        extrapolation_limit_months=cap,
        shelf_life_months=math.floor(proposal + 1e-9),
        lower=lower,
        upper=upper,
        sided=sided,
        residual_sd=residual_sd,
        df=df,
        batches=fits,
    )


def bound_curve(
    result: ShelfLife, observations: Sequence[Observation], batch: str, months: Iterable[float]
) -> tuple[list[float], list[float], list[float]]:
    """The fitted mean and its lower and upper confidence bounds for one batch under the
    model ``result`` chose, at the given times — what the chart draws."""
    grouped = _by_batch(observations)
    names = list(grouped)
    grid = np.array(list(months), dtype=np.float64)
    two_sided = result.sided == "two-sided"
    quantile = (1.0 + CONFIDENCE) / 2.0 if two_sided else CONFIDENCE
    t = np.array([o.months for rows in grouped.values() for o in rows], dtype=np.float64)
    y = np.array([o.value for rows in grouped.values() for o in rows], dtype=np.float64)
    index = np.repeat(np.arange(len(names)), [len(rows) for rows in grouped.values()])
    if result.pooling is Pooling.POOLED:
        model = _fit(np.column_stack([np.ones_like(t), t]), y)
        rows_x = np.column_stack([np.ones_like(grid), grid])
    elif result.pooling is Pooling.COMMON_SLOPE:
        dummies = np.eye(len(names))[index]
        model = _fit(np.column_stack([dummies, t]), y)
        rows_x = np.zeros((grid.size, len(names) + 1))
        rows_x[:, names.index(batch)] = 1.0
        rows_x[:, -1] = grid
    else:
        mine = index == names.index(batch)
        model = _fit(np.column_stack([np.ones(mine.sum()), t[mine]]), y[mine])
        rows_x = np.column_stack([np.ones_like(grid), grid])
    mean = rows_x @ model.beta
    half = (
        _t_quantile(quantile, model.df)
        * model.s
        * np.sqrt(np.einsum("ij,jk,ik->i", rows_x, model.cov_unscaled, rows_x))
    )
    return mean.tolist(), (mean - half).tolist(), (mean + half).tolist()


def out_of_trend(
    earlier_months: Sequence[float],
    earlier_values: Sequence[float],
    months: float,
    value: float,
    *,
    level: float = OOT_LEVEL,
) -> str | None:
    """Why a new result is out of trend, or None: outside the ``level`` prediction interval of
    the regression of its batch's earlier results (at least three time points) at its time."""
    tx = np.asarray(earlier_months, dtype=np.float64)
    ty = np.asarray(earlier_values, dtype=np.float64)
    if len(set(tx.tolist())) < OOT_MIN_POINTS or tx.size < OOT_MIN_POINTS:
        return None
    design = np.column_stack([np.ones_like(tx), tx])
    beta, *_ = np.linalg.lstsq(design, ty, rcond=None)
    residual = ty - design @ beta
    df = tx.size - 2
    if df < 1:
        return None
    s = math.sqrt(float(residual @ residual) / df)
    x = np.array([1.0, months])
    leverage = float(x @ np.linalg.inv(design.T @ design) @ x)
    predicted = float(x @ beta)
    half = _t_quantile((1.0 + level) / 2.0, df) * s * math.sqrt(1.0 + leverage)
    if abs(value - predicted) <= half:
        return None
    return (
        f"{value:g} at {months:g} months is outside the {level:.0%} prediction interval "
        f"{predicted - half:.3g}–{predicted + half:.3g} of the earlier results' trend"
    )
