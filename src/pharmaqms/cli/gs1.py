"""``pharmaqms gs1``: read what a barcode scanner sends, or what a person types off a label."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pharmaqms.platform.gs1 import GS1Data, GS1Error, parse_gs1

app = typer.Typer(
    help="GS1 barcodes: element strings, (AI) human-readable text and Digital Link URIs.",
    no_args_is_help=True,
)


# Without a callback Typer would make the only command the group itself (``pharmaqms gs1
# TEXT``), and adding a second command later would change the command line under users' feet.
@app.callback()
def gs1() -> None:
    """GS1 barcodes: element strings, (AI) human-readable text and Digital Link URIs."""


def _table(data: GS1Data) -> Table:
    table = Table(title="GS1 data", show_header=True)
    table.add_column("Field")
    table.add_column("Value", overflow="fold")
    rows = [
        ("GTIN", data.gtin),
        ("Lot", data.lot),
        ("Expiry", data.expiry.isoformat() if data.expiry else None),
        ("Serial", data.serial),
        ("SSCC", data.sscc),
    ]
    if data.production_date:
        rows.append(("Production date", data.production_date.isoformat()))
    shown = {"01", "10", "17", "21", "00", "11"}
    others = " ".join(f"({code}){value}" for code, value in data.ais if code not in shown)
    if others:
        rows.append(("Other AIs", others))
    if data.symbology:
        rows.append(("Symbology", f"{data.symbology.value} ({data.symbology.name})"))
    rows.append(("Read as", data.form.value))
    for name, value in rows:
        # Text, not str: a lot such as "[b]" is data, not Rich markup.
        table.add_row(name, Text(value if value is not None else "—"))
    return table


@app.command()
def parse(
    text: Annotated[
        str,
        typer.Argument(
            help="What the scanner sent: ']d2010…17…10…<GS>21…', '(01)…(17)…' or a "
            "Digital Link URI. The separator may be typed as <GS> or \\u001d."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Parse GS1 data and show GTIN, lot, expiry, serial and SSCC."""
    try:
        data = parse_gs1(text)
    except GS1Error as error:
        # One line naming the rule; plain echo so that brackets in the input stay literal.
        typer.echo(f"error: {error.code}: {error.message}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(data.as_dict(), ensure_ascii=False, indent=2))
        return
    Console(highlight=False).print(_table(data))
