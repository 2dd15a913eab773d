"""``pharmaqms compliance``: the regulations register as a file, and the annual product
quality reviews.

    pharmaqms compliance seed [--as USER]
    pharmaqms compliance import FILE [--as USER]
    pharmaqms compliance export --out FILE
    pharmaqms compliance apqr-register
    pharmaqms compliance apqr-generate PRODUCT YEAR --as USER
    pharmaqms compliance apqr-pdf APQR-… --out FILE
    pharmaqms compliance config-check

``import`` reads and checks the whole file before writing anything; a refused file names the
line or the field at fault and changes nothing. A regulation code that comes with a new
edition supersedes the one in force and opens QA's impact assessment task."""

from __future__ import annotations

from pathlib import Path

import typer

from pharmaqms.cli.common import cli_actor, fail, handle_errors
from pharmaqms.kernel.uow import unit_of_work

app = typer.Typer(
    help="The regulations register (seed, import, export) and the annual product quality "
    "reviews (register, generate, PDF).",
    no_args_is_help=True,
)


def _report(outcome: object) -> None:
    from pharmaqms.compliance.service import ImportOutcome

    assert isinstance(outcome, ImportOutcome)
    typer.echo(
        f"added {len(outcome.added)}, superseded {len(outcome.superseded)}, "
        f"unchanged {len(outcome.unchanged)}"
    )
    for line in outcome.superseded:
        typer.echo(f"superseded {line}: impact assessment opened for QA")


@app.command("seed")
@handle_errors
def seed(acting_as: str | None = typer.Option(None, "--as", help="The person loading it.")) -> None:
    """Load the register that ships with pharmaqms (running it again changes nothing)."""
    from pharmaqms.compliance import service

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        outcome = service.seed(session, actor=actor)
    _report(outcome)


@app.command("import")
@handle_errors
def import_file(
    file: Path = typer.Argument(..., help="A register file, as export writes it."),
    acting_as: str | None = typer.Option(None, "--as", help="The person importing."),
) -> None:
    """Bring the register in line with FILE, or refuse the whole file."""
    from pharmaqms.compliance import fileformat, service

    entries = fileformat.parse_register(file.read_text(encoding="utf-8"))
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        outcome = service.import_register(session, actor=actor, entries=entries, source=file.name)
    _report(outcome)


@app.command("export")
@handle_errors
def export(out: Path = typer.Option(..., "--out", help="The file to write.")) -> None:
    """Write the regulations in force, in the format import reads."""
    from pharmaqms.compliance import fileformat, service

    if out.exists():
        fail(f"{out} exists already: choose a new file")
    with unit_of_work(write=False) as session:
        text = fileformat.dump_register(service.export_register(session))
    out.write_text(text, encoding="utf-8")
    typer.echo(f"register written to {out}")


@app.command("config-check")
@handle_errors
def config_check() -> None:
    """Check every configuration version in force against this code's checks (run it after
    each upgrade): exit status 1, with each version and its reasons, when one no longer
    passes; QA then drafts a corrected version under change control."""
    from pharmaqms.compliance.configuration import checks
    from pharmaqms.kernel.configuration import store

    with unit_of_work(write=False) as session:
        stale = checks.in_force_problems(session)
    for version in stale:
        typer.echo(f"{version.key} v{version.version_no}: no longer passes this code's checks")
        for problem in version.problems:
            typer.echo(f"  - {problem}")
    if stale:
        raise typer.Exit(1)
    typer.echo(f"{len(store.kinds())} configuration keys: every version in force passes")


@app.command("apqr-register")
@handle_errors
def apqr_register() -> None:
    """The annual product quality reviews due: product, year, due date, state, overdue."""
    from pharmaqms.compliance.apqr import service

    with unit_of_work(write=False) as session:
        rows = service.register(session)
    if not rows:
        typer.echo("no batches made yet: no product needs a review")
    for r in rows:
        flag = "  OVERDUE" if r.overdue else ""
        review = f" {r.review_number}" if r.review_number else ""
        typer.echo(f"{r.product_code} {r.year}: due {r.due_on}, {r.state}{review}{flag}")


@app.command("apqr-generate")
@handle_errors
def apqr_generate(
    product: str = typer.Argument(..., help="The product code."),
    year: int = typer.Argument(..., help="The calendar year reviewed."),
    acting_as: str | None = typer.Option(None, "--as", help="The QA person generating it."),
) -> None:
    """Gather the product's figures for the year and freeze them in a new edition (draft)."""
    from pharmaqms.compliance.apqr import service

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        review = service.generate_review(session, actor=actor, product=product, year=year)
        label, empty = (
            review.audit_label(),
            [s["title"] for s in review.figures["sections"] if s["empty"]],
        )
    typer.echo(f"{label} generated (draft)")
    if empty:
        typer.echo("sections without data: " + ", ".join(empty))


@app.command("apqr-pdf")
@handle_errors
def apqr_pdf(
    number: str = typer.Argument(..., help="The review's number (APQR-…)."),
    out: Path = typer.Option(..., "--out", help="The file to write."),
) -> None:
    """Write a review's PDF: as approved once effective, else a draft rendered now."""
    from sqlalchemy import select

    from pharmaqms.compliance.apqr import service
    from pharmaqms.compliance.apqr.models import ProductQualityReview

    if out.exists():
        fail(f"{out} exists already: choose a new file")
    with unit_of_work(write=False) as session:
        review = session.scalars(
            select(ProductQualityReview).where(ProductQualityReview.number == number.strip())
        ).first()
        if review is None:
            fail(f"no annual product quality review {number}")
        content, status = service.current_pdf(session, review), review.status
    out.write_bytes(content)
    typer.echo(f"{number} ({status}) written to {out}")
