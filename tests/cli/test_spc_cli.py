"""``pharmaqms spc analyze``."""

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pharmaqms.cli.spc import app

runner = CliRunner()
SQRT_PI = math.sqrt(math.pi)


def write_csv(tmp_path: Path, readings: list[str], name: str = "weights.csv") -> Path:
    path = tmp_path / name
    rows = ["batch,weight"] + [f"B{i},{value}" for i, value in enumerate(readings)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def analyze(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def analyze_json(*args: str) -> dict:
    code, stdout, stderr = analyze(*args, "--json")
    assert (code, stderr) == (0, "")
    return json.loads(stdout)


def test_individuals_chart_and_capability_as_json(tmp_path: Path) -> None:
    # Readings 10, 12, 11, 13, 12: x̄ = 11.6, MR̄ = 1.5, σ within = MR̄/d2(2) = 0.75√π,
    # I limits 11.6 ± 2.25√π. Overall SD: squared deviations 2.56 + 0.16 + 0.36 + 1.96 + 0.16 =
    # 5.2, /4 = 1.3. With LSL 5 and USL 20 (target 12.5):
    # Cp = 15/(6·0.75√π), Cpk = min(8.4, 6.6)/(3·0.75√π), Pp = 15/(6√1.3), Ppk = 6.6/(3√1.3),
    # Cpm = 7.5/(3·√(1.3 + 0.9²)).
    path = write_csv(tmp_path, ["10", "12", "11", "13", "12"])

    report = analyze_json(str(path), "--column", "weight", "--lsl", "5", "--usl", "20")

    sigma = 0.75 * SQRT_PI
    assert report == {
        "readings": 5,
        "chart": {
            "kind": "I-MR",
            "subgroup_size": 1,
            "points": 5,
            "sigma": pytest.approx(sigma, abs=1e-12),
            "sigma_source": "estimated",
            "location_sigma": pytest.approx(sigma, abs=1e-12),
            "location": {
                "chart": "I",
                "lcl": pytest.approx(11.6 - 3 * sigma, abs=1e-12),
                "center": pytest.approx(11.6, abs=1e-12),
                "ucl": pytest.approx(11.6 + 3 * sigma, abs=1e-12),
            },
            "dispersion": {
                "chart": "MR",
                "lcl": 0.0,
                "center": 1.5,
                "ucl": pytest.approx(1.5 * (1 + 1.5 * math.sqrt(2 * math.pi - 4)), abs=1e-9),
            },
        },
        "capability": {
            "lsl": 5.0,
            "usl": 20.0,
            "target": 12.5,
            "mean": pytest.approx(11.6, abs=1e-12),
            "sigma_within": pytest.approx(sigma, abs=1e-12),
            "sigma_overall": pytest.approx(math.sqrt(1.3), abs=1e-12),
            "cp": pytest.approx(15 / (6 * sigma), abs=1e-9),
            "cpk": pytest.approx(6.6 / (3 * sigma), abs=1e-9),
            "pp": pytest.approx(15 / (6 * math.sqrt(1.3)), abs=1e-9),
            "ppk": pytest.approx(6.6 / (3 * math.sqrt(1.3)), abs=1e-9),
            "cpm": pytest.approx(7.5 / (3 * math.sqrt(1.3 + 0.81)), abs=1e-9),
        },
        "rules": "nelson",
        "violations": [],
        "dispersion_outside_limits": [],
    }


def test_violations_with_a_known_centre_and_sigma(tmp_path: Path) -> None:
    # Ten readings at +0.5σ then one at +3.5σ: Nelson 2 completes at index 8 and persists,
    # Nelson 1 fires at index 10.
    path = write_csv(tmp_path, ["0.5"] * 10 + ["3.5"])

    report = analyze_json(str(path), "--column", "weight", "--center", "0", "--sigma", "1")

    assert report["chart"]["sigma_source"] == "known"
    assert report["chart"]["location"] == {"chart": "I", "lcl": -3.0, "center": 0.0, "ucl": 3.0}
    assert report["capability"] is None
    side_run = "Nine points in a row on the same side of the centre line"
    assert report["violations"] == [
        {"rule": 2, "name": side_run, "index": 8, "value": 0.5},
        {"rule": 2, "name": side_run, "index": 9, "value": 0.5},
        {"rule": 1, "name": "One point beyond 3σ", "index": 10, "value": 3.5},
        {"rule": 2, "name": side_run, "index": 10, "value": 3.5},
    ]


def test_western_electric_rules(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["0.5"] * 8)

    report = analyze_json(
        str(path), "--column", "weight", "--center", "0", "--sigma", "1", "--rules",
        "western-electric",
    )  # fmt: skip

    assert report["rules"] == "western-electric"
    assert report["violations"] == [
        {
            "rule": 4,
            "name": "Eight points in a row on the same side of the centre line",
            "index": 7,
            "value": 0.5,
        }
    ]


def test_subgroups_make_an_xbar_r_chart(tmp_path: Path) -> None:
    # Subgroups (2, 4) and (3, 7): means 3 and 5, R̄ = 3, σ = R̄/d2(2) = 1.5√π, σ of a mean
    # 1.5√π/√2; the range 4 of the second subgroup is inside the R chart limits.
    path = write_csv(tmp_path, ["2", "4", "3", "7"])

    chart = analyze_json(str(path), "--column", "weight", "--subgroup-size", "2")["chart"]

    assert (chart["kind"], chart["subgroup_size"], chart["points"]) == ("Xbar-R", 2, 2)
    assert chart["sigma"] == pytest.approx(1.5 * SQRT_PI, abs=1e-12)
    spread = 3 * 1.5 * SQRT_PI / math.sqrt(2)
    assert chart["location"] == {
        "chart": "Xbar",
        "lcl": pytest.approx(4 - spread, abs=1e-12),
        "center": 4.0,
        "ucl": pytest.approx(4 + spread, abs=1e-12),
    }
    assert chart["dispersion"]["center"] == 3.0


def test_large_subgroups_make_an_xbar_s_chart(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [str(i % 7) for i in range(22)])

    chart = analyze_json(str(path), "--column", "weight", "--subgroup-size", "11")["chart"]

    assert (chart["kind"], chart["points"], chart["dispersion"]["chart"]) == ("Xbar-S", 2, "S")


def test_dispersion_points_outside_their_limits_are_listed(tmp_path: Path) -> None:
    # Known σ = 1: MR upper limit (d2 + 3d3)·σ = 3.686; the jump 0 → 4 at index 2 exceeds it.
    path = write_csv(tmp_path, ["0", "0", "4", "0.1"])

    report = analyze_json(str(path), "--column", "weight", "--center", "0", "--sigma", "1")

    assert report["dispersion_outside_limits"] == [
        {"index": 2, "value": 4.0},
        {"index": 3, "value": 3.9},
    ]


def test_tables_for_people(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["0.5"] * 10 + ["3.5"])

    code, stdout, stderr = analyze(
        str(path), "--column", "weight", "--center", "0", "--sigma", "1", "--usl", "4"
    )

    assert (code, stderr) == (0, "")
    assert "I-MR chart, 11 readings, σ = 1 (known)" in stdout
    for heading in ("Control limits", "Capability", "Rule violations (nelson)"):
        assert heading in stdout
    assert "One point beyond 3σ" in stdout


def test_a_quiet_process_says_so(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["10", "12", "11", "13", "12"])

    code, stdout, _ = analyze(str(path), "--column", "weight")

    assert code == 0
    assert "No rule violations (nelson)." in stdout
    assert "Rule violations" not in stdout.replace("No rule violations", "")


def test_plot_is_written(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["0.5"] * 10 + ["3.5"])
    figure = tmp_path / "chart.svg"

    code, _, stderr = analyze(
        str(path), "--column", "weight", "--center", "0", "--sigma", "1", "--plot", str(figure)
    )

    assert (code, stderr) == (0, "")
    svg = figure.read_text()
    assert 'id="violation-label-10"' in svg
    assert 'id="violation-label-8"' in svg


def test_help_states_the_index_convention() -> None:
    result = runner.invoke(app, ["analyze", "--help"])

    text = " ".join(result.stdout.split())
    assert result.exit_code == 0
    assert "0-based index of the plotted point" in text
    assert "again on every later point while the pattern persists" in text
    assert "A point exactly on the centre line breaks a same-side run" in text


@pytest.mark.parametrize(
    ("readings", "options", "message"),
    [
        (["10", "abc", "12"], [], "row 2 (line 3): 'abc' in column 'weight' is not a number"),
        (["10", "", "12"], [], "row 2 (line 3): no value in column 'weight'"),
        (["10", "nan"], [], "row 2 (line 3): 'nan' in column 'weight' is not a finite number"),
        (["10"], [], "too few points: 1 reading(s); at least 2 are needed"),
        (["1", "2", "3"], ["--subgroup-size", "3"],
         "too few points: 1 subgroup(s) of 3; at least 2 are needed"),
        (["1", "2", "3", "4", "5"], ["--subgroup-size", "2"],
         "5 readings do not split into subgroups of 2 (1 left over)"),
        (["5", "5", "5"], [], "sigma cannot be estimated: all moving ranges are zero"),
        (["1", "2"], ["--subgroup-size", "26"], "--subgroup-size must be between 1 and 25"),
        (["1", "2"], ["--center", "1"], "--center and --sigma go together"),
        (["1", "2"], ["--center", "1", "--sigma", "0"], "--sigma must be a positive number"),
        (["1", "2"], ["--lsl", "3", "--usl", "3"], "--lsl must be below --usl"),
        (["1", "2"], ["--plot", "chart.pdf"],
         "--plot must name a .png or .svg file, got 'chart.pdf'"),
    ],
)  # fmt: skip
def test_unusable_input_is_refused_in_one_line(
    tmp_path: Path, readings: list[str], options: list[str], message: str
) -> None:
    path = write_csv(tmp_path, readings)

    code, stdout, stderr = analyze(str(path), "--column", "weight", *options)

    assert (code, stdout, stderr) == (2, "", f"error: {message}\n")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"

    assert analyze(str(missing), "--column", "weight") == (
        2,
        "",
        f"error: no such file: {missing}\n",
    )


def test_an_unknown_column_names_the_available_ones(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["10", "11"])

    assert analyze(str(path), "--column", "mass") == (
        2,
        "",
        f"error: no column 'mass' in {path}; available: 'batch', 'weight'\n",
    )


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")

    assert analyze(str(path), "--column", "weight") == (2, "", f"error: {path} is empty\n")


def test_a_refused_run_writes_no_plot(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["5", "5", "5"])
    figure = tmp_path / "chart.png"

    code, _, _ = analyze(str(path), "--column", "weight", "--plot", str(figure))

    assert code == 2
    assert not figure.exists()
