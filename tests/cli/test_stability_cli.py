"""``pharmaqms stability shelf-life``: the JSON contract, filtering by attribute, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pharmaqms.cli.main import app as main_app
from pharmaqms.cli.stability import app
from pharmaqms.lifecycle.rnd.stability.q1e import Observation, estimate_shelf_life

runner = CliRunner()
ASSAY = {
    "B1": [(0, 100.3), (3, 99.7), (6, 99.3), (9, 98.6), (12, 98.4), (18, 97.2), (24, 96.5)],
    "B2": [(0, 99.9), (3, 99.6), (6, 98.9), (9, 98.7), (12, 98.0), (18, 97.4), (24, 96.3)],
    "B3": [(0, 100.1), (3, 99.4), (6, 99.2), (9, 98.5), (12, 98.2), (18, 97.1), (24, 96.6)],
}


def write_results(tmp_path: Path) -> Path:
    lines = ["batch,attribute,months,value"]
    for batch, points in ASSAY.items():
        lines += [f"{batch},assay,{m},{v}" for m, v in points]
        # Another attribute in the same file: must be left out by --attribute assay
        lines += [f"{batch},impurity,{m},{0.1 + 0.02 * m + (v % 0.3) / 10:.3f}" for m, v in points]
    path = tmp_path / "results.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["shelf-life", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_contract(tmp_path: Path) -> None:
    code, out, err = invoke(
        str(write_results(tmp_path)), "--attribute", "assay", "--lower", "95", "--json"
    )
    assert (code, err) == (0, "")
    got = json.loads(out)
    expected = estimate_shelf_life(
        [Observation(b, m, v) for b, points in ASSAY.items() for m, v in points], lower=95.0
    )
    assert got["shelf_life_months"] == expected.shelf_life_months
    assert got["pooling"] == expected.pooling.value
    assert got["limiting_batch"] == expected.limiting_batch
    assert set(got["batches"]) == {"B1", "B2", "B3"}
    for name, fit in expected.batches.items():
        assert got["batches"][name]["slope"] == fit.slope
        assert got["batches"][name]["intercept"] == fit.intercept
        assert got["batches"][name]["n"] == 7  # the impurity rows were filtered out
    assert got["attribute"] == "assay" and got["bound"] == "lower"


def test_human_summary_and_the_registered_sub_app(tmp_path: Path) -> None:
    path = write_results(tmp_path)
    result = runner.invoke(
        main_app, ["stability", "shelf-life", str(path), "--attribute", "impurity", "--upper", "1"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("impurity: shelf life ")
    assert "pooling: " in result.stdout and "  B3: slope +" in result.stdout


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (["batch,months,value", "B1,0,100", "B1,3,99"], ["--lower", "95"], "2 time points"),
        (["batch,months,value", "B1,0,100", "B1,3,99", "B1,6,98"], [], "no specification"),
        (["batch,months,value", "B1,zero,100"], ["--lower", "95"], "line 2: months 'zero'"),
        (["batch,value", "B1,100"], ["--lower", "95"], "missing column(s) months"),
        (["batch,attribute,months,value", "B1,pH,0,7"], ["--lower", "95"], "no results for"),
    ],
)
def test_refusals_are_one_line_with_exit_2(
    tmp_path: Path, rows: list[str], args: list[str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = invoke(str(path), "--attribute", "assay", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1
