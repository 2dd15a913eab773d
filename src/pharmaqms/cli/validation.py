"""``pharmaqms validation``: the Part 11 / Annex 11 / ALCOA+ traceability matrix from the last
test run. Runs no test itself: it reads the JUnit XML ``make test`` wrote.

    pharmaqms validation matrix [--results FILE] [--json]
    pharmaqms validation report --out FILE.pdf [--results FILE]

A missing or garbled results file is refused with one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pharmaqms.cli.common import console, fail, handle_errors

if TYPE_CHECKING:
    from pharmaqms.compliance.validation.matrix import Matrix

app = typer.Typer(help="Validation evidence: the traceability matrix.", no_args_is_help=True)

RESULTS_HELP = "The JUnit XML of the test run (default: var/test-results.xml)."


def _matrix(results: Path | None) -> Matrix:
    from pharmaqms.compliance.validation.matrix import build_matrix
    from pharmaqms.compliance.validation.results import default_results_path, read_results

    return build_matrix(read_results(results if results is not None else default_results_path()))


@app.command("matrix")
@handle_errors
def show_matrix(
    results: Path | None = typer.Option(None, "--results", help=RESULTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the matrix as JSON."),
) -> None:
    """Print each clause, its status and its tests' results."""
    from rich.table import Table

    from pharmaqms.compliance.validation.pdf import run_line

    m = _matrix(results)
    if as_json:
        typer.echo(json.dumps(m.as_json(), indent=2, ensure_ascii=False))
        return
    typer.echo(run_line(m))
    for c in m.coverage():
        typer.echo(
            f"{c.title}: {c.shown} of {c.clauses} clauses shown ({c.percent} %), "
            f"{c.failing} failing, {c.gaps} gaps"
        )
    table = Table("Clause", "Status", "Passed", "Failed", "Skipped", "Title")
    for row in m.rows:
        outcomes = [t.outcome.value for t in row.tests]
        table.add_row(
            row.clause.id,
            row.status.value,
            str(outcomes.count("passed")),
            str(outcomes.count("failed")),
            str(outcomes.count("skipped")),
            row.clause.title,
        )
    console.print(table)


@app.command("report")
@handle_errors
def report(
    out: Path = typer.Option(..., "--out", help="The PDF to write."),
    results: Path | None = typer.Option(None, "--results", help=RESULTS_HELP),
) -> None:
    """Write the validation evidence report as a PDF."""
    from pharmaqms.compliance.validation.pdf import render_report

    if out.exists():
        fail(f"{out} exists already: choose a new file")
    m = _matrix(results)
    out.write_bytes(render_report(m))
    gaps = len(m.not_shown())
    typer.echo(f"validation report written to {out} ({gaps} clauses not shown)")
