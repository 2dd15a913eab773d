"""``pharmaqms manuals``: the operation manuals and institutional procedures shipped in
``docs/manuals/`` as controlled documents.

    pharmaqms manuals list
    pharmaqms manuals load [--as USER]

``load`` creates each new manual as a draft and opens a revision of each whose shipped text
changed, for the site to review and approve through document control; it reads and checks
every file first, and a file not in the expected form refuses the whole load."""

from __future__ import annotations

import typer

from pharmaqms.cli.common import cli_actor, handle_errors
from pharmaqms.kernel.uow import unit_of_work

app = typer.Typer(
    help="The shipped operation manuals and procedures as controlled documents.",
    no_args_is_help=True,
)


@app.command("list")
@handle_errors
def list_manuals() -> None:
    """Each shipped manual, its document number and whether the text in force is as shipped."""
    from pharmaqms.compliance.manuals import files, service

    manuals = files.read_all()
    with unit_of_work(write=False) as session:
        for manual, number, state in service.shipped_status(session, manuals):
            typer.echo(f"{manual.file:28} {number:14} {state} — {manual.title}")


@app.command("load")
@handle_errors
def load(acting_as: str | None = typer.Option(None, "--as", help="The author.")) -> None:
    """Load new manuals as drafts and open revisions of changed ones (loading twice changes
    nothing)."""
    from pharmaqms.compliance.manuals import files, service

    manuals = files.read_all()
    actor = cli_actor(acting_as)
    with unit_of_work() as session:
        loaded = service.load_manuals(session, manuals, actor=actor)
    for result in loaded:
        typer.echo(f"{result.number:14} {result.outcome:22} {result.manual.title}")
