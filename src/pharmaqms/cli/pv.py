"""``pharmaqms pv``: pharmacovigilance cases from the command line.

    pharmaqms pv export-e2b CASE --out FILE.xml [--receiver ID] [--as USER]
    pharmaqms pv psur PRODUCT --from DATE --to DATE --out FILE.pdf [--as USER]
    pharmaqms pv load-meddra DIR [--version 27.0] [--as USER]

CASE is the case number (PV-2026-0001) or the sender's report id the case was received with
(an openFDA safetyreportid, an E2B worldwide case id). A case that can't be exported (unknown,
not valid, not carried whole by the message) exits 2 with the reasons and writes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from pharmaqms.cli.common import cli_actor, err_console, fail, handle_errors
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import export as case_export
from pharmaqms.lifecycle.use.cases import meddra
from pharmaqms.lifecycle.use.psur import service as psur_service

app = typer.Typer(help="Pharmacovigilance cases.", no_args_is_help=True)


@app.command("load-meddra")
@handle_errors
def load_meddra(
    directory: Path = typer.Argument(..., help="The release's MedAscii directory."),
    version: str | None = typer.Option(
        None, "--version", help="The MedDRA version, when meddra_release.asc is not given."
    ),
    acting_as: str | None = typer.Option(None, "--as", help="The person loading it."),
) -> None:
    """Load the organisation's licensed MedDRA release (llt.asc, pt.asc, and mdhier.asc or
    hlt_pt/hlgt_hlt/soc_hlgt/soc.asc); events are coded against the latest loaded."""
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        release = meddra.load_release(session, actor=actor, directory=directory, version=version)
        line = f"MedDRA {release.version} loaded: {release.llt_count} LLTs, {release.pt_count} PTs"
    typer.echo(line)


@app.command("export-e2b")
@handle_errors
def export_e2b(
    case: str = typer.Argument(..., help="The case number, or the sender's report id."),
    out: Path = typer.Option(..., "--out", help="The E2B(R3) XML file to write."),
    receiver: str = typer.Option(
        case_export.DEFAULT_RECEIVER, "--receiver", help="The receiver's id (N.1.4, N.2.r.3)."
    ),
    acting_as: str | None = typer.Option(None, "--as", help="The person exporting."),
) -> None:
    """Export a case (its latest version) as an ICH E2B(R3) ICSR batch; the export is audited.

    With PHARMAQMS_E2B_XSD_DIR set, the message must also pass the ICH schema."""
    if out.exists():
        fail(f"{out} exists already: choose a new file")
    actor = cli_actor(acting_as)
    written = False
    try:
        with unit_of_work() as session:
            result = case_export.export_case(
                session,
                actor=actor,
                reference=case,
                receiver=receiver,
                xsd_dir=get_settings().e2b_xsd_dir,
            )
            # Written inside the transaction: a file that can't be written leaves no audit
            # entry claiming an export.
            out.write_bytes(result.xml)
            written = True
    except BaseException:
        if written:  # the audit entry did not commit: no file without its record
            out.unlink(missing_ok=True)
        raise
    for warning in result.warnings:
        err_console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    typer.echo(
        f"exported {result.number} version {result.case_version} "
        f"as {result.safety_report_id} to {out}"
    )


@app.command("psur")
@handle_errors
def psur(
    product: str = typer.Argument(..., help="The product: its name in the cases, or its code."),
    start: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%d"], help="First day of the interval (included)."
    ),
    end: datetime = typer.Option(
        ..., "--to", formats=["%Y-%m-%d"], help="Last day of the interval (included)."
    ),
    out: Path = typer.Option(..., "--out", help="The PDF file to write."),
    acting_as: str | None = typer.Option(None, "--as", help="The person reading."),
) -> None:
    """Write the periodic safety summary of a product for a period as an unsigned draft PDF
    (watermarked). The signed report is made on the page or through the API by the QPPV."""
    if out.exists():
        fail(f"{out} exists already: choose a new file")
    actor = cli_actor(acting_as)
    actor.require("records.read", "read periodic safety summaries")
    with unit_of_work(write=False) as session:
        made = psur_service.summary(session, product, start.date(), end.date())
        content = psur_service.draft_pdf(session, product, start.date(), end.date())
    out.write_bytes(content)
    totals = made.figures["totals"]
    typer.echo(
        f"{made.figures['product']}: {totals['interval']['cases']} cases in the interval, "
        f"{totals['cumulative']['cases']} cumulative; draft written to {out}"
    )
