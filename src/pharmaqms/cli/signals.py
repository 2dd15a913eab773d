"""``pharmaqms signals``: disproportionality figures for pharmacovigilance analysts.

    pharmaqms signals table A B C D [--prior A1,B1,A2,B2,P] [--json]
    pharmaqms signals scan FILE|DIR|ZIP [--methods prr,ror,ic,ebgm] [--min-count N]
                           [--concomitant] [--encoding latin-1] [--json]

No database: the figures come from the numbers or the file given. JSON prints null for a
figure that is undefined for the table (never NaN or Infinity)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from pharmaqms.cli.common import console, err_console, fail
from pharmaqms.kernel.errors import QMSError
from pharmaqms.lifecycle.use.signals import (
    GammaMixturePrior,
    ScanResult,
    SignalInputError,
    Thresholds,
    parse_methods,
    read_source,
    scan,
    score_table,
)
from pharmaqms.lifecycle.use.signals.counts import STRATA

app = typer.Typer(
    help="Pharmacovigilance signal detection: PRR, ROR, BCPNN IC and MGPS EBGM.",
    no_args_is_help=True,
)

TABLE_HELP = "\n\n".join(
    (
        "The figures of one drug–event 2×2 table of report counts: a = drug and event, "
        "b = drug and other events, c = other drugs and event, d = the rest.",
        "PRR with its 95 % CI, Pearson's χ² (no continuity correction), ROR with its 95 % CI, "
        "E = (a+b)(a+c)/N, IC and IC025 (Norén's shrinkage, exact gamma quantile) and, with "
        "--prior, EBGM, EB05 and EB95 under DuMouchel's two-gamma prior.",
    )
)
SCAN_HELP = "\n\n".join(
    (
        "Score every drug–event pair of FILE: a CSV of report_id,drug,event rows (optionally "
        "age, sex, year), an openFDA drug/event JSON export, or a FAERS quarterly ASCII "
        "extract (its ZIP or the unpacked directory; latest version of each case, deleted "
        "cases out, suspect drugs unless --concomitant).",
        "Counts are of reports. Signals: PRR ≥ 2, χ² ≥ 4, a ≥ 3 (Evans); ROR_lo95 > 1, a ≥ 3; "
        "IC025 > 0; EB05 ≥ 2. The MGPS prior is fitted by maximum likelihood unless --prior "
        "gives it.",
    )
)


def _count(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        fail(f"{name} must be a whole number of reports, got {text!r}")
    if value < 0:
        fail(f"{name} cannot be negative, got {value}")
    return value


def _prior(text: str | None) -> GammaMixturePrior | None:
    if text is None:
        return None
    try:
        return GammaMixturePrior.parse(text)
    except SignalInputError as error:
        fail(f"--prior: {error.detail}")


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e6 else f"{value:.4e}"
    return str(value)


@app.command(help=TABLE_HELP)
def table(
    a: Annotated[str, typer.Argument(help="Reports naming the drug and the event.")],
    b: Annotated[str, typer.Argument(help="Reports naming the drug, not the event.")],
    c: Annotated[str, typer.Argument(help="Reports naming the event, not the drug.")],
    d: Annotated[str, typer.Argument(help="Reports naming neither.")],
    prior: Annotated[
        str | None,
        typer.Option("--prior", help="MGPS prior A1,B1,A2,B2,P: adds EBGM, EB05, EB95."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    cells = [_count(value, name) for value, name in ((a, "A"), (b, "B"), (c, "C"), (d, "D"))]
    if sum(cells) == 0:
        fail("N = A + B + C + D is 0: there is no report to compare")
    figures = score_table(*cells, prior=_prior(prior))
    if as_json:
        typer.echo(json.dumps({k: _json_number(v) for k, v in figures.items()}, indent=2))
        return
    grid = Table(title="2×2 table (reports)")
    for heading in ("", "event", "other events", "total"):
        grid.add_column(heading, justify="right")
    n_a, n_b, n_c, n_d = cells
    grid.add_row("drug", _text(n_a), _text(n_b), _text(n_a + n_b))
    grid.add_row("other drugs", _text(n_c), _text(n_d), _text(n_c + n_d))
    grid.add_row("total", _text(n_a + n_c), _text(n_b + n_d), _text(sum(cells)))
    console.print(grid)
    result = Table(title="Disproportionality")
    result.add_column("figure")
    result.add_column("value", justify="right")
    for name, value in figures.items():
        if name not in ("a", "b", "c", "d", "N"):
            result.add_row(name, _text(value, 6))
    console.print(result)


def _strata(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in STRATA]
    if unknown:
        fail(f"--stratify: unknown {', '.join(unknown)}; choose from {', '.join(STRATA)}")
    return names


def scan_json(result: ScanResult) -> dict[str, Any]:
    """The scan as JSON: what was scored and how, then one object per pair."""
    fit = result.prior_fit
    rows = result.pairs.with_columns(pl.col(pl.Float64).fill_nan(None)).to_dicts()
    return {
        "reports": result.reports,
        "pairs_scored": result.pairs.height,
        "methods": [str(m) for m in result.methods],
        "stratified_by": list(result.stratified_by),
        "thresholds": result.thresholds.as_dict(),
        "prior": None
        if result.prior is None
        else dict(
            zip(("alpha1", "beta1", "alpha2", "beta2", "p"), result.prior.as_tuple(), strict=True)
        ),
        "prior_fitted": fit is not None,
        "prior_fit": None
        if fit is None
        else {
            "log_likelihood": fit.log_likelihood,
            "pairs": fit.pairs,
            "points": fit.points,
            "converged": fit.converged,
        },
        "pairs": [{k: _json_number(v) for k, v in row.items()} for row in rows],
    }


def _print_scan(result: ScanResult, top: int) -> None:
    signal_columns = [f"signal_{m}" for m in result.methods]
    flagged = result.pairs.filter(pl.any_horizontal(signal_columns))
    console.print(
        f"{result.reports:,} reports, {result.pairs.height:,} drug–event pairs scored, "
        f"{flagged.height:,} flagged by at least one method"
        + (
            f"; expected counts stratified by {', '.join(result.stratified_by)}"
            if result.stratified_by
            else ""
        ),
        highlight=False,
    )
    if result.prior is not None:
        origin = "fitted" if result.prior_fit is not None else "given"
        values = ", ".join(f"{v:.5g}" for v in result.prior.as_tuple())
        console.print(f"MGPS prior ({origin}) α1, β1, α2, β2, P = {values}", highlight=False)
    order = (
        "EB05"
        if "EB05" in result.pairs.columns
        else ("IC025" if "IC025" in result.pairs.columns else "a")
    )
    shown = flagged.sort(order, descending=True, nulls_last=True).head(top)
    grid = Table(title=f"Flagged pairs (top {min(top, flagged.height)} by {order})")
    headline = {"prr": "PRR", "ror": "ROR_lo95", "ic": "IC025", "ebgm": "EB05"}
    columns = ["drug", "event", "a", "E"] + [headline[m] for m in result.methods]
    for name in [*columns, "flagged by"]:
        grid.add_column(name, justify="left" if name in ("drug", "event") else "right")
    for row in shown.iter_rows(named=True):
        by = " ".join(m.value.upper() for m in result.methods if row[f"signal_{m}"])
        grid.add_row(*[_text(row[name]) for name in columns], by)
    console.print(grid)


@app.command("scan", help=SCAN_HELP)
def scan_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV of report_id,drug,event, openFDA JSON, or a FAERS ASCII ZIP or directory."
        ),
    ],
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated: prr, ror, ic, ebgm.")
    ] = "prr,ror,ic,ebgm",
    min_count: Annotated[
        int, typer.Option("--min-count", help="List only pairs with at least N reports.")
    ] = 1,
    stratify: Annotated[
        str | None,
        typer.Option("--stratify", help="Expected counts by stratum: any of age,sex,year."),
    ] = None,
    prior: Annotated[
        str | None, typer.Option("--prior", help="MGPS prior A1,B1,A2,B2,P instead of a fit.")
    ] = None,
    prr_min: Annotated[float, typer.Option("--prr-min", help="PRR signal threshold.")] = 2.0,
    chi2_min: Annotated[float, typer.Option("--chi2-min", help="χ² signal threshold.")] = 4.0,
    eb05_min: Annotated[float, typer.Option("--eb05-min", help="EB05 signal threshold.")] = 2.0,
    top: Annotated[int, typer.Option("--top", help="Flagged pairs shown in the table.")] = 50,
    concomitant: Annotated[
        bool,
        typer.Option(
            "--concomitant", help="FAERS: count concomitant (C) and interacting (I) drugs too."
        ),
    ] = False,
    encoding: Annotated[
        str, typer.Option("--encoding", help="FAERS text encoding: utf-8 or latin-1.")
    ] = "utf-8",
    as_json: Annotated[bool, typer.Option("--json", help="Print every pair as JSON.")] = False,
) -> None:
    if min_count < 1:
        fail("--min-count must be at least 1")
    if not (file.is_file() or file.is_dir()):
        fail(f"no such file: {file}")
    try:
        chosen = parse_methods(methods)
        source = read_source(file, concomitant=concomitant, encoding=encoding)
        result = scan(
            source.rows,
            methods=chosen,
            min_count=min_count,
            stratify_by=_strata(stratify),
            thresholds=Thresholds(prr_min=prr_min, chi2_min=chi2_min, eb05_min=eb05_min),
            prior=_prior(prior),
        )
    except QMSError as error:  # SignalInputError, or the JSON reader's DocumentRefused
        fail(error.detail)
    except (pl.exceptions.PolarsError, OSError) as error:
        fail(f"{file.name}: cannot read the rows: {str(error).splitlines()[0]}")
    # What reading left out is said, never dropped silently (on stderr: stdout may be JSON).
    for note in source.notes:
        err_console.print(f"{file.name}: {note}", highlight=False, markup=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(scan_json(result)))
    else:
        _print_scan(result, top)
