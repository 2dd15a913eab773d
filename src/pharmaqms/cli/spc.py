"""``pharmaqms spc``: statistical process control on a column of a CSV file."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

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
    chart_points,
    individuals_limits,
    individuals_limits_known,
    points_outside,
    xbar_r_limits,
    xbar_r_limits_known,
    xbar_s_limits,
    xbar_s_limits_known,
)
from pharmaqms.lifecycle.production.spc.constants import MAX_SUBGROUP_SIZE
from pharmaqms.lifecycle.production.spc.plot import FORMATS, plot_chart
from pharmaqms.lifecycle.production.spc.rules import RuleSet, Violation, evaluate_rules

app = typer.Typer(
    help="Statistical process control: control limits, run rules and capability.",
    no_args_is_help=True,
)

# Ranges lose efficiency against the SD as subgroups grow; the usual switch is past 10.
LARGEST_RANGE_SUBGROUP = 10
MIN_POINTS = 2

_console = Console()


class AnalysisError(Exception):
    """Input the analysis cannot use; the message is shown as one line."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


# Without a callback Typer would turn the only command into ``pharmaqms spc`` itself, and a
# second command added later would silently change the command line.
@app.callback()
def spc() -> None:
    """Statistical process control on process data."""


def read_column(path: Path, column: str) -> list[float]:
    """The numbers of one CSV column (first row = header), refusing any cell that is not one."""
    if not path.exists():
        raise AnalysisError(f"no such file: {path}")
    if not path.is_file():
        raise AnalysisError(f"not a file: {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if not header:
                raise AnalysisError(f"{path} is empty")
            if column not in header:
                available = ", ".join(repr(name) for name in header)
                raise AnalysisError(f"no column {column!r} in {path}; available: {available}")
            position = header.index(column)
            values: list[float] = []
            for row_number, row in enumerate(reader, start=1):
                if not any(cell.strip() for cell in row):
                    continue
                where = f"row {row_number} (line {reader.line_num})"
                if position >= len(row) or not row[position].strip():
                    raise AnalysisError(f"{where}: no value in column {column!r}")
                values.append(_number(row[position], where, column))
    except UnicodeDecodeError as error:
        raise AnalysisError(f"{path} is not UTF-8 text") from error
    except OSError as error:
        raise AnalysisError(f"cannot read {path}: {error.strerror}") from error
    except csv.Error as error:
        raise AnalysisError(f"{path} is not valid CSV: {error}") from error
    return values


def _number(cell: str, where: str, column: str) -> float:
    try:
        value = float(cell.strip())
    except ValueError:
        raise AnalysisError(f"{where}: {cell!r} in column {column!r} is not a number") from None
    if not math.isfinite(value):
        raise AnalysisError(f"{where}: {cell!r} in column {column!r} is not a finite number")
    return value


def chart_kind(subgroup_size: int) -> ChartKind:
    if subgroup_size == 1:
        return ChartKind.INDIVIDUALS
    if subgroup_size <= LARGEST_RANGE_SUBGROUP:
        return ChartKind.XBAR_R
    return ChartKind.XBAR_S


def _arrange(values: list[float], subgroup_size: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Readings as the chart wants them: a series, or consecutive subgroups as rows."""
    readings = np.asarray(values, dtype=np.float64)
    if subgroup_size == 1:
        if readings.size < MIN_POINTS:
            raise AnalysisError(
                f"too few points: {readings.size} reading(s); at least {MIN_POINTS} are needed"
            )
        return readings
    left_over = readings.size % subgroup_size
    if left_over:
        raise AnalysisError(
            f"{readings.size} readings do not split into subgroups of {subgroup_size} "
            f"({left_over} left over)"
        )
    subgroups = readings.reshape(-1, subgroup_size)
    if subgroups.shape[0] < MIN_POINTS:
        raise AnalysisError(
            f"too few points: {subgroups.shape[0]} subgroup(s) of {subgroup_size}; "
            f"at least {MIN_POINTS} are needed"
        )
    return subgroups


def _limits(
    kind: ChartKind,
    data: np.ndarray[Any, np.dtype[np.float64]],
    center: float | None,
    sigma: float | None,
) -> ControlChartLimits:
    n = 1 if kind is ChartKind.INDIVIDUALS else int(data.shape[1])
    if center is not None and sigma is not None:
        if kind is ChartKind.INDIVIDUALS:
            return individuals_limits_known(center, sigma)
        if kind is ChartKind.XBAR_R:
            return xbar_r_limits_known(center, sigma, n)
        return xbar_s_limits_known(center, sigma, n)
    if kind is ChartKind.INDIVIDUALS:
        return individuals_limits(data)
    if kind is ChartKind.XBAR_R:
        return xbar_r_limits(data)
    return xbar_s_limits(data)


@dataclass(frozen=True, slots=True)
class Analysis:
    readings: int
    limits: ControlChartLimits
    points: ChartPoints
    rule_set: RuleSet
    violations: list[Violation]
    dispersion_outside: list[int]
    capability: CapabilityIndices | None


def analyse(
    values: list[float],
    *,
    subgroup_size: int,
    rule_set: RuleSet,
    center: float | None,
    sigma: float | None,
    lsl: float | None,
    usl: float | None,
) -> Analysis:
    kind = chart_kind(subgroup_size)
    data = _arrange(values, subgroup_size)
    try:
        limits = _limits(kind, data, center, sigma)
        points = chart_points(kind, data)
        violations = evaluate_rules(
            points.location,
            center=limits.location.center,
            sigma=limits.location_sigma,
            rule_set=rule_set,
        )
        capability = None
        if lsl is not None or usl is not None:
            # Capability describes the data, so its within sigma comes from the data even when
            # the chart limits come from a known centre and sigma.
            capability = process_capability(
                data, sigma_within=within_sigma(kind, data), lsl=lsl, usl=usl
            )
    except ValueError as error:
        raise AnalysisError(str(error)) from error
    return Analysis(
        readings=len(values),
        limits=limits,
        points=points,
        rule_set=rule_set,
        violations=violations,
        dispersion_outside=points_outside(points.dispersion, limits.dispersion),
        capability=capability,
    )


def _limits_json(label: str, limits: Limits) -> dict[str, Any]:
    return {"chart": label, "lcl": limits.lower, "center": limits.center, "ucl": limits.upper}


def to_json(analysis: Analysis) -> dict[str, Any]:
    limits, points = analysis.limits, analysis.points
    capability = analysis.capability
    return {
        "readings": analysis.readings,
        "chart": {
            "kind": str(limits.kind),
            "subgroup_size": limits.subgroup_size,
            "points": int(points.location.size),
            "sigma": limits.sigma,
            "sigma_source": str(limits.sigma_source),
            "location_sigma": limits.location_sigma,
            "location": _limits_json(limits.kind.location_label, limits.location),
            "dispersion": _limits_json(limits.kind.dispersion_label, limits.dispersion),
        },
        "capability": None
        if capability is None
        else {
            "lsl": capability.lsl,
            "usl": capability.usl,
            "target": capability.target,
            "mean": capability.mean,
            "sigma_within": capability.sigma_within,
            "sigma_overall": capability.sigma_overall,
            "cp": capability.cp,
            "cpk": capability.cpk,
            "pp": capability.pp,
            "ppk": capability.ppk,
            "cpm": capability.cpm,
        },
        "rules": str(analysis.rule_set),
        "violations": [
            {"rule": v.rule, "name": v.name, "index": v.index, "value": v.value}
            for v in analysis.violations
        ],
        "dispersion_outside_limits": [
            {
                "index": int(points.dispersion_indices[i]),
                "value": float(points.dispersion[i]),
            }
            for i in analysis.dispersion_outside
        ],
    }


def _number_text(value: float | None, digits: int = 6) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _print_report(analysis: Analysis) -> None:
    limits, points = analysis.limits, analysis.points
    unit = "subgroups" if limits.subgroup_size > 1 else "readings"
    _console.print(
        f"{limits.kind} chart, {points.location.size} {unit}, "
        f"σ = {_number_text(limits.sigma)} ({limits.sigma_source})",
        highlight=False,
    )
    table = Table(title="Control limits")
    for heading in ("Chart", "LCL", "Centre", "UCL"):
        table.add_column(heading, justify="right" if heading != "Chart" else "left")
    for label, chart in (
        (limits.kind.location_label, limits.location),
        (limits.kind.dispersion_label, limits.dispersion),
    ):
        table.add_row(
            label, _number_text(chart.lower), _number_text(chart.center), _number_text(chart.upper)
        )
    _console.print(table)

    if analysis.capability is not None:
        indices = analysis.capability
        capability = Table(title="Capability")
        for heading in ("Cp", "Cpk", "Pp", "Ppk", "Cpm"):
            capability.add_column(heading, justify="right")
        capability.add_row(
            *(
                _number_text(value, 4)
                for value in (indices.cp, indices.cpk, indices.pp, indices.ppk, indices.cpm)
            )
        )
        _console.print(capability)

    if analysis.violations:
        found = Table(title=f"Rule violations ({analysis.rule_set})")
        for heading in ("Rule", "Name", "Index", "Value"):
            found.add_column(heading, justify="left" if heading == "Name" else "right")
        for violation in analysis.violations:
            found.add_row(
                str(violation.rule),
                violation.name,
                str(violation.index),
                _number_text(violation.value),
            )
        _console.print(found)
    else:
        _console.print(f"No rule violations ({analysis.rule_set}).", highlight=False)

    if analysis.dispersion_outside:
        _console.print(f"{limits.kind.dispersion_label} chart: points outside the limits")
        outside = Table()
        outside.add_column("Index", justify="right")
        outside.add_column("Value", justify="right")
        for i in analysis.dispersion_outside:
            outside.add_row(
                str(int(points.dispersion_indices[i])), _number_text(float(points.dispersion[i]))
            )
        _console.print(outside)


# Rich keeps single newlines of a help text, so each paragraph is one string.
ANALYZE_HELP = "\n\n".join(
    (
        "Control limits, capability indices and run rule violations for one CSV column.",
        "Limits are estimated from the data (σ from MR̄/d2, R̄/d2 or S̄/c4) unless --center and "
        "--sigma are given. Capability (Cp, Cpk, Pp, Ppk, Cpm) is shown when --lsl or --usl is; "
        "it always describes the data, also when the limits come from --center and --sigma.",
        "Index convention: each violation is reported at the 0-based index of the plotted point "
        "(the reading, or the subgroup for X̄ charts) that completes the pattern, and again on "
        "every later point while the pattern persists (Minitab style). A point exactly on the "
        "centre line breaks a same-side run; equal neighbours break a trend or an alternation. "
        "Points of the MR, R or S chart outside its limits are listed separately.",
    )
)


def _draw(path: Path, column: str, analysis: Analysis) -> None:
    try:
        plot_chart(
            path,
            analysis.limits,
            analysis.points,
            analysis.violations,
            title=f"{column} — {analysis.limits.kind}",
        )
    except OSError as error:
        raise AnalysisError(f"cannot write {path}: {error.strerror}") from error


def _check_options(
    subgroup_size: int,
    center: float | None,
    sigma: float | None,
    lsl: float | None,
    usl: float | None,
    plot: Path | None,
) -> None:
    if not 1 <= subgroup_size <= MAX_SUBGROUP_SIZE:
        raise AnalysisError(f"--subgroup-size must be between 1 and {MAX_SUBGROUP_SIZE}")
    if (center is None) != (sigma is None):
        raise AnalysisError("--center and --sigma go together")
    if sigma is not None and not (math.isfinite(sigma) and sigma > 0):
        raise AnalysisError("--sigma must be a positive number")
    if center is not None and not math.isfinite(center):
        raise AnalysisError("--center must be a finite number")
    if lsl is not None and usl is not None and not lsl < usl:
        raise AnalysisError("--lsl must be below --usl")
    if plot is not None and plot.suffix.lower() not in FORMATS:
        raise AnalysisError(f"--plot must name a .png or .svg file, got {plot.name!r}")


@app.command(help=ANALYZE_HELP)
def analyze(
    file: Annotated[Path, typer.Argument(help="CSV file whose first row names the columns.")],
    column: Annotated[str, typer.Option("--column", help="Column holding the readings.")],
    subgroup_size: Annotated[
        int,
        typer.Option(
            "--subgroup-size",
            help="Consecutive readings per subgroup: 1 gives an I-MR chart, "
            f"2–{LARGEST_RANGE_SUBGROUP} X̄-R, {LARGEST_RANGE_SUBGROUP + 1}–{MAX_SUBGROUP_SIZE} "
            "X̄-S.",
        ),
    ] = 1,
    lsl: Annotated[float | None, typer.Option("--lsl", help="Lower specification limit.")] = None,
    usl: Annotated[float | None, typer.Option("--usl", help="Upper specification limit.")] = None,
    center: Annotated[
        float | None,
        typer.Option("--center", help="Known process centre (with --sigma) instead of estimating."),
    ] = None,
    sigma: Annotated[
        float | None,
        typer.Option("--sigma", help="Known process sigma of individual readings (with --center)."),
    ] = None,
    rules: Annotated[RuleSet, typer.Option("--rules", help="Run rules to apply.")] = RuleSet.NELSON,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the chart to this .png or .svg file.")
    ] = None,
) -> None:
    try:
        _check_options(subgroup_size, center, sigma, lsl, usl, plot)
        values = read_column(file, column)
        analysis = analyse(
            values,
            subgroup_size=subgroup_size,
            rule_set=rules,
            center=center,
            sigma=sigma,
            lsl=lsl,
            usl=usl,
        )
        if plot is not None:
            _draw(plot, column, analysis)
    except AnalysisError as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps(to_json(analysis), indent=2, ensure_ascii=False))
    else:
        _print_report(analysis)
