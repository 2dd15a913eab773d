"""From report–drug–event rows to the drug–event counts every method starts from.

The unit counted is the **report** (openEBGM's ``processRaw``, DuMouchel 1999, the EMA and
FDA practice): a = reports that name both the drug and the event, n_drug = reports that name
the drug, n_event = reports that name the event, N = reports. A report that names a drug
twice, or names it with two formulations that were mapped to one name, counts once. The
2×2 table of a pair is then b = n_drug − a, c = n_event − a, d = N − n_drug − n_event + a,
and E = n_drug·n_event/N; PRR, ROR, χ², IC and EBGM all read the same table.

(vigipy counts drug–event *rows* instead: its N is the number of rows, and a report naming
two drugs and three events adds six to it. The tests compare the formulas on vigipy's own
tables, not the conventions.)

Stratified expected counts, when asked, are Mantel–Haenszel style sums over strata s of
reports (age band × sex × year): E = Σₛ n_drug,s·n_event,s / Nₛ (DuMouchel 1999 §4;
openEBGM ``processRaw(stratify = TRUE)``). Each report belongs to one stratum, taken from its
first row; a missing age, sex or year is a level of its own ("unknown").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from pharmaqms.lifecycle.use.signals.errors import SignalInputError

REPORT: Final = "report_id"
DRUG: Final = "drug"
EVENT: Final = "event"
# Report attributes that can stratify the expected counts, and the column each is read from.
STRATA: Final = ("age", "sex", "year")
# Age bands in years: [0, 18), [18, 45), [45, 65), [65, 75), [75, ∞).
AGE_BREAKS: Final = (18.0, 45.0, 65.0, 75.0)
AGE_LABELS: Final = ("<18", "18-44", "45-64", "65-74", ">=75")
UNKNOWN: Final = "unknown"
_CHUNK: Final = 1_000_000  # pairs per block when summing stratified expected counts


@dataclass(frozen=True, slots=True)
class PairCounts:
    """One row per drug–event pair reported at least once.

    ``pairs`` columns: ``drug``, ``event`` (as given), ``a``, ``n_drug``, ``n_event`` (Int64
    report counts) and, when stratified, ``E_stratified`` (Float64)."""

    pairs: pl.DataFrame
    reports: int
    stratified_by: tuple[str, ...]


def age_band(age: pl.Expr) -> pl.Expr:
    """An age in years as its band label; null or negative ages are "unknown"."""
    band = pl.lit(AGE_LABELS[-1])
    for limit, label in reversed(list(zip(AGE_BREAKS, AGE_LABELS, strict=False))):
        band = pl.when(age < limit).then(pl.lit(label)).otherwise(band)
    return pl.when(age.is_null() | (age < 0)).then(pl.lit(UNKNOWN)).otherwise(band)


def _check_columns(schema: pl.Schema, stratify_by: Sequence[str]) -> None:
    missing = [c for c in (REPORT, DRUG, EVENT) if c not in schema]
    if missing:
        raise SignalInputError(f"the rows have no column {', '.join(missing)}")
    unknown = [s for s in stratify_by if s not in STRATA]
    if unknown:
        raise SignalInputError(
            f"cannot stratify by {', '.join(unknown)}: choose from {', '.join(STRATA)}"
        )
    absent = [s for s in stratify_by if s not in schema]
    if absent:
        raise SignalInputError(
            f"stratified by {', '.join(absent)}, but the rows have no such column"
        )


def _stratum_levels(stratify_by: Sequence[str]) -> list[pl.Expr]:
    levels = []
    for name in stratify_by:
        column = pl.col(name)
        if name == "age":
            levels.append(age_band(column.cast(pl.Float64, strict=False)).alias(name))
        else:
            levels.append(column.cast(pl.String).fill_null(UNKNOWN).alias(name))
    return levels


def _codes(values: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
    """Integer codes of a text column (via Polars' categorical dictionary) and the table
    code → value, so that the counting passes hash integers instead of strings."""
    categorical = values if values.dtype == pl.Categorical else values.cast(pl.Categorical)
    distinct = categorical.unique()
    names = pl.DataFrame(
        {"code": distinct.to_physical().cast(pl.UInt64), "name": distinct.cast(pl.String)}
    )
    return categorical.to_physical().cast(pl.UInt64), names


def _report_codes(values: pl.Series) -> pl.Series:
    if values.dtype.is_integer() and values.len() and (values.min() or 0) >= 0:  # type: ignore[operator]
        return values.cast(pl.UInt64)
    return values.cast(pl.String).cast(pl.Categorical).to_physical().cast(pl.UInt64)


def _span(codes: pl.Series) -> int:
    return int(codes.max()) + 1  # type: ignore[arg-type]


def _dense(codes: pl.Series) -> pl.Series:
    """Codes renumbered 0, 1, 2… in their order (the same numbers for a column and for the
    list of its distinct codes)."""
    return (codes.rank("dense") - 1).cast(pl.UInt64)


def _per_code(keys: pl.Series, modulus: int) -> np.ndarray:
    """How many distinct ``keys`` fall on each key % modulus, indexed by that code: with
    key = report·modulus + x, the number of distinct reports naming x."""
    return np.bincount((keys.unique() % modulus).to_numpy(), minlength=modulus)


# Pair counts go through an array with one slot per possible (drug, event) cell when that
# array is small and not much sparser than the pairs reported; else through a hash count.
_DENSE_CELLS: Final = 1 << 26
_DENSE_FILL: Final = 16


def _pair_counts(triples: pl.Series, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(cell code, distinct reports) of every (drug, event) cell reported at least once."""
    codes = (triples.unique() % cells).to_numpy()
    if cells <= _DENSE_CELLS and cells <= _DENSE_FILL * codes.size:
        per_cell = np.bincount(codes, minlength=cells)
        reported = np.flatnonzero(per_cell).astype(np.uint64)
        return reported, per_cell[reported]
    counted = pl.Series("code", codes).value_counts(name="n")
    return counted["code"].to_numpy(), counted["n"].to_numpy()


def _name_rank(names: pl.DataFrame, span: int) -> np.ndarray:
    """Each code's place in the alphabetical order of the names (indexed by code)."""
    rank = np.zeros(span, dtype=np.uint64)
    rank[names["code"].to_numpy()] = names["name"].rank("ordinal").to_numpy() - 1
    return rank


def _names_by_code(names: pl.DataFrame, span: int) -> pl.Series:
    return (
        pl.Series(dtype=pl.String)
        .extend_constant(None, span)
        .scatter(names["code"].to_numpy(), names["name"])
    )


def _distinct_count(keys: pl.Series, modulus: int, name: str) -> pl.DataFrame:
    """How many distinct ``keys`` fall on each key % modulus: with key = report·modulus + x,
    the number of distinct reports per x."""
    per = (keys.unique() % modulus).value_counts(name=name)
    return per.rename({per.columns[0]: "code"})


def count_pairs(
    rows: pl.DataFrame | pl.LazyFrame, *, stratify_by: Sequence[str] = ()
) -> PairCounts:
    """Count reports per drug–event pair, per drug, per event and in all; with
    ``stratify_by`` (any of "age", "sex", "year") also the stratified expected counts.

    ``rows`` has one row per report–drug–event triple (``report_id``, ``drug``, ``event``,
    and the strata columns if asked); duplicates and rows with a null drug or event are
    ignored. The work is a few vectorised Polars passes over the rows: each (report, drug,
    event) becomes one 64-bit key, and counting distinct reports is counting distinct keys."""
    frame = rows.lazy()
    _check_columns(frame.collect_schema(), stratify_by)
    columns = [REPORT, DRUG, EVENT, *stratify_by]
    data = frame.select(columns).drop_nulls([REPORT, DRUG, EVENT]).collect()
    if data.height == 0:
        raise SignalInputError("no report with a drug and an event to count")
    report = _report_codes(data[REPORT])
    drug, drug_names = _codes(data[DRUG])
    event, event_names = _codes(data[EVENT])
    if _span(report) * _span(drug) * _span(event) >= 2**63:
        # Sparse codes (large report numbers, a process-wide categorical dictionary grown by
        # other data): renumber 0, 1, 2… before packing.
        report, drug, event = _dense(report), _dense(drug), _dense(event)
        drug_names = drug_names.with_columns(code=_dense(drug_names["code"]))
        event_names = event_names.with_columns(code=_dense(event_names["code"]))
    drugs, events, reports_span = _span(drug), _span(event), _span(report)
    if reports_span * drugs * events >= 2**63:
        raise SignalInputError("too many distinct reports, drugs and events to count at once")
    cells = drugs * events
    code, a = _pair_counts(report * cells + drug * events + event, cells)
    d, e = code // events, code % events
    per_drug = _per_code(report * drugs + drug, drugs)
    per_event = _per_code(report * events + event, events)
    total = report.n_unique()
    # In the order of the drug's and the event's names, sorted on integer ranks of the few
    # distinct names rather than on millions of strings.
    order = (
        pl.Series(_name_rank(drug_names, drugs)[d] * events + _name_rank(event_names, events)[e])
        .arg_sort()
        .to_numpy()
    )
    d, e = d[order], e[order]
    pairs = pl.DataFrame(
        [
            pl.Series("d", d),
            pl.Series("e", e),
            _names_by_code(drug_names, drugs).gather(d).alias(DRUG),
            _names_by_code(event_names, events).gather(e).alias(EVENT),
            pl.Series("a", a[order], dtype=pl.Int64),
            pl.Series("n_drug", per_drug[d], dtype=pl.Int64),
            pl.Series("n_event", per_event[e], dtype=pl.Int64),
        ]
    )
    if not stratify_by:
        return PairCounts(pairs.drop("d", "e"), total, ())

    stratum_of_report = (
        data.lazy()
        .with_columns(pl.Series("r", report))
        .group_by("r")
        .agg(pl.first(name) for name in stratify_by)
        .select("r", *_stratum_levels(stratify_by))
        .select("r", s=pl.struct(list(stratify_by)).rank("dense").cast(pl.Int64) - 1)
        .collect()
    )
    stratum = (
        pl.DataFrame({"r": report})
        .join(stratum_of_report, on="r", how="left", maintain_order="left")["s"]
        .cast(pl.UInt64)
    )
    strata = _span(stratum)
    if reports_span * max(drugs, events) * strata >= 2**63:
        raise SignalInputError("too many distinct reports and strata to count at once")
    expected = _stratified_expected(
        pairs["d"].to_numpy().astype(np.int64),
        pairs["e"].to_numpy().astype(np.int64),
        _distinct_count((report * drugs + drug) * strata + stratum, drugs * strata, "n"),
        _distinct_count((report * events + event) * strata + stratum, events * strata, "n"),
        stratum_of_report["s"].value_counts(name="n"),
        drugs=drugs,
        events=events,
        strata=strata,
    )
    pairs = pairs.drop("d", "e").with_columns(pl.Series("E_stratified", expected))
    return PairCounts(pairs, total, tuple(stratify_by))


def _stratified_expected(
    drug_index: np.ndarray,
    event_index: np.ndarray,
    by_drug_stratum: pl.DataFrame,
    by_event_stratum: pl.DataFrame,
    sizes: pl.DataFrame,
    *,
    drugs: int,
    events: int,
    strata: int,
) -> np.ndarray:
    """Σₛ n_drug,s·n_event,s/Nₛ for each pair: the (drug × event) entries of the product
    A·diag(1/Nₛ)·Bᵀ of the (drug × stratum) and (event × stratum) count matrices, computed
    by BLAS for a block of drugs at a time and read at the pairs that were reported."""
    inverse = np.zeros(strata)
    inverse[sizes["s"].to_numpy()] = 1.0 / sizes["n"].to_numpy()
    drug_code = by_drug_stratum["code"].to_numpy()
    per_drug = np.zeros((drugs, strata))
    per_drug[drug_code // strata, drug_code % strata] = by_drug_stratum["n"].to_numpy()
    event_code = by_event_stratum["code"].to_numpy()
    per_event = np.zeros((events, strata))
    per_event[event_code // strata, event_code % strata] = by_event_stratum["n"].to_numpy()
    weighted_events = (per_event * inverse).T.copy()  # strata × events
    expected = np.empty(drug_index.size)
    block = max(1, _CHUNK // max(events, 1))
    order = np.argsort(drug_index, kind="stable")
    sorted_drugs = drug_index[order]
    for first in range(0, drugs, block):
        lo, hi = np.searchsorted(sorted_drugs, [first, first + block])
        if lo == hi:
            continue
        product = per_drug[first : first + block] @ weighted_events
        which = order[lo:hi]
        expected[which] = product[drug_index[which] - first, event_index[which]]
    return expected
