"""``pharmaqms ingest``, ``pharmaqms export`` and ``pharmaqms sources …``: the data platform from
the command line, for the people who move files between systems by hand today.

``ingest`` exits 0 when the file was taken, even with rows quarantined (they are listed), and 2
with the reason on stderr when the whole document is refused — the refused delivery is still
recorded as an import run, so the refusal is on record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from pharmaqms.cli.common import cli_actor, console, echo_json, fail, handle_errors
from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import sources as pv_sources
from pharmaqms.platform.data import entities as _entities  # noqa: F401 - declares the entities
from pharmaqms.platform.data import quality, sources
from pharmaqms.platform.data.export import ExportFormat
from pharmaqms.platform.data.export import export as run_export
from pharmaqms.platform.data.query import ENTITIES, entity_named, parse_filter_arguments
from pharmaqms.platform.ingest import service as ingest_service
from pharmaqms.platform.ingest.models import DataSource, QuarantinedRow

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
sources_app = typer.Typer(help="Source systems and their mappings.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
SHOWN_QUARANTINE = 20


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _read(file: Path, limit: int) -> tuple[bytes, str | None]:
    """The file's bytes, or why they can't be read: a path that exists but is no readable
    file, or a file above the size limit, is a refused delivery (on record), not a traceback
    — and the size is known before anything is read into memory. A missing path stays an
    error."""
    try:
        if file.is_dir():
            return b"", f"{file.name} is a directory, not a file"
        size = file.stat().st_size
        if not file.is_file():
            # A FIFO or a device (/dev/zero) has no size to check and may never end.
            return b"", f"{file.name} is not a regular file"
        if size > limit:
            return b"", (
                f"{file.name} is {size:,} bytes; the limit is {limit:,} "
                "(PHARMAQMS_MAX_UPLOAD_BYTES)"
            )
        with file.open("rb") as handle:
            # Read one byte past the limit: a file that grew since stat() is still caught.
            content = handle.read(limit + 1)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        return b"", f"{file.name} is a directory, not a file"
    except OSError as err:
        return b"", f"{file.name} can't be read: {err.strerror or err}"
    if len(content) > limit:
        return b"", f"{file.name} is more than {limit:,} bytes (PHARMAQMS_MAX_UPLOAD_BYTES)"
    return content, None


@app.command()
@handle_errors
def ingest(
    source: str = typer.Argument(
        ..., help="The kind of source: lims, mes, epcis, faers, e2b, sensors or gs1."
    ),
    file: Path = typer.Argument(..., help="The file to deliver."),
    source_code: str | None = typer.Option(
        None, "--source-code", help="A registered source (with its mapping); default: the kind's."
    ),
    acting_as: str | None = typer.Option(None, "--as", help="The person delivering."),
) -> None:
    """Deliver a file: governance checks every row; bad rows are quarantined, the rest taken.

    Adverse-event reports (faers, e2b) become pharmacovigilance cases: the case numbers
    created or updated are printed."""
    if source == "e2b":
        _ingest_e2b(file, acting_as)
        return
    content, unreadable = _read(file, get_settings().max_upload_bytes)
    actor = cli_actor(acting_as)
    cases: pv_sources.ImportOutcome | None = None
    with _progress() as progress, unit_of_work() as session:
        task = progress.add_task(f"{source}: {file.name}", total=None)
        if unreadable is not None:
            run = ingest_service.refuse_delivery(
                session,
                actor=actor,
                kind=source,
                filename=file.name,
                reason=unreadable,
                source_code=source_code,
            )
        else:
            run = ingest_service.ingest(
                session,
                actor=actor,
                kind=source,
                content=content,
                filename=file.name,
                source_code=source_code,
                progress=lambda n: progress.advance(task, n),
            )
        session.flush()
        if source == "faers" and run.status != "refused":
            cases = pv_sources.import_platform_reports(session, actor=actor, run_id=run.id)
        number, status, reason = run.number, run.status, run.refused_reason
        counts = (
            run.rows_total,
            run.rows_accepted,
            run.rows_corrected,
            run.rows_duplicate,
            run.rows_quarantined,
        )
        held = [
            (q.position, "; ".join(r["message"] for r in q.reasons))
            for q in session.scalars(
                select(QuarantinedRow)
                .where(QuarantinedRow.run_id == run.id)
                .order_by(QuarantinedRow.id)
                .limit(SHOWN_QUARANTINE)
            )
        ]
    if status == "refused":
        fail(f"{file.name} refused ({number}): {reason}")
    table = Table(title=f"{number}: {file.name}")
    for heading in ("rows", "accepted", "corrected", "duplicate", "quarantined"):
        table.add_column(heading, justify="right")
    table.add_row(*(f"{n:,}" for n in counts))
    console.print(table)
    if held:
        listing = Table(title="Quarantined (fix and replay them on the source's page)")
        listing.add_column("where")
        listing.add_column("reasons")
        for position, reasons in held:
            listing.add_row(position, reasons)
        console.print(listing)
        if counts[4] > len(held):
            console.print(f"… and {counts[4] - len(held):,} more.")
    if cases is not None:
        _print_cases(cases)


def _print_cases(cases: pv_sources.ImportOutcome) -> None:
    """The contract of issue 11: one line per case, ``created PV-…`` or ``updated PV-…``."""
    for number in cases.created:
        typer.echo(f"created {number}")
    for number in cases.updated:
        typer.echo(f"updated {number}")
    for refusal in cases.refused:
        typer.echo(f"refused {refusal}")


def _ingest_e2b(file: Path, acting_as: str | None) -> None:
    """An E2B(R3) batch: each ICSR a case (new, or a follow-up of the case with the same
    sender's case id); a message that can't be taken is refused alone, with its reason."""
    actor = cli_actor(acting_as)
    content, unreadable = _read(file, get_settings().max_upload_bytes)
    if unreadable is not None:
        raise InvalidInput(unreadable, field="file")
    with unit_of_work() as session:
        cases = pv_sources.import_e2b(session, actor=actor, source=content)
    _print_cases(cases)


@app.command()
@handle_errors
def export(
    entity: str = typer.Argument(..., help="What to export, e.g. process-readings, lots."),
    out: Path = typer.Option(..., "--out", help="The file to write."),
    fmt: ExportFormat = typer.Option(ExportFormat.CSV, "--format", help="csv or parquet."),
    filters: list[str] = typer.Option(
        [], "--filter", help="name=value, repeatable (e.g. lot_number=T26-0101)."
    ),
    acting_as: str | None = typer.Option(None, "--as", help="The person exporting."),
) -> None:
    """Export an entity (with filters) to CSV or Parquet; the export is audited.

    `pharmaqms sources entities` lists the entities and their filters."""
    target = entity_named(entity)
    wanted = parse_filter_arguments(filters)
    if out.exists():
        fail(f"{out} exists already: choose a new file")
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        result = run_export(session, actor=actor, entity=target, filters=wanted, fmt=fmt, out=out)
    console.print(f"{result.rows:,} {target.title.lower()} written to {out} ({fmt.value}).")


@sources_app.command("list")
@handle_errors
def sources_list() -> None:
    """The registered sources."""
    table = Table()
    for heading in ("code", "kind", "name", "active"):
        table.add_column(heading)
    with unit_of_work(write=False) as session:
        for source in session.scalars(select(DataSource).order_by(DataSource.code)):
            table.add_row(source.code, source.kind, source.name, "yes" if source.active else "no")
    console.print(table)


@sources_app.command("register")
@handle_errors
def sources_register(
    code: str = typer.Argument(..., help="A short code, e.g. lims-leiden-qc."),
    kind: str = typer.Option(..., "--kind", help="lims, mes, epcis, faers, sensors or gs1."),
    name: str = typer.Option(..., "--name", help="What the system is, e.g. LabWare LIMS, Leiden."),
    mapping: Path | None = typer.Option(None, "--mapping", help="A JSON mapping file."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Register a source system with its column mapping (checked before it is stored)."""
    text = mapping.read_bytes() if mapping else b"{}"
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        sources.register(session, actor=actor, code=code, name=name, kind=kind, mapping=text)
    console.print(f"Source [bold]{code}[/] ({kind}) registered.")


@sources_app.command("quality")
@handle_errors
def sources_quality(
    code: str,
    days: int = typer.Option(30, help="The period: the last DAYS days."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Data-quality figures of a source: completeness, validity, timeliness, rejected."""
    end = clock.now() + timedelta(seconds=1)  # the end is exclusive: "now" included
    start = end - timedelta(days=days)
    with unit_of_work(write=False) as session:
        found = quality.figures(session, ingest_service.get_source(session, code), start, end)
    if as_json:
        echo_json(found.as_dict())
        return
    table = Table(title=f"{code}, {start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in _figure_rows(found):
        table.add_row(label, value)
    console.print(table)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


def _figure_rows(found: quality.QualityFigures) -> list[tuple[str, str]]:
    delay = found.median_delay_seconds
    return [
        ("deliveries", f"{found.deliveries:,}"),
        ("completeness", _percent(found.completeness)),
        ("validity", _percent(found.validity)),
        (
            "timeliness (median delay)",
            "—" if delay is None else str(timedelta(seconds=round(delay))),
        ),
        ("rejected", f"{found.rejected:,}"),
        ("open in quarantine", f"{found.open_quarantine:,}"),
    ]


@sources_app.command("entities")
def sources_entities() -> None:
    """What `pharmaqms export` and the API can serve, with each entity's filters."""
    table = Table()
    table.add_column("entity")
    table.add_column("filters")
    for name in sorted(ENTITIES):
        table.add_row(name, ", ".join(f.name for f in ENTITIES[name].filters))
    console.print(table)
