"""Pharmacovigilance signal detection: disproportionality over a whole case base.

Pure computation (NumPy, SciPy, Polars), no database: a service hands in a table of
report–drug–event rows and gets one row per drug–event pair back.

    rows (report_id, drug, event[, age, sex, year])
      → counts.count_pairs          a, n_drug, n_event per pair; N reports; E_stratified
      → scan.score_counts           PRR, χ², ROR, IC/IC025, EBGM/EB05/EB95 and the signals
    scan.scan                       both steps
    scan.score_table                one 2×2 table (the analysts' `pharmaqms signals table`)

The formulas, the counting convention (reports, not rows) and the signal rules are set out in
the modules' docstrings: :mod:`.disproportionality`, :mod:`.mgps`, :mod:`.counts`, :mod:`.scan`.
"""

from pharmaqms.lifecycle.use.signals.counts import PairCounts, age_band, count_pairs
from pharmaqms.lifecycle.use.signals.errors import SignalInputError
from pharmaqms.lifecycle.use.signals.mgps import (
    GammaMixturePrior,
    PriorFit,
    ebgm,
    fit_prior,
    posterior_quantile,
)
from pharmaqms.lifecycle.use.signals.scan import (
    ALL_METHODS,
    Method,
    ScanResult,
    Thresholds,
    parse_methods,
    scan,
    score_counts,
    score_table,
)
from pharmaqms.lifecycle.use.signals.sources import SourceRows, read_rows, read_source

__all__ = [
    "ALL_METHODS",
    "GammaMixturePrior",
    "Method",
    "PairCounts",
    "PriorFit",
    "ScanResult",
    "SignalInputError",
    "SourceRows",
    "Thresholds",
    "age_band",
    "count_pairs",
    "ebgm",
    "fit_prior",
    "parse_methods",
    "posterior_quantile",
    "read_rows",
    "read_source",
    "scan",
    "score_counts",
    "score_table",
]
