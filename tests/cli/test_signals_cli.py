"""``pharmaqms signals table`` and ``pharmaqms signals scan``."""

import json
import math
from pathlib import Path

import pytest
from tests.lifecycle.use.signals.faers_quarter import (
    CONCOMITANT_ROWS,
    FILES,
    SUSPECT_NOTES,
    write_directory,
    write_zip,
)
from typer.testing import CliRunner

from pharmaqms.cli.main import app as main_app
from pharmaqms.cli.signals import app

runner = CliRunner()
TABLE_FIELDS = [
    "a", "b", "c", "d", "N", "PRR", "PRR_lo95", "PRR_hi95", "chi2", "ROR", "ROR_lo95",
    "ROR_hi95", "E", "IC", "IC025",
]  # fmt: skip
OPENEBGM_TEST = "3.25280367,0.39983376,2.02490400,1.90726819,0.06536416"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_table_json_has_the_contract_fields() -> None:
    code, stdout, stderr = run("table", "12", "88", "50", "9850", "--json")
    assert (code, stderr) == (0, "")
    figures = json.loads(stdout)
    assert list(figures) == TABLE_FIELDS
    se = math.sqrt(1 / 12 - 1 / 100 + 1 / 50 - 1 / 9900)
    assert figures["PRR"] == pytest.approx(23.76)
    assert figures["PRR_lo95"] == pytest.approx(23.76 * math.exp(-1.959963984540054 * se))
    assert figures["ROR"] == pytest.approx(12 * 9850 / (88 * 50))
    assert figures["E"] == pytest.approx(0.62)
    assert figures["IC"] == pytest.approx(math.log2(12.5 / 1.12))


def test_table_with_a_prior_adds_the_mgps_scores() -> None:
    # n = 12 and E = (a+b)(a+c)/N = 100·25/670 = 3.731343 under openEBGM's test prior
    # (domain reference §4).
    code, stdout, _ = run("table", "12", "88", "13", "557", "--prior", OPENEBGM_TEST, "--json")
    figures = json.loads(stdout)
    assert code == 0
    assert list(figures) == [*TABLE_FIELDS, "EBGM", "EB05", "EB95"]
    assert figures["E"] == pytest.approx(3.731343, abs=5e-7)
    assert figures["EBGM"] == pytest.approx(2.515302, abs=1e-6)
    assert figures["EB05"] == pytest.approx(1.533, abs=5e-4)


def test_a_zero_table_prints_prr_zero_and_null_interval() -> None:
    code, stdout, _ = run("table", "0", "10", "5", "100", "--json")
    figures = json.loads(stdout)
    assert code == 0
    assert (figures["PRR"], figures["PRR_lo95"], figures["PRR_hi95"]) == (0.0, None, None)
    assert (figures["ROR"], figures["ROR_lo95"], figures["ROR_hi95"]) == (0.0, None, None)


def test_undefined_figures_are_null_in_json_never_nan() -> None:
    code, stdout, _ = run("table", "3", "0", "0", "0", "--json")
    assert code == 0
    assert "NaN" not in stdout and "Infinity" not in stdout
    figures = json.loads(stdout)
    assert [figures[k] for k in ("PRR", "chi2", "ROR", "ROR_lo95")] == [None] * 4


def test_table_prints_the_two_by_two_behind_the_figures() -> None:
    code, stdout, _ = run("table", "12", "88", "50", "9850")
    assert code == 0
    assert "2×2 table (reports)" in stdout
    assert "9,850" in stdout and "10,000" in stdout
    assert "IC025" in stdout and "23.76" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "2", "3", "x"], "error: D must be a whole number of reports, got 'x'"),
        (["1.5", "2", "3", "4"], "error: A must be a whole number of reports, got '1.5'"),
        (["--", "1", "-2", "3", "4"], "error: B cannot be negative, got -2"),
        (["0", "0", "0", "0"], "error: N = A + B + C + D is 0: there is no report to compare"),
        (["1", "2", "3", "4", "--prior", "1,2,3"], "error: --prior: a prior is five numbers"),
        (["1", "2", "3", "4", "--prior", "1,2,3,4,1"], "error: --prior: P, the weight"),
        (["1", "2", "3", "4", "--prior", "a,b,c,d,e"], "error: --prior: a prior is five"),
    ],
)
def test_table_refusals_are_one_line_and_exit_2(args, message) -> None:
    code, stdout, stderr = run("table", *args)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith(message)
    assert stderr.count("\n") == 1


def test_negative_count_without_separator_is_a_usage_error_of_one_line() -> None:
    result = runner.invoke(main_app, ["signals", "table", "1", "-2", "3", "4"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: No such option: -2")
    assert result.stderr.count("\n") == 1


def write_rows(tmp_path: Path) -> Path:
    # Ten reports of DRUGA with RASH, two of DRUGA with HEADACHE, 30 of DRUGB with
    # HEADACHE, 5 of DRUGB with RASH, 40 of DRUGC with NAUSEA.
    lines = ["report_id,drug,event,age,sex,year"]
    number = 0
    for drug, event, count in (
        ("DRUGA", "RASH", 10),
        ("DRUGA", "HEADACHE", 2),
        ("DRUGB", "HEADACHE", 30),
        ("DRUGB", "RASH", 5),
        ("DRUGC", "NAUSEA", 40),
    ):
        for _ in range(count):
            number += 1
            lines.append(f"R{number},{drug},{event},{20 + number % 60},{'FM'[number % 2]},2024")
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_csv_as_json(tmp_path: Path) -> None:
    path = write_rows(tmp_path)
    code, stdout, stderr = run(
        "scan", str(path), "--methods", "prr,ror,ic", "--min-count", "3", "--json"
    )
    assert (code, stderr) == (0, "")
    result = json.loads(stdout)
    assert result["reports"] == 87
    assert result["methods"] == ["prr", "ror", "ic"]
    assert result["prior"] is None
    pairs = {(p["drug"], p["event"]): p for p in result["pairs"]}
    assert sorted(pairs) == [
        ("DRUGA", "RASH"), ("DRUGB", "HEADACHE"), ("DRUGB", "RASH"), ("DRUGC", "NAUSEA"),
    ]  # fmt: skip
    rash = pairs["DRUGA", "RASH"]
    assert (rash["a"], rash["b"], rash["c"], rash["d"], rash["N"]) == (10, 2, 5, 70, 87)
    assert rash["PRR"] == pytest.approx((10 / 12) / (5 / 75))
    assert (rash["signal_prr"], rash["signal_ror"], rash["signal_ic"]) == (True, True, True)
    # DRUGC names only NAUSEA and only DRUGC names it: c = 0 and b = 0, PRR undefined.
    nausea = pairs["DRUGC", "NAUSEA"]
    assert (nausea["PRR"], nausea["ROR"], nausea["signal_prr"]) == (None, None, False)


def test_scan_fits_the_prior_and_can_stratify(tmp_path: Path) -> None:
    path = write_rows(tmp_path)
    code, stdout, _ = run("scan", str(path), "--stratify", "sex,age", "--json")
    result = json.loads(stdout)
    assert code == 0
    assert result["stratified_by"] == ["sex", "age"]
    assert result["prior_fitted"] is True
    assert set(result["prior"]) == {"alpha1", "beta1", "alpha2", "beta2", "p"}
    assert all("E_stratified" in p and "EB05" in p for p in result["pairs"])


def test_scan_prints_flagged_pairs(tmp_path: Path) -> None:
    code, stdout, _ = run("scan", str(write_rows(tmp_path)), "--prior", OPENEBGM_TEST)
    assert code == 0
    assert "87 reports, 5 drug–event pairs scored" in stdout
    assert "MGPS prior (given)" in stdout
    assert "DRUGA" in stdout and "RASH" in stdout


def test_scan_reads_an_openfda_export(tmp_path: Path) -> None:
    def report(number: int, drugs: list[str], terms: list[str]) -> dict:
        return {
            "safetyreportid": str(number),
            "receivedate": "20240105",
            "patient": {
                "patientsex": "2",
                "patientonsetage": "52",
                "patientonsetageunit": "801",
                "drug": [{"medicinalproduct": d, "drugcharacterization": "1"} for d in drugs],
                "reaction": [{"reactionmeddrapt": t} for t in terms],
            },
        }

    results = [report(i, ["ASPIRIN", "ASPIRIN"], ["Nausea", "Headache"]) for i in range(4)]
    results += [report(10 + i, ["IBUPROFEN"], ["Headache"]) for i in range(6)]
    results.append({"safetyreportid": "99", "patient": {"drug": [], "reaction": []}})
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"meta": {}, "results": results}), encoding="utf-8")
    code, stdout, stderr = run(
        "scan", str(path), "--methods", "prr", "--json", "--stratify", "year"
    )
    assert (code, stderr) == (0, "")
    result = json.loads(stdout)
    assert result["reports"] == 10
    pairs = {(p["drug"], p["event"]): (p["a"], p["b"], p["c"], p["d"]) for p in result["pairs"]}
    assert pairs == {
        ("ASPIRIN", "Headache"): (4, 0, 6, 0),
        ("ASPIRIN", "Nausea"): (4, 0, 0, 6),
        ("IBUPROFEN", "Headache"): (6, 0, 4, 0),
    }


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("report_id,drug\n1,A\n", [], "error: rows.csv: no column event"),
        ("report_id,drug,event\n1,A,X\n", ["--methods", "prr,foo"], "error: unknown method foo"),
        (
            "report_id,drug,event\n1,A,X\n",
            ["--stratify", "weight"],
            "error: --stratify: unknown weight",
        ),
        (
            "report_id,drug,event\n1,A,X\n",
            ["--min-count", "0"],
            "error: --min-count must be at least 1",
        ),
        ("report_id,drug,event\n1,A,X\n", ["--stratify", "sex"], "error: stratified by sex, but"),
        ('{"results": 3}', [], "error: the JSON document holds no list of records"),
        ("report_id,drug,event\n", [], "error: no report with a drug and an event"),
    ],
)
def test_scan_refusals_are_one_line_and_exit_2(tmp_path: Path, content, args, message) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(content, encoding="utf-8")
    code, stdout, stderr = run("scan", str(path), *args)
    assert code == 2
    assert stdout == ""
    assert stderr.startswith(message)
    assert stderr.count("\n") == 1


def test_scan_of_a_missing_file(tmp_path: Path) -> None:
    code, _, stderr = run("scan", str(tmp_path / "nope.csv"))
    assert (code, stderr.strip()) == (2, f"error: no such file: {tmp_path / 'nope.csv'}")


def test_scan_reads_a_faers_quarter_zip_and_says_what_it_left_out(tmp_path: Path) -> None:
    # Given the fake quarter of tests/lifecycle/use/signals/faers_quarter.py as the FDA's ZIP
    path = write_zip(tmp_path)
    # When it is scanned for PRR
    code, stdout, stderr = run("scan", str(path), "--methods", "prr", "--json")
    # Then 4 cases are counted and PRR(METFORMIN HYDROCHLORIDE, Headache) = (1/1)/(1/3)
    assert code == 0
    result = json.loads(stdout)
    assert result["reports"] == 4
    pairs = {(p["drug"], p["event"]): p for p in result["pairs"]}
    assert pairs["METFORMIN HYDROCHLORIDE", "Headache"]["PRR"] == pytest.approx(3.0)
    assert stderr.splitlines() == [f"{path.name}: {note}" for note in SUSPECT_NOTES]


def test_scan_of_a_faers_directory_with_concomitants(tmp_path: Path) -> None:
    folder = write_directory(tmp_path)
    code, stdout, stderr = run(
        "scan", str(folder), "--methods", "prr", "--json", "--concomitant", "--stratify", "age"
    )
    assert code == 0
    result = json.loads(stdout)
    assert result["reports"] == 5
    assert {(p["drug"], p["event"]) for p in result["pairs"]} == {r[1:3] for r in CONCOMITANT_ROWS}
    assert "1 DRUG row without a name left out" in stderr


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {name: text for name, text in FILES.items() if "REAC" not in name.upper()},
            "error: not a FAERS quarterly extract: no REACyyQq.txt file found",
        ),
        ({**FILES, "../evil.txt": "x"}, "error: faers_ascii_2024Q1.zip: unsafe member path"),
        (
            {**FILES, "ASCII/DEMO24Q1.txt": "primaryid$caseid\n1$1\n"},
            "error: DEMO file DEMO24Q1.txt: no column caseversion",
        ),
        (
            {**FILES, "ASCII/DEMO24Q1.txt": FILES["ASCII/DEMO24Q1.txt"].encode() + b"\xff$1$1\n"},
            "error: DEMO file DEMO24Q1.txt: not readable: invalid utf-8",
        ),
    ],
)
def test_scan_refuses_a_bad_faers_zip_in_one_line(tmp_path: Path, files, message) -> None:
    code, stdout, stderr = run("scan", str(write_zip(tmp_path, files)))
    assert (code, stdout) == (2, "")
    assert stderr.startswith(message)
    assert stderr.count("\n") == 1


def test_concomitant_is_refused_for_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("report_id,drug,event\n1,A,X\n", encoding="utf-8")
    code, stdout, stderr = run("scan", str(path), "--concomitant")
    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: rows.csv: --concomitant applies to a FAERS extract")
