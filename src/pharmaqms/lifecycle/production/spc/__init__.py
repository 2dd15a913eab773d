"""Statistical process control: control charts, run rules, capability and Hotelling T².

Pure computation on numbers (NumPy/SciPy); no database, no web. The conventions of the run rules
(centre line, ties, where a violation is reported) are set out in :mod:`.rules`.
"""

from pharmaqms.lifecycle.production.spc.capability import (
    CapabilityIndices,
    process_capability,
    within_sigma,
)
from pharmaqms.lifecycle.production.spc.charts import (
    ChartKind,
    ChartPoints,
    ControlChartLimits,
    Limits,
    SigmaSource,
    chart_points,
    individuals_limits,
    individuals_limits_known,
    moving_ranges,
    outside,
    points_outside,
    subgroup_means,
    subgroup_ranges,
    subgroup_std_devs,
    xbar_r_limits,
    xbar_r_limits_known,
    xbar_s_limits,
    xbar_s_limits_known,
)
from pharmaqms.lifecycle.production.spc.constants import (
    MAX_SUBGROUP_SIZE,
    MIN_SUBGROUP_SIZE,
    ChartConstants,
    chart_constants,
)
from pharmaqms.lifecycle.production.spc.multivariate import (
    DEFAULT_ALPHA,
    HotellingT2Chart,
    hotelling_t2_chart,
    phase_two_ucl,
)
from pharmaqms.lifecycle.production.spc.rules import (
    Rule,
    RuleEvaluator,
    RuleSet,
    Violation,
    evaluate_rules,
    rule_name,
    rules_of,
)

__all__ = [
    "DEFAULT_ALPHA",
    "MAX_SUBGROUP_SIZE",
    "MIN_SUBGROUP_SIZE",
    "CapabilityIndices",
    "ChartConstants",
    "ChartKind",
    "ChartPoints",
    "ControlChartLimits",
    "HotellingT2Chart",
    "Limits",
    "Rule",
    "RuleEvaluator",
    "RuleSet",
    "SigmaSource",
    "Violation",
    "chart_constants",
    "chart_points",
    "evaluate_rules",
    "hotelling_t2_chart",
    "individuals_limits",
    "individuals_limits_known",
    "moving_ranges",
    "outside",
    "phase_two_ucl",
    "points_outside",
    "process_capability",
    "rule_name",
    "rules_of",
    "subgroup_means",
    "subgroup_ranges",
    "subgroup_std_devs",
    "within_sigma",
    "xbar_r_limits",
    "xbar_r_limits_known",
    "xbar_s_limits",
    "xbar_s_limits_known",
]
