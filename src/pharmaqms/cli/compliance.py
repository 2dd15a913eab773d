"""``pharmaqms compliance``: the regulations register as a file, and the annual product
quality reviews.

    pharmaqms compliance seed [--as USER]
    pharmaqms compliance import FILE [--as USER]
    pharmaqms compliance export --out FILE
    pharmaqms compliance apqr-register
    pharmaqms compliance apqr-generate PRODUCT YEAR --as USER
    pharmaqms compliance apqr-pdf APQR-… --out FILE
    pharmaqms compliance config-check
    pharmaqms compliance sandbox-copy CFG-… --to URL [--as USER]
    pharmaqms compliance sandbox-evidence COPY --from URL [--as USER]
    pharmaqms compliance sandbox-remove COPY --from URL [--as USER]

``import`` reads and checks the whole file before writing anything; a refused file names the
line or the field at fault and changes nothing. A regulation code that comes with a new
edition supersedes the one in force and opens QA's impact assessment task."""

from __future__ import annotations

from pathlib import Path

import typer

from pharmaqms.cli.common import cli_actor, fail, handle_errors, progress_bar
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


@app.command("sandbox-copy")
@handle_errors
def sandbox_copy(
    number: str = typer.Argument(..., help="The configuration draft to try, e.g. CFG-2026-0007."),
    to: str = typer.Option(..., "--to", help="URL of a new, empty database for the copy."),
    acting_as: str | None = typer.Option(None, "--as", help="The person making the copy."),
) -> None:
    """Copy the database into a new one where NUMBER is in force, to try it before approval.

    Serve the copy with PHARMAQMS_DATABASE_URL set to its URL: every page says it is a
    sandbox, and e-mail, EPCIS deliveries and the MQTT ingest are held back there. Then
    read it back with sandbox-evidence; the draft's test run cites what was done."""
    from pharmaqms.compliance.configuration import sandbox_copy as copies
    from pharmaqms.kernel.db import get_database

    actor = cli_actor(acting_as)
    with progress_bar() as progress:
        task = progress.add_task("copying", total=None)
        made = copies.make_copy(
            get_database(),
            actor=actor,
            number=number,
            target_url=to,
            progress=lambda _t, n: progress.advance(task, n),
        )
    typer.echo(
        f"sandbox copy #{made.id} of the database made in {made.target}: {number} is in force "
        "there (and only there)"
    )
    typer.echo(f"serve it with: PHARMAQMS_DATABASE_URL='{made.target}' pharmaqms serve")


@app.command("sandbox-evidence")
@handle_errors
def sandbox_evidence(
    copy_id: int = typer.Argument(..., help="The sandbox copy's number in the register."),
    source: str = typer.Option(..., "--from", help="URL of the sandbox copy."),
    acting_as: str | None = typer.Option(None, "--as", help="The person reading it back."),
) -> None:
    """Read a sandbox copy back: its trail verified, what was done in it, what ran under the
    draft. Kept in the live database as the draft's test evidence."""
    from pharmaqms.compliance.configuration import sandbox_evidence
    from pharmaqms.kernel.db import get_database

    actor = cli_actor(acting_as)
    evidence = sandbox_evidence.collect_evidence(
        get_database(), actor=actor, copy_id=copy_id, copy_url=source
    )
    for line in evidence.findings:
        typer.echo(line)
    if not evidence.trail_intact:
        raise typer.Exit(1)


@app.command("sandbox-remove")
@handle_errors
def sandbox_remove(
    copy_id: int = typer.Argument(..., help="The sandbox copy's number in the register."),
    source: str = typer.Option(..., "--from", help="URL of the sandbox copy."),
    acting_as: str | None = typer.Option(None, "--as", help="The person removing it."),
) -> None:
    """Remove a sandbox copy (drop its database, or delete its file and key file) and record
    that in the register: the copies of GxP data made for testing are accounted for."""
    from pharmaqms.compliance.configuration import sandbox_removal
    from pharmaqms.kernel.db import get_database

    actor = cli_actor(acting_as)
    removed = sandbox_removal.remove_copy(
        get_database(), actor=actor, copy_id=copy_id, copy_url=source
    )
    typer.echo(f"sandbox copy #{copy_id} removed: {removed.how}")


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
