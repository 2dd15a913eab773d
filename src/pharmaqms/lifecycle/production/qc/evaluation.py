"""Judging a result against a criterion, and detecting results out of trend. Pure functions: no
database, so every rule is tested on constructed values.

Conventions (stated here, pinned by the tests):

* Limits are inclusive: a result equal to a limit conforms.
* When a criterion names ``decimals``, the result (in the criterion's unit) is rounded half away
  from zero to that many decimals before the comparison, as USP General Notices 7.20 describe;
  otherwise the value is compared as measured.
* A result in another unit of the same kind is converted to the criterion's unit first (mg/g to
  %, for instance); a unit that is unknown or of another kind can't be judged.
* List criteria compare case-insensitively, ignoring surrounding spaces.

Out of trend (OOT), per test, configured on the specification's criterion:

* ``mean_ks``: the batch's value lies outside mean ± k·s of the previous N batches (sample
  standard deviation, k = 3 and N = 10 by default). It needs at least ``MIN_HISTORY`` previous
  batches; with fewer the rule does not judge. A history without spread (s = 0) flags any value
  different from the mean.
* ``run``: the value completes a run of R consecutive batches (itself included) each strictly
  higher — or each strictly lower — than the one before (R = 6 by default, Nelson's rule 3). An
  equal value breaks the run.
* ``both``: either rule.

Only results inside the specification are judged for trend (one outside it has its OOS
investigation), and the history is made of them: a batch's value for a test is the mean of its
valid, conforming results (invalidated and out-of-specification ones excluded, as they would
widen the limits), batches taken in the order of their first result for that test.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pharmaqms.lifecycle.production.qc.models import CriterionKind, ResultOutcome, TrendRule
from pharmaqms.platform.governance.units import UnitProblem, convert, parse_unit

MIN_HISTORY = 6
MAX_WINDOW = 100


@dataclass(frozen=True)
class Criterion:
    test_code: str
    kind: str
    unit: str = ""
    lower_limit: float | None = None
    upper_limit: float | None = None
    decimals: int | None = None
    allowed_values: tuple[str, ...] = ()
    trend_rule: str = TrendRule.NONE
    trend_window: int = 10
    trend_k: float = 3.0
    trend_run_length: int = 6


def criterion_problems(c: Criterion) -> list[str]:
    """Why a criterion can't be approved as written (empty when it can)."""
    problems: list[str] = []
    name = c.test_code or "a test"
    if c.kind == CriterionKind.NUMERIC:
        if c.lower_limit is None and c.upper_limit is None:
            problems.append(f"{name}: a numeric criterion needs a lower or an upper limit")
        if (
            c.lower_limit is not None
            and c.upper_limit is not None
            and c.lower_limit > c.upper_limit
        ):
            problems.append(
                f"{name}: the lower limit {c.lower_limit:g} is above the upper {c.upper_limit:g}"
            )
        if c.allowed_values:
            problems.append(f"{name}: a numeric criterion has no list of allowed answers")
        if c.decimals is not None and not 0 <= c.decimals <= 6:
            problems.append(f"{name}: decimals must be 0 to 6")
        if c.unit:
            try:
                parse_unit(c.unit)
            except UnitProblem as problem:
                problems.append(f"{name}: {problem}")
    elif c.kind == CriterionKind.LIST:
        if not [v for v in c.allowed_values if v.strip()]:
            problems.append(f"{name}: a list criterion needs at least one allowed answer")
        if c.lower_limit is not None or c.upper_limit is not None:
            problems.append(f"{name}: a list criterion has no numeric limits")
        if c.trend_rule != TrendRule.NONE:
            problems.append(f"{name}: trends are followed on numeric results only")
    else:
        problems.append(f"{name}: the criterion kind must be numeric or list, not {c.kind!r}")
    if c.trend_rule not in {r.value for r in TrendRule}:
        problems.append(f"{name}: unknown trend rule {c.trend_rule!r}")
    if not MIN_HISTORY <= c.trend_window <= MAX_WINDOW:
        problems.append(f"{name}: the trend window must be {MIN_HISTORY} to {MAX_WINDOW} batches")
    if not 1.0 <= c.trend_k <= 6.0:
        problems.append(f"{name}: k of the trend rule must be between 1 and 6")
    if not 3 <= c.trend_run_length <= 20:
        problems.append(f"{name}: the run length must be 3 to 20 batches")
    return problems


@dataclass(frozen=True)
class Verdict:
    outcome: ResultOutcome
    compared_value: float | None  # the value in the criterion's unit, rounded as compared
    note: str = ""


def round_half_up(value: float, decimals: int) -> float:
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def judge(c: Criterion, *, value: float | None, text_value: str | None, unit: str) -> Verdict:
    """Judge one result. A result of the wrong kind (text for a numeric criterion) or in a unit
    that can't be converted is not evaluated, with the reason — never silently passed."""
    if c.kind == CriterionKind.LIST:
        if not (text_value or "").strip():
            return Verdict(ResultOutcome.NOT_EVALUATED, None, "the criterion expects a text answer")
        allowed = {v.strip().lower() for v in c.allowed_values}
        ok = text_value.strip().lower() in allowed  # type: ignore[union-attr]
        return Verdict(ResultOutcome.PASS if ok else ResultOutcome.FAIL, None)
    if value is None:
        return Verdict(ResultOutcome.NOT_EVALUATED, None, "the criterion expects a number")
    if c.unit and not unit.strip():
        # Never guess: a bare 99.5 read as dimensionless would become 9950 %.
        return Verdict(
            ResultOutcome.NOT_EVALUATED,
            None,
            f"the result has no unit; the criterion is in {c.unit}",
        )
    if c.unit and unit != c.unit:
        try:
            value = convert(value, unit, c.unit)
        except UnitProblem as problem:
            return Verdict(ResultOutcome.NOT_EVALUATED, None, str(problem))
    elif unit and not c.unit:
        return Verdict(
            ResultOutcome.NOT_EVALUATED,
            None,
            f"the result has a unit ({unit}) where the criterion has none",
        )
    compared = round_half_up(value, c.decimals) if c.decimals is not None else value
    inside = (c.lower_limit is None or compared >= c.lower_limit) and (
        c.upper_limit is None or compared <= c.upper_limit
    )
    return Verdict(ResultOutcome.PASS if inside else ResultOutcome.FAIL, compared)


# --- out of trend ---------------------------------------------------------------------------


def outside_mean_ks(history: Sequence[float], value: float, *, window: int, k: float) -> str | None:
    """The finding when ``value`` lies outside mean ± k·s of the last ``window`` values."""
    recent = list(history)[-window:]
    if len(recent) < MIN_HISTORY:
        return None
    mean = statistics.fmean(recent)
    s = statistics.stdev(recent)
    low, high = mean - k * s, mean + k * s
    if low <= value <= high:
        return None
    return (
        f"{value:g} lies outside mean ± {k:g}·s of the previous {len(recent)} batches "
        f"({low:.4g} to {high:.4g}; mean {mean:.4g}, s {s:.3g})"
    )


def completes_run(history: Sequence[float], value: float, *, length: int) -> str | None:
    """The finding when ``value`` ends a run of ``length`` values each strictly above (or each
    strictly below) the one before it."""
    series = [*list(history)[-(length - 1) :], value]
    if len(series) < length:
        return None
    steps = list(itertools.pairwise(series))
    if all(b > a for a, b in steps):
        return f"{value:g} ends a run of {length} batches each higher than the one before"
    if all(b < a for a, b in steps):
        return f"{value:g} ends a run of {length} batches each lower than the one before"
    return None


def trend_findings(c: Criterion, history: Sequence[float], value: float) -> list[str]:
    """Every OOT finding of the criterion's rule for ``value`` after ``history`` (oldest first)."""
    findings: list[str] = []
    if c.trend_rule in (TrendRule.MEAN_KS, TrendRule.BOTH):
        found = outside_mean_ks(history, value, window=c.trend_window, k=c.trend_k)
        if found:
            findings.append(found)
    if c.trend_rule in (TrendRule.RUN, TrendRule.BOTH):
        found = completes_run(history, value, length=c.trend_run_length)
        if found:
            findings.append(found)
    return findings
