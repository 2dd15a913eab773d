"""Cold chain assessment: mean kinetic temperature, excursions, degree-minutes and the stability
budget of temperature readings.

Pure computation on NumPy arrays; no database, no web. A service loads a logger's readings,
builds a :class:`TemperatureSeries` (:func:`series_from_arrays` or :func:`assemble_readings`) and
calls :func:`summarise` (MKT), :func:`find_excursions` and :func:`consume`/:func:`assess_budget`.
The conventions (sample-and-hold, gaps as unknown time, limits inside the range, band edges)
are set out in :mod:`.readings`, :mod:`.excursions` and :mod:`.budget`.
"""

from pharmaqms.lifecycle.distribution.coldchain.budget import (
    BandUsage,
    BudgetAssessment,
    BudgetBand,
    BudgetConsumption,
    Disposition,
    StabilityBudget,
    assess_budget,
    consume,
)
from pharmaqms.lifecycle.distribution.coldchain.excursions import (
    Excursion,
    ExcursionReport,
    Excursions,
    Side,
    TemperatureRange,
    find_excursions,
)
from pharmaqms.lifecycle.distribution.coldchain.mkt import (
    DEFAULT_DELTA_H_KJ_PER_MOL,
    GAS_CONSTANT_J_PER_MOL_K,
    MktSummary,
    mean_kinetic_temperature,
    summarise,
    summarise_all,
)
from pharmaqms.lifecycle.distribution.coldchain.readings import (
    DEFAULT_GAP_FACTOR,
    PLAUSIBLE_MAX_C,
    PLAUSIBLE_MIN_C,
    Gap,
    Reading,
    ReadingsRefused,
    TemperatureSeries,
    assemble_readings,
    fahrenheit_to_celsius,
    series_from_arrays,
)

__all__ = [
    "DEFAULT_DELTA_H_KJ_PER_MOL",
    "DEFAULT_GAP_FACTOR",
    "GAS_CONSTANT_J_PER_MOL_K",
    "PLAUSIBLE_MAX_C",
    "PLAUSIBLE_MIN_C",
    "BandUsage",
    "BudgetAssessment",
    "BudgetBand",
    "BudgetConsumption",
    "Disposition",
    "Excursion",
    "ExcursionReport",
    "Excursions",
    "Gap",
    "MktSummary",
    "Reading",
    "ReadingsRefused",
    "Side",
    "StabilityBudget",
    "TemperatureRange",
    "TemperatureSeries",
    "assemble_readings",
    "assess_budget",
    "consume",
    "fahrenheit_to_celsius",
    "find_excursions",
    "mean_kinetic_temperature",
    "series_from_arrays",
    "summarise",
    "summarise_all",
]
