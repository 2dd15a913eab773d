"""``pharmaqms rnd``: the lab notebook's custody commands.

    pharmaqms rnd export EXPERIMENT --entries 1,3 --out FILE.zip [--as USER]
    pharmaqms rnd verify FILE.zip [--public-key HEX] [--json]
    pharmaqms rnd public-key
    pharmaqms rnd check [--json]
    pharmaqms rnd rotate-master-key [--retire-old]
    pharmaqms rnd submission-generate KIND PRODUCT AUTHORITY --as USER
    pharmaqms rnd submission-pdf SUB-… --out FILE --as USER

EXPERIMENT is the experiment number (EXP-2026-0001) or its id; entries are numbered within
the experiment. ``verify`` needs neither the database nor the key file: it is what an inspector
runs on the bundle they were given. It exits 0 for a valid bundle and 1 otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import select

from pharmaqms.cli.common import cli_actor, fail, handle_errors
from pharmaqms.kernel.uow import unit_of_work

app = typer.Typer(
    help="R&D lab notebook (disclosure bundles and keys) and submission documents.",
    no_args_is_help=True,
)


def _entries(text: str) -> list[int]:
    try:
        found = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        fail(f"--entries {text!r}: entry numbers separated by commas, such as 1,3")
    if not found or any(n < 1 or n > 1_000_000 for n in found):
        fail("--entries names at least one entry number (1, 2, …)")
    return found


@app.command("export")
@handle_errors
def export(
    experiment: str = typer.Argument(..., help="The experiment number or id."),
    entries: str = typer.Option(..., "--entries", help="Entry numbers to disclose: 1,3"),
    out: Path = typer.Option(..., "--out", help="The zip file to write."),
    acting_as: str | None = typer.Option(None, "--as", help="The person disclosing."),
) -> None:
    """Write the inspector's bundle of the chosen entries (decrypted, with their hashes,
    signatures, the public key and a verification report). The export is audited."""
    from pharmaqms.lifecycle.rnd.eln import disclosure
    from pharmaqms.lifecycle.rnd.eln.models import Experiment

    if out.exists():
        fail(f"{out} exists already: choose a new file")
    seqs = _entries(entries)
    actor = cli_actor(acting_as)
    written = False
    try:
        with unit_of_work() as session:
            found = session.scalar(select(Experiment.id).where(Experiment.number == experiment))
            if found is None and experiment.isdecimal():
                found = int(experiment)
            if found is None:
                fail(f"no experiment {experiment}")
            bundle = disclosure.export_entries(
                session, actor=actor, experiment_id=found, entry_seqs=seqs
            )
            out.write_bytes(bundle.content)
            written = True
    except BaseException:
        if written:  # the audit entry did not commit: no bundle without its record
            out.unlink(missing_ok=True)
        raise
    withheld = f"; withheld {', '.join(bundle.withheld)}" if bundle.withheld else ""
    typer.echo(f"disclosed {', '.join(bundle.disclosed)}{withheld} → {out}")


@app.command("verify")
@handle_errors
def verify(
    bundle: Path = typer.Argument(..., help="The disclosure bundle (zip)."),
    public_key: str | None = typer.Option(
        None, "--public-key", help="The company's published Ed25519 key (hex) to check against."
    ),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON."),
) -> None:
    """Check a disclosure bundle offline: every disclosed entry's content and files hash to the
    signed SHA-256, and every signature verifies."""
    from pharmaqms.lifecycle.rnd.eln.disclosure import verify_bundle

    report = verify_bundle(bundle.read_bytes(), public_key)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.text(), nl=False)
    raise typer.Exit(0 if report.valid else 1)


@app.command("check")
@handle_errors
def check(as_json: bool = typer.Option(False, "--json", help="The findings as JSON.")) -> None:
    """Check every signed notebook entry in the database: its Ed25519 signature, that the key
    is this installation's, and that its decrypted content and files hash to what was signed.
    Exits 1 when an entry fails."""
    from pharmaqms.lifecycle.rnd.eln.reading import check_notebook

    with unit_of_work(write=False) as session:
        found = check_notebook(session)
    failed = [(number, c) for number, c in found if not c.intact]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "checked": len(found),
                    "intact": len(found) - len(failed),
                    "failed": [{"entry": n, "problems": c.problems} for n, c in failed],
                },
                indent=2,
            )
        )
    else:
        for number, result in failed:
            typer.echo(f"{number}: {'; '.join(result.problems)}")
        typer.echo(f"{len(found)} signed entries checked, {len(failed)} failed")
    raise typer.Exit(1 if failed else 0)


@app.command("public-key")
@handle_errors
def public_key() -> None:
    """The installation's Ed25519 public key(s) that sign notebook entries: publish them."""
    from pharmaqms.kernel.keys import RND_SIGNING, load_keyring
    from pharmaqms.lifecycle.rnd.eln.integrity import public_key_hex

    for key in load_keyring().keys.get(RND_SIGNING, []):
        typer.echo(f"{key.id} {public_key_hex(key)}")


@app.command("rotate-master-key")
@handle_errors
def rotate_master_key(
    retire_old: bool = typer.Option(
        False, "--retire-old", help="Then remove the master keys no data key needs any more."
    ),
) -> None:
    """Add a new master key to the key file and re-wrap every project's data key with it (the
    encrypted data is not touched). Renew the key file's custody copy afterwards."""
    from pharmaqms.kernel.keys import RND_MASTER, load_keyring, retire_key
    from pharmaqms.lifecycle.rnd.eln import vault

    actor = cli_actor(None)
    with unit_of_work() as session:
        rotation = vault.rotate_master_key(session, actor=actor)
    typer.echo(f"master key {rotation.new_key_id}: {rotation.rewrapped} data keys re-wrapped")
    if retire_old:
        keyring = load_keyring()
        with unit_of_work(write=False) as session:
            in_use = vault.keys_in_use(session)
        for key in keyring.keys.get(RND_MASTER, [])[:-1]:
            if key.id not in in_use:
                retire_key(keyring.path, RND_MASTER, key.id)
                typer.echo(f"retired master key {key.id}")


@app.command("submission-generate")
@handle_errors
def submission_generate(
    kind: str = typer.Argument(
        ..., help="stability_summary (3.2.P.8), process_development (3.2.P.2), batch_analyses"
    ),
    product: str = typer.Argument(..., help="The product code."),
    authority: str = typer.Argument(..., help="NMPA, FDA or EMA (named on the cover)."),
    acting_as: str | None = typer.Option(None, "--as", help="The person generating it."),
) -> None:
    """Generate a CTD Module 3 section from the data: content and PDF frozen (draft)."""
    from pharmaqms.lifecycle.rnd.submissions import service

    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        document = service.generate_document(
            session, actor=actor, kind=kind, product=product, authority=authority
        )
        label, digest = document.audit_label(), document.draft_pdf_sha256
    typer.echo(f"{label} generated (draft); PDF SHA-256 {digest}")


@app.command("submission-pdf")
@handle_errors
def submission_pdf(
    number: str = typer.Argument(..., help="The document's number (SUB-…)."),
    out: Path = typer.Option(..., "--out", help="The file to write."),
    acting_as: str | None = typer.Option(None, "--as", help="The person it is handed to."),
) -> None:
    """Write a submission document's PDF: as approved once approved, else as generated. The
    hand-out is recorded as an export."""
    from pharmaqms.lifecycle.rnd.submissions import service
    from pharmaqms.lifecycle.rnd.submissions.models import SubmissionDocument

    if out.exists():
        fail(f"{out} exists already: choose a new file")
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        found = session.scalars(
            select(SubmissionDocument).where(SubmissionDocument.number == number.strip())
        ).first()
        if found is None:
            fail(f"no submission document {number}")
        content, _ = service.hand_out_pdf(session, actor=actor, document_id=found.id)
        status = found.status
    out.write_bytes(content)
    typer.echo(f"{number} ({status}) written to {out}")
