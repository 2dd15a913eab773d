"""``pharmaqms coldchain``: mean kinetic temperature, excursions and the stability budget of a
data logger file read by hand.

The file is CSV with a header: ``time`` (ISO 8601 with a UTC offset), ``temperature_c`` or
``temperature_f`` (converted to °C with pint), and optionally ``hours`` (each reading's
duration). Other columns are ignored. Every refusal is one line naming the row, exit code 2.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from pharmaqms.cli.common import cli_actor, echo_json, handle_errors
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.settings import get_settings
from pharmaqms.lifecycle.distribution.coldchain import (
    DEFAULT_DELTA_H_KJ_PER_MOL,
    DEFAULT_GAP_FACTOR,
    GAS_CONSTANT_J_PER_MOL_K,
    BudgetAssessment,
    ExcursionReport,
    Gap,
    MktSummary,
    Reading,
    StabilityBudget,
    TemperatureRange,
    TemperatureSeries,
    assemble_readings,
    assess_budget,
    consume,
    fahrenheit_to_celsius,
    find_excursions,
    summarise,
)

app = typer.Typer(
    help="Cold chain: mean kinetic temperature, excursions and the stability budget of a data "
    "logger file.",
    no_args_is_help=True,
)

TIME = "time"
CELSIUS = "temperature_c"
FAHRENHEIT = "temperature_f"
HOURS = "hours"

_console = Console()


class LoggerFileError(Exception):
    """A file or option the command cannot use; the message is shown as one line."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.callback()
def coldchain() -> None:
    """Cold chain assessment of a data logger file."""


@dataclass(frozen=True, slots=True)
class LoggerFile:
    readings: list[Reading]
    unit: str  # "°C" or "°F": what the file gave


def _header(path: Path, header: list[str]) -> tuple[int, int, int | None, str]:
    if TIME not in header:
        raise LoggerFileError(f"{path} has no column {TIME!r}")
    has_c, has_f = CELSIUS in header, FAHRENHEIT in header
    if has_c and has_f:
        raise LoggerFileError(
            f"{path} has both {CELSIUS!r} and {FAHRENHEIT!r}: which one holds the readings?"
        )
    if not (has_c or has_f):
        raise LoggerFileError(f"{path} has no column {CELSIUS!r} or {FAHRENHEIT!r}")
    column = CELSIUS if has_c else FAHRENHEIT
    hours = header.index(HOURS) if HOURS in header else None
    return header.index(TIME), header.index(column), hours, column


def _cell(row: list[str], position: int, column: str, where: str) -> str:
    value = row[position].strip() if position < len(row) else ""
    if not value:
        raise LoggerFileError(f"{where}: no value in column {column!r}")
    return value


def _time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise LoggerFileError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise LoggerFileError(
            f"{where}: the time {text!r} has no UTC offset (write e.g. {text}+01:00 or {text}Z)"
        )
    return moment


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LoggerFileError(f"{where}: {text!r} in column {column!r} is not a number") from None
    if not math.isfinite(value):
        raise LoggerFileError(f"{where}: {text!r} in column {column!r} is not a finite number")
    return value


def read_logger_file(path: Path, *, max_bytes: int) -> LoggerFile:
    """The readings of a logger file, in file order, each named by its row; refuses any cell
    it cannot read (the series then refuses disorder, conflicts and impossible values)."""
    if not path.exists():
        raise LoggerFileError(f"no such file: {path}")
    if not path.is_file():
        raise LoggerFileError(f"not a file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoggerFileError(
            f"{path} is {size:,} bytes, more than the limit of {max_bytes:,} "
            "(PHARMAQMS_MAX_UPLOAD_BYTES)"
        )
    times: list[datetime] = []
    values: list[float] = []
    hours: list[float | None] = []
    sources: list[str] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if not any(header):
                raise LoggerFileError(f"{path} is empty")
            at_time, at_value, at_hours, column = _header(path, header)
            for row_number, row in enumerate(reader, start=1):
                if not any(cell.strip() for cell in row):
                    continue
                where = f"row {row_number} (line {reader.line_num})"
                times.append(_time(_cell(row, at_time, TIME, where), where))
                values.append(_number(_cell(row, at_value, column, where), column, where))
                hours.append(
                    None
                    if at_hours is None
                    else _number(_cell(row, at_hours, HOURS, where), HOURS, where)
                )
                sources.append(where)
    except UnicodeDecodeError as error:
        raise LoggerFileError(f"{path} is not UTF-8 text") from error
    except OSError as error:
        raise LoggerFileError(f"cannot read {path}: {error.strerror}") from error
    except csv.Error as error:
        raise LoggerFileError(f"{path} is not valid CSV: {error}") from error
    if not sources:
        raise LoggerFileError(f"{path} has no readings")
    celsius = values if column == CELSIUS else fahrenheit_to_celsius(values).tolist()
    readings = [
        Reading(time=moment, temperature_c=value, hours=duration, source=source)
        for moment, value, duration, source in zip(times, celsius, hours, sources, strict=True)
    ]
    return LoggerFile(readings=readings, unit="°C" if column == CELSIUS else "°F")


def load_series(
    path: Path, *, interval_min: float | None, gap_factor: float
) -> tuple[TemperatureSeries, str]:
    if interval_min is not None and not (math.isfinite(interval_min) and interval_min > 0):
        raise LoggerFileError("--interval must be a positive number of minutes")
    if not (math.isfinite(gap_factor) and gap_factor > 1):
        raise LoggerFileError("--gap-factor must be a number above 1")
    logger = read_logger_file(path, max_bytes=get_settings().max_upload_bytes)
    try:
        series = assemble_readings(
            logger.readings,
            expected_interval=None if interval_min is None else timedelta(minutes=interval_min),
            gap_factor=gap_factor,
        )
    except InvalidInput as refused:
        raise LoggerFileError(refused.detail) from refused
    return series, logger.unit


def _gaps_json(gaps: tuple[Gap, ...]) -> list[dict[str, Any]]:
    return [
        {
            "start": gap.start.isoformat(),
            "end": gap.end.isoformat(),
            "duration_min": gap.duration_min,
        }
        for gap in gaps
    ]


def mkt_json(summary: MktSummary, series: TemperatureSeries, unit: str) -> dict[str, Any]:
    return {
        "mkt_c": summary.mkt_c,
        "arithmetic_mean_c": summary.arithmetic_mean_c,
        "min_c": summary.min_c,
        "max_c": summary.max_c,
        "hours": summary.hours,
        "readings": summary.readings,
        "input_unit": unit,
        "delta_h_kj_per_mol": summary.delta_h_kj_per_mol,
        "gas_constant_j_per_mol_k": GAS_CONSTANT_J_PER_MOL_K,
        "unknown_minutes": series.unknown_s / 60.0,
        "gaps": _gaps_json(series.gaps),
        "warnings": list(series.warnings),
    }


def budget_json(assessment: BudgetAssessment) -> dict[str, Any]:
    (usage,) = assessment.bands  # the command line's budget has one band: out of range
    return {
        "allowed_h": usage.allowed_h,
        "consumed_h": usage.consumed_h,
        "remaining_h": usage.remaining_h,
        "disposition": str(assessment.disposition),
        "out_of_range_h": usage.out_of_range_h,
        "unknown_h": usage.unknown_h,
        "decided_by_unknown_time": assessment.decided_by_unknown_time,
    }


def excursions_json(
    report: ExcursionReport,
    summary: MktSummary,
    series: TemperatureSeries,
    unit: str,
    assessment: BudgetAssessment | None,
) -> dict[str, Any]:
    return {
        "range": {"low_c": report.limits.low_c, "high_c": report.limits.high_c},
        "excursions": [
            {
                "start": excursion.start.isoformat(),
                "end": excursion.end.isoformat(),
                "duration_min": excursion.duration_min,
                "min_c": excursion.min_c,
                "max_c": excursion.max_c,
                "degree_minutes": excursion.degree_minutes,
                "side": str(excursion.side),
                "gap_before": excursion.gap_before,
                "gap_after": excursion.gap_after,
                "until_last_reading": excursion.until_last_reading,
            }
            for excursion in report.excursions
        ],
        "total_minutes_out": report.total_minutes_out,
        "mkt_c": summary.mkt_c,
        "budget": None if assessment is None else budget_json(assessment),
        "readings": len(series),
        "input_unit": unit,
        "delta_h_kj_per_mol": summary.delta_h_kj_per_mol,
        "unknown_minutes": report.unknown_minutes,
        "gaps": _gaps_json(report.gaps),
        "warnings": list(series.warnings),
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_unknowns(series: TemperatureSeries) -> None:
    for warning in series.warnings:
        _console.print(f"warning: {warning}", highlight=False, markup=False)
    gaps = series.gaps
    if not gaps:
        return
    table = Table(title=f"Gaps: {series.unknown_s / 60:,.1f} min of unknown time")
    for heading in ("Start (UTC)", "End (UTC)", "Minutes"):
        table.add_column(heading, justify="right" if heading == "Minutes" else "left")
    for gap in gaps:
        table.add_row(_utc(gap.start), _utc(gap.end), f"{gap.duration_min:,.1f}")
    _console.print(table)


def _print_mkt(summary: MktSummary, series: TemperatureSeries, unit: str) -> None:
    converted = " (read in °F, converted)" if unit == "°F" else ""
    _console.print(
        f"MKT {summary.mkt_c:.2f} °C (ΔH {summary.delta_h_kj_per_mol:g} kJ/mol) over "
        f"{summary.hours:,.2f} h, {summary.readings:,} readings{converted}; duration-weighted "
        f"mean {summary.arithmetic_mean_c:.2f} °C, min {summary.min_c:.2f} °C, "
        f"max {summary.max_c:.2f} °C",
        highlight=False,
    )
    _print_unknowns(series)


def _print_excursions(
    report: ExcursionReport, summary: MktSummary, series: TemperatureSeries, unit: str
) -> None:
    _print_mkt(summary, series, unit)
    if not len(report.excursions):
        _console.print(f"No excursion outside {report.limits}.", highlight=False)
        return
    table = Table(
        title=f"Excursions outside {report.limits}: {report.total_minutes_out:,.1f} min in all"
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Start (UTC)", "left"),
        ("End (UTC)", "left"),
        ("Minutes", "right"),
        ("Min °C", "right"),
        ("Max °C", "right"),
        ("°C·min", "right"),
        ("Note", "left"),
    )
    for heading, justify in columns:
        table.add_column(heading, justify=justify)
    for excursion in report.excursions:
        notes = [
            text
            for flag, text in (
                (excursion.gap_before, "gap before"),
                (excursion.gap_after, "gap after"),
                (excursion.until_last_reading, "out at the last reading"),
            )
            if flag
        ]
        table.add_row(
            _utc(excursion.start),
            _utc(excursion.end),
            f"{excursion.duration_min:,.1f}",
            f"{excursion.min_c:.2f}",
            f"{excursion.max_c:.2f}",
            f"{excursion.degree_minutes:,.1f}",
            "; ".join(notes),
        )
    _console.print(table)


def _print_budget(assessment: BudgetAssessment) -> None:
    (usage,) = assessment.bands
    unknown = f" (of which {usage.unknown_h:,.2f} h unknown time)" if usage.unknown_h else ""
    _console.print(
        f"Stability budget: {usage.allowed_h:g} h allowed, {usage.consumed_h:,.2f} h consumed"
        f"{unknown}, {usage.remaining_h:,.2f} h remaining: {assessment.disposition}",
        highlight=False,
    )
    if assessment.decided_by_unknown_time:
        _console.print(
            "The known time alone leaves the budget unexhausted: the unknown time decides.",
            highlight=False,
        )


READINGS_HELP = (
    "Each reading holds until the next one (sample-and-hold) and the last holds as long as the "
    "interval before it; with an 'hours' column each reading holds for its hours instead. An "
    "interval longer than --gap-factor × the logging interval (--interval, else the median "
    "interval) is a gap: the reading before it holds for one interval and the rest is unknown "
    "time, listed under gaps and never taken as in range. Readings out of time order, two "
    "values for one time, a time without a UTC offset or a temperature outside −200…150 °C are "
    "refused naming the row; a row repeating the one before it exactly is counted once with a "
    "warning."
)
MKT_HELP = "\n\n".join(
    (
        "Mean kinetic temperature of a logger file (USP <1079.2>), weighted by duration.",
        f"MKT = (ΔH/R) / −ln(Σ wᵢ·exp(−ΔH/(R·Tᵢ)) / Σ wᵢ), R = {GAS_CONSTANT_J_PER_MOL_K} "
        "J/(mol·K), T in kelvin, wᵢ the time each reading stands for. The arithmetic mean is "
        "duration-weighted too; 'hours' is the total duration, the last reading's hold "
        "included, without unknown time.",
        READINGS_HELP,
    )
)
EXCURSIONS_HELP = "\n\n".join(
    (
        "Excursions outside a temperature range, degree-minutes and the stability budget.",
        "The limits are inside the range (8.0 °C is in 2–8 °C). A reading outside the range "
        "starts an excursion at its time, lasting until the next reading inside it: end = start "
        "+ duration. Degree-minutes = Σ distance outside the range (T − HIGH above, LOW − T "
        "below) × minutes held. A gap ends an excursion and is flagged on it.",
        "--budget-hours H: the time allowed outside the range. Unknown time (gaps) is counted "
        "as out of range for the budget (the conservative reading): consumed_h = out_of_range_h "
        "+ unknown_h; the disposition is 'usable' while remaining_h ≥ 0, else 'reject'.",
        READINGS_HELP,
    )
)


def _delta_h(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise LoggerFileError("--delta-h must be a positive number of kJ/mol")
    return value


def _judged_against(
    limits: str, budget_hours: float | None
) -> tuple[TemperatureRange, StabilityBudget | None]:
    try:
        label = TemperatureRange.parse(limits)
    except InvalidInput as refused:
        raise LoggerFileError(f"--range: {refused.detail}") from refused
    if budget_hours is None:
        return label, None
    if not (math.isfinite(budget_hours) and budget_hours >= 0):
        raise LoggerFileError("--budget-hours must be a number of hours ≥ 0")
    return label, StabilityBudget.out_of_range(label, budget_hours)


FileArgument = Annotated[
    Path, typer.Argument(help="CSV file: time, temperature_c or temperature_f, optional hours.")
]
DeltaH = Annotated[
    float, typer.Option("--delta-h", help="Activation energy ΔH in kJ/mol.", metavar="KJ_PER_MOL")
]
Interval = Annotated[
    float | None,
    typer.Option("--interval", help="The logger's interval in minutes (default: the median)."),
]
GapFactor = Annotated[
    float,
    typer.Option("--gap-factor", help="An interval longer than this × the interval is a gap."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command(help=MKT_HELP)
def mkt(
    file: FileArgument,
    delta_h: DeltaH = DEFAULT_DELTA_H_KJ_PER_MOL,
    interval: Interval = None,
    gap_factor: GapFactor = DEFAULT_GAP_FACTOR,
    as_json: AsJson = False,
) -> None:
    try:
        series, unit = load_series(file, interval_min=interval, gap_factor=gap_factor)
        summary = summarise(series, delta_h_kj_per_mol=_delta_h(delta_h))
    except LoggerFileError as error:
        _fail(str(error))
    if as_json:
        echo_json(mkt_json(summary, series, unit))
    else:
        _print_mkt(summary, series, unit)


@app.command(help=EXCURSIONS_HELP)
def excursions(
    file: FileArgument,
    limits: Annotated[
        str,
        typer.Option(
            "--range",
            help="The labelled range LOW,HIGH in °C, limits included (',25': not above 25 °C).",
            metavar="LOW,HIGH",
        ),
    ],
    budget_hours: Annotated[
        float | None,
        typer.Option(
            "--budget-hours", help="Time allowed outside the range, in hours.", metavar="H"
        ),
    ] = None,
    delta_h: DeltaH = DEFAULT_DELTA_H_KJ_PER_MOL,
    interval: Interval = None,
    gap_factor: GapFactor = DEFAULT_GAP_FACTOR,
    as_json: AsJson = False,
) -> None:
    try:
        label, budget = _judged_against(limits, budget_hours)
        series, unit = load_series(file, interval_min=interval, gap_factor=gap_factor)
        summary = summarise(series, delta_h_kj_per_mol=_delta_h(delta_h))
        report = find_excursions(series, label)
        assessment = None if budget is None else assess_budget(budget, [consume(budget, series)])
    except LoggerFileError as error:
        _fail(str(error))
    if as_json:
        echo_json(excursions_json(report, summary, series, unit, assessment))
        return
    _print_excursions(report, summary, series, unit)
    if assessment is not None:
        _print_budget(assessment)


@app.command("sweep")
@handle_errors
def sweep_command(
    acting_as: Annotated[
        str | None, typer.Option("--as", help="Run as this user (default: the system account).")
    ] = None,
) -> None:
    """Raise the alarms of sensors gone silent and escalate alarms nobody acknowledged in
    time (run it every minute from cron or a timer when no MQTT worker runs)."""
    import pharmaqms.schema  # noqa: F401 - every module's tables and workflows
    from pharmaqms.kernel.uow import unit_of_work
    from pharmaqms.lifecycle.distribution.live import sweep

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        silent, escalated = sweep(session, actor=actor)
        lines = [f"sensors silent: {len(silent)}, alarms escalated: {len(escalated)}"]
        lines += [f"  {a.number}: {a.kind} at {a.place_code}" for a in (*silent, *escalated)]
    for line in lines:
        _console.print(line, highlight=False)
