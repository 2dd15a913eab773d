"""The validation report built from a small hand-written JUnit XML: pass, fail, skip and a
clause no test names (a gap), in the matrix, its JSON and the PDF (read back with pypdf)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from tests.compliance.validation_steps import SMALL_RUN, case, junit, write

from pharmaqms.compliance.validation.clauses import CLAUSES
from pharmaqms.compliance.validation.matrix import Status, build_matrix
from pharmaqms.compliance.validation.pdf import render_report
from pharmaqms.compliance.validation.results import (
    Outcome,
    ResultsRefused,
    parse_results,
    read_results,
)

pytestmark = pytest.mark.clause("annex11:4")


def _small_matrix(tmp_path: Path):  # type: ignore[no-untyped-def]
    return build_matrix(read_results(write(tmp_path, SMALL_RUN)))


def test_each_clause_is_shown_failing_or_a_gap_from_its_tests(tmp_path: Path) -> None:
    matrix = _small_matrix(tmp_path)
    status = {r.clause.id: r.status for r in matrix.rows}
    assert status["part11:11.10(e)"] is Status.SHOWN
    assert status["alcoa:attributable"] is Status.SHOWN
    assert status["part11:11.10(d)"] is Status.FAILING  # a pass beside it does not outweigh
    assert status["annex11:7"] is Status.GAP  # skipped only: no passing test
    assert status["part11:11.50"] is Status.GAP  # no test at all
    e = next(r for r in matrix.rows if r.clause.id == "part11:11.10(e)")
    assert [(t.nodeid, t.outcome) for t in e.tests] == [
        ("tests/kernel/test_audit_capture.py::test_who_when[postgresql]", Outcome.PASSED),
        ("tests/kernel/test_audit_capture.py::test_who_when[sqlite]", Outcome.PASSED),
    ]
    assert matrix.unknown_clauses == ("part11:11.99",)
    assert matrix.run_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_coverage_counts_per_regulation(tmp_path: Path) -> None:
    coverage = {c.key: c for c in _small_matrix(tmp_path).coverage()}
    part11 = coverage["part11"]
    assert (part11.clauses, part11.shown, part11.failing, part11.gaps) == (16, 1, 1, 14)
    assert part11.percent == 6
    annex11 = coverage["annex11"]
    assert (annex11.clauses, annex11.shown, annex11.failing, annex11.gaps) == (17, 0, 0, 17)
    alcoa = coverage["alcoa"]
    assert (alcoa.clauses, alcoa.shown, alcoa.gaps, alcoa.percent) == (9, 1, 8, 11)
    assert sum(c.clauses for c in coverage.values()) == len(CLAUSES)


def test_an_error_counts_as_a_failure() -> None:
    run = parse_results(
        junit(case("tests.x.test_a", "test_b", ("annex11:9",), "error")).encode(), source="t"
    )
    assert run.results[0].outcome is Outcome.FAILED
    row = next(r for r in build_matrix(run).rows if r.clause.id == "annex11:9")
    assert row.status is Status.FAILING


def test_the_json_matrix_names_each_clause_its_status_and_tests(tmp_path: Path) -> None:
    data = _small_matrix(tmp_path).as_json()
    assert data["run"]["started_at"] == "2026-12-01T10:00:00+00:00"
    assert (data["run"]["tests"], data["run"]["passed"], data["run"]["failed"]) == (7, 5, 1)
    assert data["run"]["skipped"] == 1
    d = next(c for c in data["clauses"] if c["clause"] == "part11:11.10(d)")
    assert d["status"] == "failing"
    assert d["tests"] == [
        {"test": "tests/web/test_access.py::test_deny_by_default", "outcome": "passed"},
        {"test": "tests/web/test_access.py::test_tokens", "outcome": "failed"},
    ]
    assert len(data["clauses"]) == len(CLAUSES)


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_the_summary_each_clause_its_tests_and_the_gaps(tmp_path: Path) -> None:
    pdf = render_report(_small_matrix(tmp_path))
    text = " ".join(_pdf_text(pdf).split())
    assert "Test run of 2026-12-01 10:00 UTC" in text
    assert "7 tests, 5 passed, 1 failed, 1 skipped" in text
    assert "21 CFR Part 11 16 1 1 14 6 %" in text  # the summary row
    assert "Not shown (40)" in text  # 42 clauses, 2 shown
    assert "part11:11.10(e) - Secure, time-stamped audit trail [shown]" in text
    assert "part11:11.10(d) - Limiting system access to authorised individuals [FAILING]" in text
    assert "annex11:7 - Data storage and backups [GAP]" in text
    assert "tests/web/test_access.py::test_tokens failed" in text
    assert "tests/kernel/test_backup.py::test_restore[postgresql] skipped" in text
    assert "No test is marked with this clause: gap." in text
    assert "part11:11.99" in text  # named as ignored, not silently dropped


def test_the_same_results_give_the_same_pdf(tmp_path: Path) -> None:
    assert render_report(_small_matrix(tmp_path)) == render_report(_small_matrix(tmp_path))


def test_without_results_every_clause_is_a_gap() -> None:
    matrix = build_matrix(None)
    assert {r.status for r in matrix.rows} == {Status.GAP}
    assert "No test results" in _pdf_text(render_report(matrix))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not a readable JUnit XML file"),
        ("<testsuites><testsuite>", "is not a readable JUnit XML file"),
        ("<html><body>results</body></html>", "its root is <html>"),
        ("<testsuites></testsuites>", "holds no <testsuite>"),
        (junit('<testcase classname="tests.test_a" />'), "has no name"),
        (junit(timestamp="yesterday"), "the run's timestamp 'yesterday' is not a date"),
    ],
)
def test_a_garbled_results_file_is_refused_with_the_reason(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ResultsRefused, match=r"test-results\.xml") as refused:
        read_results(write(tmp_path, text))
    assert says in refused.value.detail


def test_an_entity_in_the_results_is_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = (
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
        + junit(case("tests.test_a", "test_b&x;", ("annex11:9",))).split("?>", 1)[1]
    )
    try:
        run = read_results(write(tmp_path, text))
    except ResultsRefused:
        return  # refused outright: also safe
    assert all("TOP-SECRET" not in r.nodeid for r in run.results)


def test_a_missing_results_file_says_to_run_the_tests(tmp_path: Path) -> None:
    with pytest.raises(ResultsRefused, match="run `make test` first"):
        read_results(tmp_path / "nothing.xml")


def test_a_report_without_a_time_zone_has_no_run_date() -> None:
    run = parse_results(junit(timestamp="2026-12-01T10:00:00").encode(), source="t")
    assert run.started_at is None
