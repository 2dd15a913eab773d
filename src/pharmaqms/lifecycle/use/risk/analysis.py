"""Risk-factor analysis of a product's cases: the outcome (a serious case, or a case reporting
one reaction term) regressed on the factors the cases hold, by Firth's penalised logistic
regression (``firth.py``). Pure: typed case rows in, an odds-ratio table, its evidence (the
counts per factor level) and a plain-language reading per factor out.

Factors, each compared with a reference level (the most common, or the clinical norm):
age band (< 18, 18–64 reference, ≥ 65), sex (female reference), weight band (< 50 kg,
50–99 kg reference, ≥ 100 kg), dose (at or below the median dose of the cases reference,
above it; doses in the most common kind of unit, converted by pint), route (the most common
route reference), co-medication (none reference; or, when a drug is named, without it), and
the suspect lot (the lot with most cases as reference). A level that is not known (no age
given) is a level of its own, never dropped: dropping it would bias the comparison towards
well-documented cases.

Refuses to fit when the answer would mean nothing: fewer than ``MIN_CASES`` cases, no case
with the outcome, or every case with it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.lifecycle.use.cases import doses
from pharmaqms.lifecycle.use.psur.selection import CaseRow
from pharmaqms.lifecycle.use.risk.firth import FirthFit, FitFailed, firth_logit

MIN_CASES = 20
# The lots with most cases are compared one by one; the rest together as "other lots" (a
# lot with a handful of cases has an interval too wide to say anything on its own).
MAX_LOTS = 8
NOT_HELD: tuple[str, ...] = ()  # every factor the issue names is now held by the cases


@dataclass(frozen=True, slots=True)
class Outcome:
    """Serious (any E2B seriousness criterion) or a reaction term (verbatim or MedDRA code)."""

    term: str | None = None

    @property
    def label(self) -> str:
        return f"reporting '{self.term}'" if self.term else "a serious outcome"

    def of(self, case: CaseRow) -> bool:
        if not self.term:
            return case.serious
        wanted = " ".join(self.term.lower().split())
        return any(
            " ".join(e.verbatim.lower().split()) == wanted or e.meddra_code == wanted
            for e in case.events
        )


def age_band(age: Decimal | None) -> str:
    if age is None:
        return "age unknown"
    if age < 18:
        return "aged < 18"
    if age >= 65:
        return "aged ≥ 65"
    return "aged 18–64"


def sex_level(sex: str | None) -> str:
    return sex if sex in ("male", "female") else "sex unknown"


def weight_band(weight: Decimal | None) -> str:
    if weight is None:
        return "of unknown weight"
    if weight < 50:
        return "weighing < 50 kg"
    if weight >= 100:
        return "weighing ≥ 100 kg"
    return "weighing 50–99 kg"


def route_level(case: CaseRow) -> str:
    if not case.routes:
        return "no route given"
    return "route " + " + ".join(doses.route_name(r).lower() for r in case.routes)


def dose_factor(cases: list[CaseRow]) -> Factor | None:
    """Higher against lower dose, split at the median of the cases' doses in the most common
    unit (doses in a unit of another kind — mg/kg against mg — are a level of their own)."""
    units = Counter(unit for c in cases for _v, unit in c.doses[:1])
    if not units:
        return None
    unit = sorted(units, key=lambda u: (-units[u], u))[0]

    def dose_of(case: CaseRow) -> float | None:
        if not case.doses:
            return None
        value, given = case.doses[0]
        return doses.in_unit(value, given, unit)

    known = [d for d in (dose_of(c) for c in cases) if d is not None]
    median = float(np.median(known))
    shown = f"{median:g} {unit}"
    low, high = f"given ≤ {shown}", f"given > {shown}"

    def level(case: CaseRow) -> str:
        if not case.doses:
            return "with no dose given"
        dose = dose_of(case)
        if dose is None:
            return "given a dose in other units"
        return low if dose <= median else high

    return Factor("Dose", low, level, "Patients {level}")


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    reference: str
    level_of: Callable[[CaseRow], str]
    who: str  # how the reading names the patients of a level: "Patients {level}"


def factors_for(cases: list[CaseRow], comedication: str | None) -> list[Factor]:
    found = [
        Factor("Age band", "aged 18–64", lambda c: age_band(c.age_years), "Patients {level}"),
        Factor("Sex", "female", lambda c: sex_level(c.sex), "{level} patients"),
        Factor(
            "Weight", "weighing 50–99 kg", lambda c: weight_band(c.weight_kg), "Patients {level}"
        ),
    ]
    dose = dose_factor(cases)
    if dose is not None:
        found.append(dose)
    routes = Counter(route_level(c) for c in cases if c.routes)
    found.append(
        Factor(
            "Route",
            sorted(routes, key=lambda r: (-routes[r], r))[0] if routes else "no route given",
            route_level,
            "Cases with {level}",
        )
    )
    if comedication:
        named = " ".join(comedication.lower().split())
        found.append(
            Factor(
                "Co-medication",
                f"without {comedication}",
                lambda c: (
                    f"with {comedication}"
                    if any(" ".join(o.lower().split()) == named for o in c.concomitants)
                    else f"without {comedication}"
                ),
                "Patients {level}",
            )
        )
    else:
        found.append(
            Factor(
                "Co-medication",
                "no concomitant drug",
                lambda c: (
                    "1 or more concomitant drugs" if c.concomitants else "no concomitant drug"
                ),
                "Patients with {level}",
            )
        )
    lots = Counter(_lot(c) for c in cases)
    if lots:
        ranked = sorted(lots, key=lambda lot: (-lots[lot], lot))
        kept = frozenset(ranked[:MAX_LOTS])

        def lot_level(case: CaseRow) -> str:
            level = _lot(case)
            return level if level in kept else "other lots"

        found.append(Factor("Lot", ranked[0], lot_level, "Cases citing {level}"))
    return found


def _lot(case: CaseRow) -> str:
    named = [lot for lot in case.suspect_lots if lot]
    return f"lot {named[0]}" if named else "lot not given"


@dataclass(frozen=True, slots=True)
class LevelCount:
    factor: str
    level: str
    reference: bool
    cases: int
    events: int


@dataclass(frozen=True, slots=True)
class OddsRow:
    factor: str
    level: str
    reference: str
    cases: int  # cases at this level
    events: int  # of which with the outcome
    odds_ratio: float
    ci_low: float
    ci_high: float
    ci_method: str  # "profile" or "Wald" (when the profile bound could not be found)
    p_value: float
    reading: str


@dataclass(frozen=True, slots=True)
class RiskAnalysis:
    outcome: str
    cases: int
    events: int
    rows: list[OddsRow]
    evidence: list[LevelCount]
    # factors with a single level among the cases (nothing to compare), and levels that are
    # the very cases of other levels (aliased: not estimable separately)
    dropped: list[str]
    not_held: tuple[str, ...]
    caution: str  # e.g. few events per parameter
    fit: FirthFit


def _fmt(value: float) -> str:
    if value >= 100 or value < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def reading(row: OddsRow, who: str, outcome: str) -> str:
    people = who.format(level=row.level)
    people = people[0].upper() + people[1:]
    ci = f"(95 % CI {_fmt(row.ci_low)}–{_fmt(row.ci_high)})"
    others = who.format(level=row.reference)
    versus = f"compared with {others[0].lower()}{others[1:]}"
    if row.ci_low > 1:
        return f"{people} had {_fmt(row.odds_ratio)} times the odds of {outcome} {versus} {ci}."
    if row.ci_high < 1:
        return f"{people} had lower odds of {outcome} {versus}: {_fmt(row.odds_ratio)} times {ci}."
    return (
        f"{people}: odds ratio {_fmt(row.odds_ratio)} {versus} {ci}; the interval includes 1, "
        "so these cases show no clear difference."
    )


def analyse(
    cases: list[CaseRow], outcome: Outcome, *, comedication: str | None = None
) -> RiskAnalysis:
    n = len(cases)
    events = sum(1 for c in cases if outcome.of(c))
    if n < MIN_CASES:
        raise InvalidInput(
            f"only {n} cases of the product: at least {MIN_CASES} are needed for a risk-factor "
            "analysis that means anything; read the cases instead",
            field="product",
        )
    if events == 0:
        raise InvalidInput(
            f"none of the {n} cases has {outcome.label}: there is nothing to explain",
            field="term" if outcome.term else "product",
        )
    if events == n:
        raise InvalidInput(
            f"all {n} cases have {outcome.label}: nothing to compare them with",
            field="term" if outcome.term else "product",
        )
    y = np.array([1.0 if outcome.of(c) else 0.0 for c in cases])
    columns: list[np.ndarray] = [np.ones(n)]
    names = ["(intercept)"]
    meta: list[tuple[Factor, str]] = []
    evidence: list[LevelCount] = []
    dropped: list[str] = []
    for factor in factors_for(cases, comedication):
        levels = [factor.level_of(c) for c in cases]
        present = Counter(levels)
        if len(present) < 2:
            dropped.append(f"{factor.name}: every case is {next(iter(present))}")
            continue
        reference = (
            factor.reference if factor.reference in present else present.most_common(1)[0][0]
        )
        for level in sorted(present, key=lambda lv: (lv != reference, -present[lv], lv)):
            hits = sum(1 for lv, yy in zip(levels, y, strict=True) if lv == level and yy)
            evidence.append(
                LevelCount(factor.name, level, level == reference, present[level], hits)
            )
            if level == reference:
                continue
            column = np.array([1.0 if lv == level else 0.0 for lv in levels])
            trial = np.column_stack([*columns, column])
            if np.linalg.matrix_rank(trial) < trial.shape[1]:
                # the same cases as levels already in the model (every case of unknown age is
                # also male, say): the data can't tell the two apart
                dropped.append(
                    f"{factor.name}: {level} is the same cases as levels above, so it is "
                    "not estimated separately"
                )
                continue
            columns.append(column)
            names.append(f"{factor.name}: {level}")
            meta.append((Factor(factor.name, reference, factor.level_of, factor.who), level))
    x = np.column_stack(columns)
    try:
        fit = firth_logit(x, y, tuple(names))
    except FitFailed as exc:
        raise InvalidInput(f"the regression could not be fitted: {exc}", field="product") from exc
    rows = []
    for j, (factor, level) in enumerate(meta, start=1):
        low, high, method = fit.profile_lo[j], fit.profile_hi[j], "profile"
        if low is None or high is None:
            low, high, method = fit.wald_lo[j], fit.wald_hi[j], "Wald"
        count = next(e for e in evidence if e.factor == factor.name and e.level == level)
        row = OddsRow(
            factor=factor.name,
            level=level,
            reference=factor.reference,
            cases=count.cases,
            events=count.events,
            odds_ratio=math.exp(fit.coef[j]),
            ci_low=math.exp(low),
            ci_high=math.exp(min(high, 700.0)),
            ci_method=method,
            p_value=fit.p_value[j],
            reading="",
        )
        rows.append(replace(row, reading=reading(row, factor.who, outcome.label)))
    parameters = len(names)
    caution = ""
    fewer = min(events, n - events)
    if fewer < 10 * (parameters - 1):
        caution = (
            f"{fewer} cases in the smaller outcome group for {parameters - 1} comparisons "
            "(fewer than 10 per comparison): the estimates are imprecise; read the intervals, "
            "not the point values."
        )
    return RiskAnalysis(
        outcome=outcome.label,
        cases=n,
        events=events,
        rows=rows,
        evidence=evidence,
        dropped=dropped,
        not_held=NOT_HELD,
        caution=caution,
        fit=fit,
    )
