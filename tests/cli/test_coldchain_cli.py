"""``pharmaqms coldchain mkt`` and ``pharmaqms coldchain excursions``: the JSON contract of
issue 10, and refusals as one line naming the row with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pharmaqms.cli.coldchain import app
from pharmaqms.cli.main import app as main_app
from pharmaqms.kernel.settings import reset_settings_cache

runner = CliRunner()
MKT_FIELDS = {"mkt_c", "arithmetic_mean_c", "min_c", "max_c", "hours"}
EXCURSION_FIELDS = {"start", "end", "duration_min", "min_c", "max_c", "degree_minutes"}
BUDGET_FIELDS = {"allowed_h", "consumed_h", "remaining_h", "disposition"}


def logger_file(tmp_path: Path, lines: list[str], name: str = "logger.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def quarter_hours(values: list[float], column: str = "temperature_c") -> list[str]:
    return [f"time,{column}"] + [
        f"2026-03-01T{8 + i // 4:02d}:{15 * (i % 4):02d}:00+01:00,{v}" for i, v in enumerate(values)
    ]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> dict:
    code, stdout, stderr = run(*args, "--json")
    assert (code, stderr) == (0, "")
    return json.loads(stdout)


def test_mkt_of_two_readings_20_and_30(tmp_path: Path) -> None:
    path = logger_file(
        tmp_path,
        ["time,temperature_c", "2026-03-01T08:00:00+01:00,20", "2026-03-01T09:00:00+01:00,30"],
    )

    report = run_json("mkt", str(path))

    assert report.keys() >= MKT_FIELDS
    assert round(report["mkt_c"], 2) == 26.26
    assert {k: report[k] for k in MKT_FIELDS - {"mkt_c"}} == {
        "arithmetic_mean_c": 25.0,
        "min_c": 20.0,
        "max_c": 30.0,
        "hours": 2.0,
    }
    assert report["readings"] == 2
    assert report["delta_h_kj_per_mol"] == 83.144
    assert report["gas_constant_j_per_mol_k"] == 8.3144
    assert (report["unknown_minutes"], report["gaps"], report["warnings"]) == (0.0, [], [])


def test_mkt_through_the_pharmaqms_command(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([5.0, 5.0, 5.0]))

    result = runner.invoke(main_app, ["coldchain", "mkt", str(path), "--json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["mkt_c"] == pytest.approx(5.0, abs=1e-9)
    assert json.loads(result.stdout)["hours"] == 0.75


def test_hours_weight_each_reading(tmp_path: Path) -> None:
    # 20 °C for 3 h and 30 °C for 1 h: 23.6445 °C by hand (see the library's tests)
    path = logger_file(
        tmp_path,
        [
            "time,temperature_c,hours",
            "2026-03-01T00:00:00Z,20,3",
            "2026-03-01T03:00:00Z,30,1",
        ],
    )

    report = run_json("mkt", str(path))

    assert report["mkt_c"] == pytest.approx(23.6444539343305, abs=1e-9)
    assert report["arithmetic_mean_c"] == 22.5
    assert report["hours"] == 4.0


def test_a_different_activation_energy(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([2.0, 8.0, 25.0]))

    default = run_json("mkt", str(path))["mkt_c"]
    higher = run_json("mkt", str(path), "--delta-h", "120")

    assert higher["delta_h_kj_per_mol"] == 120.0
    assert default == pytest.approx(17.01633858370576, abs=1e-9)
    assert higher["mkt_c"] > default


def test_fahrenheit_is_converted(tmp_path: Path) -> None:
    # 46.4 °F is 8 °C exactly: in range, not 8.000000000000057
    path = logger_file(tmp_path, quarter_hours([41.0, 46.4, 53.6, 35.6], "temperature_f"))

    report = run_json("excursions", str(path), "--range", "2,8")

    assert report["input_unit"] == "°F"
    assert report["excursions"] == [
        {
            "start": "2026-03-01T07:30:00+00:00",
            "end": "2026-03-01T07:45:00+00:00",
            "duration_min": 15.0,
            "min_c": 12.0,
            "max_c": 12.0,
            "degree_minutes": 60.0,
            "side": "above",
            "gap_before": False,
            "gap_after": False,
            "until_last_reading": False,
        }
    ]


def test_excursions_and_budget_contract(tmp_path: Path) -> None:
    # 5, 7, 9, 11, 6, 1, 4 °C every 15 minutes against 2–8 °C: by hand, 60 °C·min over
    # 30 minutes, then 15 °C·min over 15 minutes; 45 minutes out of a 1-hour budget
    path = logger_file(tmp_path, quarter_hours([5, 7, 9, 11, 6, 1, 4]))

    report = run_json("excursions", str(path), "--range", "2,8", "--budget-hours", "1")

    assert [{k: e[k] for k in EXCURSION_FIELDS} for e in report["excursions"]] == [
        {
            "start": "2026-03-01T07:30:00+00:00",
            "end": "2026-03-01T08:00:00+00:00",
            "duration_min": 30.0,
            "min_c": 9.0,
            "max_c": 11.0,
            "degree_minutes": 60.0,
        },
        {
            "start": "2026-03-01T08:15:00+00:00",
            "end": "2026-03-01T08:30:00+00:00",
            "duration_min": 15.0,
            "min_c": 1.0,
            "max_c": 1.0,
            "degree_minutes": 15.0,
        },
    ]
    assert report["total_minutes_out"] == 45.0
    assert report["mkt_c"] == pytest.approx(run_json("mkt", str(path))["mkt_c"], abs=1e-12)
    assert report["budget"] == {
        "allowed_h": 1.0,
        "consumed_h": 0.75,
        "remaining_h": 0.25,
        "disposition": "usable",
        "out_of_range_h": 0.75,
        "unknown_h": 0.0,
        "decided_by_unknown_time": False,
    }
    assert report["range"] == {"low_c": 2.0, "high_c": 8.0}


def test_an_exhausted_budget_rejects(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([5, 7, 9, 11, 6, 1, 4]))

    report = run_json("excursions", str(path), "--range", "2,8", "--budget-hours", "0.5")

    assert report["budget"].keys() >= BUDGET_FIELDS
    assert report["budget"]["remaining_h"] == -0.25
    assert report["budget"]["disposition"] == "reject"


def test_without_budget_hours_there_is_no_budget(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([5, 6]))

    assert run_json("excursions", str(path), "--range", "2,8")["budget"] is None


def test_unknown_time_is_reported_and_counted_against_the_budget(tmp_path: Path) -> None:
    # A 15-minute logger silent between 08:30 and 09:30 (local), all readings in range
    path = logger_file(
        tmp_path,
        [
            "time,temperature_c",
            "2026-03-01T08:00:00+01:00,5",
            "2026-03-01T08:15:00+01:00,5",
            "2026-03-01T08:30:00+01:00,5",
            "2026-03-01T09:30:00+01:00,5",
            "2026-03-01T09:45:00+01:00,5",
        ],
    )

    report = run_json("excursions", str(path), "--range", "2,8", "--budget-hours", "0.5")

    assert report["excursions"] == []
    assert report["total_minutes_out"] == 0.0
    assert report["unknown_minutes"] == 45.0
    assert report["gaps"] == [
        {
            "start": "2026-03-01T07:45:00+00:00",
            "end": "2026-03-01T08:30:00+00:00",
            "duration_min": 45.0,
        }
    ]
    assert report["budget"] == {
        "allowed_h": 0.5,
        "consumed_h": 0.75,
        "remaining_h": -0.25,
        "disposition": "reject",
        "out_of_range_h": 0.0,
        "unknown_h": 0.75,
        "decided_by_unknown_time": True,
    }


def test_a_declared_interval(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([5, 5, 5]))

    report = run_json("mkt", str(path), "--interval", "5")

    # Each reading holds 5 minutes; 10 of each 15-minute interval are unknown
    assert report["hours"] == 0.25
    assert report["unknown_minutes"] == 20.0


def test_an_exact_repeat_is_a_warning(tmp_path: Path) -> None:
    lines = quarter_hours([5, 6, 7])
    path = logger_file(tmp_path, [*lines[:3], lines[2], lines[3]])

    report = run_json("mkt", str(path))

    assert report["readings"] == 3
    assert report["warnings"] == ["row 3 (line 4) repeats row 2 (line 3) exactly: counted once"]


def test_text_output(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([5, 9, 5]))

    code, stdout, stderr = run("excursions", str(path), "--range", "2,8", "--budget-hours", "1")

    assert (code, stderr) == (0, "")
    assert "MKT " in stdout
    assert "Excursions outside 2–8 °C: 15.0 min in all" in stdout
    assert "Stability budget: 1 h allowed, 0.25 h consumed, 0.75 h remaining: usable" in stdout


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "is empty"),
        (["time,temperature_c"], "has no readings"),
        (
            ["time,temperature_c", "2026-03-01T08:00:00,5"],
            "row 1 (line 2): the time '2026-03-01T08:00:00' has no UTC offset (write e.g. "
            "2026-03-01T08:00:00+01:00 or 2026-03-01T08:00:00Z)",
        ),
        (
            ["time,temperature_c", "2026-03-01T08:00:00Z,5", "2026-03-01T08:15:00Z,warm"],
            "row 2 (line 3): 'warm' in column 'temperature_c' is not a number",
        ),
        (
            ["time,temperature_c", "2026-03-01T08:00:00Z,5", "2026-03-01T08:15:00Z,nan"],
            "row 2 (line 3): 'nan' in column 'temperature_c' is not a finite number",
        ),
        (
            ["time,temperature_c", "2026-03-01T08:00:00Z,", "2026-03-01T08:15:00Z,5"],
            "row 1 (line 2): no value in column 'temperature_c'",
        ),
        (
            ["time,temperature_c", "yesterday,5"],
            "row 1 (line 2): 'yesterday' is not an ISO 8601 time",
        ),
        (
            [
                "time,temperature_c",
                "2026-03-01T08:00:00Z,5",
                "2026-03-01T08:30:00Z,5",
                "2026-03-01T08:15:00Z,5",
            ],
            "row 3 (line 4): 2026-03-01T08:15:00+00:00 is earlier than row 2 (line 3) "
            "(2026-03-01T08:30:00+00:00): readings must be in time order",
        ),
        (
            [
                "time,temperature_c",
                "2026-03-01T08:00:00Z,5",
                "2026-03-01T09:00:00+01:00,6",
            ],
            "row 2 (line 3) and row 1 (line 2) give the same time 2026-03-01T09:00:00+01:00 "
            "with different values (6 °C and 5 °C)",
        ),
        (
            ["time,temperature_c", "2026-03-01T08:00:00Z,5", "2026-03-01T08:15:00Z,-300"],
            "row 2 (line 3): -300 °C is below absolute zero (-273.15 °C)",
        ),
        (
            ["time,temperature_f", "2026-03-01T08:00:00Z,41", "2026-03-01T08:15:00Z,-500"],
            "row 2 (line 3): -295.556 °C is below absolute zero (-273.15 °C)",
        ),
        (
            ["time,temperature_c,temperature_f", "2026-03-01T08:00:00Z,5,41"],
            "has both 'temperature_c' and 'temperature_f': which one holds the readings?",
        ),
        (["time,temp", "2026-03-01T08:00:00Z,5"], "has no column 'temperature_c' or "),
        (["when,temperature_c", "2026-03-01T08:00:00Z,5"], "has no column 'time'"),
        (
            ["time,temperature_c", "2026-03-01T08:00:00Z,5"],
            "row 1 (line 2) is the only reading: it has no duration without hours or a declared "
            "logging interval",
        ),
        (
            ["time,temperature_c,hours", "2026-03-01T08:00:00Z,5,0"],
            "row 1 (line 2): hours must be a positive number",
        ),
        (
            ["time,temperature_c,hours", "2026-03-01T08:00:00Z,5,"],
            "row 1 (line 2): no value in column 'hours'",
        ),
    ],
)
def test_bad_files_are_refused_in_one_line_naming_the_row(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = logger_file(tmp_path, lines)

    for command in (["mkt", str(path)], ["excursions", str(path), "--range", "2,8"]):
        code, stdout, stderr = run(*command, "--json")

        assert (code, stdout) == (2, "")
        assert stderr.startswith("error: ")
        assert stderr.count("\n") == 1
        assert message in stderr


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    code, _stdout, stderr = run("mkt", str(path))

    assert (code, stderr) == (2, f"error: {path} is empty\n")


def test_a_missing_file(tmp_path: Path) -> None:
    code, _stdout, stderr = run("mkt", str(tmp_path / "nowhere.csv"))

    assert (code, stderr) == (2, f"error: no such file: {tmp_path / 'nowhere.csv'}\n")


@pytest.fixture
def small_uploads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PHARMAQMS_MAX_UPLOAD_BYTES", "1024")
    reset_settings_cache()
    yield
    monkeypatch.delenv("PHARMAQMS_MAX_UPLOAD_BYTES")
    reset_settings_cache()


def test_a_file_over_the_upload_limit_is_refused(tmp_path: Path, small_uploads: None) -> None:
    path = logger_file(tmp_path, quarter_hours([5.0] * 40))

    code, _stdout, stderr = run("mkt", str(path))

    size = path.stat().st_size
    assert code == 2
    assert stderr == (
        f"error: {path} is {size:,} bytes, more than the limit of 1,024 "
        "(PHARMAQMS_MAX_UPLOAD_BYTES)\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--range", "8,2"], "error: --range: the lower limit 8 °C must be below the upper 2 °C"),
        (["--range", "2-8"], "error: --range: '2-8' is not a range LOW,HIGH (e.g. 2,8)"),
        (["--range", "2,8", "--budget-hours", "-1"], "error: --budget-hours must be a number"),
        (["--range", "2,8", "--delta-h", "0"], "error: --delta-h must be a positive number"),
        (["--range", "2,8", "--gap-factor", "1"], "error: --gap-factor must be a number above 1"),
        (["--range", "2,8", "--interval", "0"], "error: --interval must be a positive number"),
    ],
)
def test_options_that_mean_nothing_are_refused(
    tmp_path: Path, options: list[str], message: str
) -> None:
    path = logger_file(tmp_path, quarter_hours([5, 6]))

    code, stdout, stderr = run("excursions", str(path), *options)

    assert (code, stdout) == (2, "")
    assert stderr.startswith(message)


def test_a_negative_range_needs_no_equals_sign(tmp_path: Path) -> None:
    path = logger_file(tmp_path, quarter_hours([-20, -10, -20]))

    report = run_json("excursions", str(path), "--range", "-25,-15")

    assert report["range"] == {"low_c": -25.0, "high_c": -15.0}
    assert [e["degree_minutes"] for e in report["excursions"]] == [75.0]
