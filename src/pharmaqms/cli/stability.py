"""``pharmaqms stability``: ICH Q1E shelf life from a CSV of stability results.

    pharmaqms stability shelf-life FILE.csv --attribute NAME [--lower L] [--upper U] [--json]

The CSV has the columns ``batch``, ``months`` and ``value``, and optionally ``attribute``: when
present only the rows of ``--attribute`` are used. ``--json`` prints the contract analysts build
on::

    {"shelf_life_months": 24, "estimated_months": 31.2, "extrapolation_limit_months": 36.0,
     "long_term_months": 24.0, "pooling": "pooled" | "common_slope" | "separate",
     "p_slopes": 0.61, "p_intercepts": 0.48, "limiting_batch": "B3" | null,
     "bound": "lower" | "upper" | "two-sided", "lower": 95.0, "upper": null,
     "batches": {"B1": {"slope": -0.15, "intercept": 100.1, "n": 7, "estimated_months": 31.2}}}

A request the method can't answer (fewer than 3 time points in a batch, no specification
limit, a cell that is not a number) is refused in one line with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import typer

from pharmaqms.cli.common import fail
from pharmaqms.lifecycle.rnd.stability.q1e import (
    Observation,
    ShelfLife,
    ShelfLifeRefused,
    estimate_shelf_life,
)

app = typer.Typer(help="Stability: ICH Q1E shelf-life estimates.", no_args_is_help=True)

MAX_BYTES = 20 * 1024 * 1024
REQUIRED = ("batch", "months", "value")


@app.callback()
def stability() -> None:
    """Stability studies and shelf life (ICH Q1A(R2), Q1E)."""


def read_results(path: Path, attribute: str) -> list[Observation]:
    """The rows of ``attribute`` (all rows when the file has no ``attribute`` column)."""
    if not path.is_file():
        raise ShelfLifeRefused(f"no such file: {path}")
    if path.stat().st_size > MAX_BYTES:
        raise ShelfLifeRefused(f"{path} is over {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ShelfLifeRefused(f"{path} is not UTF-8 text") from err
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ShelfLifeRefused(f"{path}: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    filtered = "attribute" in header
    found: list[Observation] = []
    for line, row in enumerate(reader, start=2):
        if filtered and (row.get("attribute") or "").strip() != attribute:
            continue
        batch = (row.get("batch") or "").strip()
        if not batch:
            raise ShelfLifeRefused(f"line {line}: no batch")
        numbers: list[float] = []
        for column in ("months", "value"):
            cell = (row.get(column) or "").strip()
            try:
                number = float(cell)
            except ValueError:
                raise ShelfLifeRefused(f"line {line}: {column} {cell!r} is not a number") from None
            if not math.isfinite(number):
                raise ShelfLifeRefused(f"line {line}: {column} {cell!r} is not a finite number")
            numbers.append(number)
        found.append(Observation(batch, numbers[0], numbers[1]))
    if not found:
        where = f" for attribute {attribute!r}" if filtered else ""
        raise ShelfLifeRefused(f"{path}: no results{where}")
    return found


def _summary(attribute: str, result: ShelfLife) -> str:
    estimate = (
        "the bound does not meet the limit"
        if result.estimated_months is None
        else f"estimate {result.estimated_months:.1f} months"
    )
    lines = [
        f"{attribute}: shelf life {result.shelf_life_months} months "
        f"({estimate}; Q1E extrapolation limit {result.extrapolation_limit_months:g} months "
        f"from {result.long_term_months:g} months of data)",
        f"pooling: {result.pooling.value}"
        + (f" (p slopes {result.p_slopes:.3f}" if result.p_slopes is not None else "")
        + (f", p intercepts {result.p_intercepts:.3f}" if result.p_intercepts is not None else "")
        + (")" if result.p_slopes is not None else ""),
    ]
    if result.limiting_batch:
        lines.append(f"limiting batch: {result.limiting_batch}")
    for name, fit in result.batches.items():
        when = "—" if fit.estimated_months is None else f"{fit.estimated_months:.1f}"
        lines.append(
            f"  {name}: slope {fit.slope:+.4g}/month, intercept {fit.intercept:.4g}, "
            f"n {fit.n}, bound meets limit at {when} months"
        )
    return "\n".join(lines)


@app.command("shelf-life")
def shelf_life(
    file: Path = typer.Argument(..., help="CSV with batch, months, value [, attribute]."),
    attribute: str = typer.Option(..., "--attribute", help="The attribute evaluated."),
    lower: float | None = typer.Option(None, "--lower", help="Lower specification limit."),
    upper: float | None = typer.Option(None, "--upper", help="Upper specification limit."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Estimate the shelf life of one attribute per ICH Q1E (pooling at 0.25, the 95 %
    confidence bound of the mean against the specification, Q1E's extrapolation limit)."""
    try:
        result = estimate_shelf_life(read_results(file, attribute), lower=lower, upper=upper)
    except ShelfLifeRefused as err:
        fail(str(err))
    if as_json:
        typer.echo(json.dumps({"attribute": attribute, **result.as_json()}, indent=2))
    else:
        typer.echo(_summary(attribute, result))
