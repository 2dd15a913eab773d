"""Control chart figures."""

import re
from pathlib import Path

import pytest

from pharmaqms.lifecycle.production.spc.charts import (
    ChartKind,
    chart_points,
    individuals_limits_known,
)
from pharmaqms.lifecycle.production.spc.plot import plot_chart
from pharmaqms.lifecycle.production.spc.rules import evaluate_rules

# Indices 3 and 5 break rules 1 (beyond 3σ) and 5 (with 2.5 and 3.5, two of the last three
# points beyond 2σ); index 2 alone is not a violation. The moving range 0.0 → 6.0 at index 5 is
# above the MR limit.
READINGS = [0.0, 0.5, 2.5, 3.5, 0.0, 6.0, 0.2]


def figure(tmp_path: Path, name: str, readings: list[float]) -> Path:
    limits = individuals_limits_known(0.0, 1.0)
    points = chart_points(ChartKind.INDIVIDUALS, readings)
    violations = evaluate_rules(readings, center=0.0, sigma=1.0)
    return plot_chart(tmp_path / name, limits, points, violations, title="Tablet weight")


def test_svg_shows_limits_zones_and_violations_with_their_rule_numbers(tmp_path: Path) -> None:
    svg = figure(tmp_path, "chart.svg", READINGS).read_text()

    for element in (
        "location-center",
        "location-ucl",
        "location-lcl",
        "zone-1-upper",
        "zone-1-lower",
        "zone-2-upper",
        "zone-2-lower",
        "dispersion-center",
        "dispersion-ucl",
        "violations",
        "dispersion-outside",
    ):
        assert f'id="{element}"' in svg
    labels = re.findall(r'<g id="violation-label-(\d+)">\s*<text[^>]*>([^<]*)</text>', svg)
    assert labels == [("3", "1,5"), ("5", "1,5")]
    assert "Tablet weight" in svg


def test_png_is_written(tmp_path: Path) -> None:
    path = figure(tmp_path, "chart.PNG", READINGS)

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_chart_without_violations_marks_nothing_red(tmp_path: Path) -> None:
    svg = figure(tmp_path, "quiet.svg", [0.1, -0.2, 0.3, 0.0]).read_text()

    assert 'id="violations"' not in svg
    assert 'id="dispersion-outside"' not in svg
    assert "violation-label" not in svg


def test_other_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        figure(tmp_path, "chart.pdf", READINGS)
    assert list(tmp_path.iterdir()) == []
