"""``pharmaqms validation matrix / report`` and the ``/compliance/validation`` page, from a
small hand-written JUnit XML; a missing or garbled results file is one line and exit code 2."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from tests.compliance.validation_steps import SMALL_RUN, write
from tests.web.conftest import UiClient
from typer.testing import CliRunner

from pharmaqms.cli.main import app as cli
from pharmaqms.kernel.settings import reset_settings_cache

pytestmark = pytest.mark.clause("annex11:4")


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["validation", *args], catch_exceptions=False)


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The var directory where ``make test`` leaves its results, for this test only."""
    monkeypatch.setenv("PHARMAQMS_VAR_DIR", str(tmp_path))
    reset_settings_cache()
    yield tmp_path
    monkeypatch.undo()
    reset_settings_cache()


def test_the_report_command_writes_the_pdf_from_the_last_run(var_dir: Path) -> None:
    write(var_dir, SMALL_RUN)
    out = var_dir / "evidence.pdf"
    done = _run("report", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert done.output == f"validation report written to {out} (40 clauses not shown)\n"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "annex11:7 - Data storage and backups [GAP]" in " ".join(text.split())
    again = _run("report", "--out", str(out))
    assert again.exit_code == 2
    assert again.stderr == f"error: {out} exists already: choose a new file\n"


def test_the_matrix_command_prints_the_matrix_or_its_json(tmp_path: Path) -> None:
    results = write(tmp_path, SMALL_RUN, "run.xml")
    table = _run("matrix", "--results", str(results))
    assert table.exit_code == 0, table.output
    assert "21 CFR Part 11: 1 of 16 clauses shown (6 %), 1 failing, 14 gaps" in table.output
    as_json = _run("matrix", "--results", str(results), "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert {c["clause"]: c["status"] for c in data["clauses"]}["part11:11.10(d)"] == "failing"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no test results at {path}: run `make test` first"),
        ("<testsuites><testsuite", "{path} is not a readable JUnit XML file: "),
        ("<coverage />", "{path} is not a JUnit XML report: its root is <coverage>"),
    ],
)
@pytest.mark.parametrize("command", [["report", "--out", "x.pdf"], ["matrix", "--json"]])
def test_a_missing_or_garbled_results_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, says: str, command: list[str]
) -> None:
    path = tmp_path / "results.xml"
    if content is not None:
        path.write_text(content)
    command = [c if c != "x.pdf" else str(tmp_path / "x.pdf") for c in command]
    done = _run(*command, "--results", str(path))
    assert done.exit_code == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: " + says.format(path=path))
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "x.pdf").exists()


@pytest.fixture
def reader(app: Any) -> UiClient:
    client = UiClient(app)
    assert client.login("auditor").status_code == 303
    return client


def test_the_page_shows_coverage_per_regulation_and_the_gaps_in_red(
    var_dir: Path, reader: UiClient
) -> None:
    write(var_dir, SMALL_RUN)
    page = reader.get("/compliance/validation")
    assert page.status_code == 200
    html = page.text
    assert "Test run of 2026-12-01 10:00 UTC" in html
    assert 'aria-label="6 % shown"' in html  # Part 11's bar
    assert (
        '<tr data-clause="part11:11.10(d)" data-status="failing" class="clause-not-shown">' in html
    )
    assert '<tr data-clause="annex11:7" data-status="gap" class="clause-not-shown">' in html
    assert '<tr data-clause="part11:11.10(e)" data-status="shown">' in html
    assert "<code>tests/web/test_access.py::test_tokens</code> failed" in html


def test_the_page_without_results_says_why_and_shows_every_clause_as_a_gap(
    var_dir: Path, reader: UiClient
) -> None:
    html = reader.get("/compliance/validation").text
    assert f"no test results at {var_dir / 'test-results.xml'}" in html
    assert 'data-status="shown"' not in html
    assert html.count('data-status="gap"') == 42
