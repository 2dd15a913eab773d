"""The quality trend charts stay readable: month labels thinned when there are many months, and a
legend of long area names wrapped under the plot instead of squeezing it."""

from __future__ import annotations

import re

from pharmaqms.quality.charts import legend_labels, month_ticks, stacked_bars

MONTHS_12 = [f"2026-{m:02d}" for m in range(1, 13)]
MONTHS_36 = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
LONG_AREA = "Production: Tableting / Compression / Main compression"


def test_every_month_is_named_up_to_twelve_and_the_latest_always() -> None:
    assert month_ticks(MONTHS_12) == list(enumerate(MONTHS_12))
    thinned = month_ticks(MONTHS_36)
    assert [label for _, label in thinned] == MONTHS_36[2::3]
    assert thinned[-1] == (35, "2026-12")
    assert month_ticks(MONTHS_36[:24]) == [(i, MONTHS_36[i]) for i in range(1, 24, 2)]
    assert month_ticks([]) == []


def test_long_legend_entries_are_wrapped_whole_words() -> None:
    assert legend_labels([LONG_AREA, "Warehouse"]) == [
        "Production: Tableting /\nCompression / Main compression",
        "Warehouse",
    ]
    assert legend_labels(["A-very-long-single-word-that-cannot-wrap-anywhere"]) == [
        "A-very-long-single-word-that-cannot-wrap-anywhere"
    ]


def _tick_span(svg: str) -> float:
    """The distance between the first and the last month's tick on the x axis."""
    ticks = svg.split('<g id="xtick_')[1:]
    xs = [float(re.findall(r'<use xlink:href="#[^"]+" x="([\d.]+)"', t)[0]) for t in ticks]
    return max(xs) - min(xs)


def test_a_legend_of_long_area_names_does_not_squeeze_the_plot() -> None:
    counts = [1, 0] * 6
    short = stacked_bars(MONTHS_12, {"Packaging": counts, "Utilities": counts}, title="t")
    areas = {
        name: counts
        for name in (
            "Packaging",
            "Production",
            LONG_AREA,
            "Quality control",
            "Utilities",
            "Warehouse",
        )
    }
    long = stacked_bars(MONTHS_12, areas, title="t")

    assert _tick_span(long) > 0.95 * _tick_span(short) > 0
    assert ">Production: Tableting /<" in long and ">Compression / Main compression<" in long
    assert [m for m in MONTHS_12 if f">{m}<" in long] == MONTHS_12
