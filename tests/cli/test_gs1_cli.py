"""``pharmaqms gs1 parse``."""

import json

import pytest
from typer.testing import CliRunner

from pharmaqms.cli.gs1 import app

runner = CliRunner()
GTIN = "09506000134352"
PACK = {
    "gtin": GTIN,
    "lot": "ABC123",
    "expiry": "2026-12-31",
    "serial": "SN0001",
    "sscc": None,
    "production_date": None,
    "ais": [["01", GTIN], ["17", "261231"], ["10", "ABC123"], ["21", "SN0001"]],
    "symbology": "]d2",
    "form": "element_string",
}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["parse", *args])
    return result.exit_code, result.stdout, result.stderr


def cell(stdout: str, field: str) -> str:
    """The value column of the table row named ``field``."""
    for line in stdout.splitlines():
        parts = [part.strip() for part in line.split("│")]
        if len(parts) == 4 and parts[1] == field:
            return parts[2]
    raise AssertionError(f"no row {field!r} in:\n{stdout}")


def test_table_shows_gtin_lot_expiry_serial_and_sscc() -> None:
    code, stdout, stderr = run(f"]d201{GTIN}17261231" + "10ABC123\x1d21SN0001")
    assert (code, stderr) == (0, "")
    assert [cell(stdout, f) for f in ("GTIN", "Lot", "Expiry", "Serial", "SSCC")] == [
        GTIN,
        "ABC123",
        "2026-12-31",
        "SN0001",
        "—",
    ]
    assert cell(stdout, "Symbology") == "]d2 (GS1_DATAMATRIX)"


def test_table_of_a_pallet_label_with_other_ais() -> None:
    code, stdout, _ = run("(00)106141412345678908(02)09506000134352(37)25")
    assert code == 0
    assert cell(stdout, "SSCC") == "106141412345678908"
    assert cell(stdout, "GTIN") == "—"
    assert cell(stdout, "Other AIs") == "(02)09506000134352 (37)25"


@pytest.mark.parametrize("separator", ["\x1d", "<GS>", "\\u001d"], ids=["GS", "<GS>", "\\u001d"])
def test_json_output_with_each_separator_spelling(separator: str) -> None:
    code, stdout, stderr = run(f"]d201{GTIN}17261231" + f"10ABC123{separator}21SN0001", "--json")
    assert (code, stderr) == (0, "")
    assert json.loads(stdout) == PACK


def test_json_output_of_a_digital_link() -> None:
    code, stdout, _ = run(f"https://id.gs1.org/01/{GTIN}/10/ABC123/21/SN0001?17=261231", "--json")
    assert code == 0
    assert json.loads(stdout) == {
        **PACK,
        "ais": [["01", GTIN], ["10", "ABC123"], ["21", "SN0001"], ["17", "261231"]],
        "symbology": None,
        "form": "digital_link",
    }


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            f"(01){GTIN[:-1]}3(10)L1",
            "error: bad_check_digit: AI (01): Invalid GTIN check digit for "
            "'09506000134353': Expected 2, got 3.",
        ),
        (f"(01){GTIN}(17)261331", "error: impossible_date: month 13 in date 261331"),
        (f"(01){GTIN}(23)1", "error: unknown_ai: AI (23) is not a GS1 application identifier"),
        (
            f"(01){GTIN}(10){'L' * 21}",
            "error: field_too_long: AI (10) allows at most 20 characters, got 21",
        ),
        (
            f"https://id.gs1.org/01/{GTIN}/21/S1/10/L1",
            "error: dl_qualifier_order: key qualifiers of (01) must come in the order "
            "22 → 10 → 21; (10) is late",
        ),
        ("   ", "error: empty: nothing to parse"),
        ("hello", "error: unparseable: not GS1 data (expected an AI, URI or HRI): 'hello'"),
    ],
)
def test_a_refusal_is_one_line_on_stderr_with_exit_code_2(text: str, line: str) -> None:
    code, stdout, stderr = run(text)
    assert (code, stdout, stderr) == (2, "", line + "\n")


def test_a_refusal_is_also_a_refusal_with_json() -> None:
    code, stdout, stderr = run(f"(01){GTIN}(23)1", "--json")
    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: unknown_ai: ")


def test_markup_like_input_is_shown_literally_in_the_error() -> None:
    code, _, stderr = run(f"(01){GTIN}(10)[b]x")
    assert code == 2
    assert stderr == "error: invalid_field: AI (10) value '[b]x' does not match N2+X..20\n"


def test_gs1_is_a_command_group() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2  # no_args_is_help: usage, then exit 2 (Click's convention)
    assert "parse" in result.output
