"""The KPI charts as server-rendered SVG: Matplotlib's Agg canvas on a bare ``Figure`` (pyplot
keeps global state and picks a GUI backend: neither belongs in a server). The same data gives
the same bytes (no date stamp, a fixed hash salt). A month without data is a gap, not a zero."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import matplotlib as mpl
from lxml import etree
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PALETTE = ("#1f5a7a", "#e69500", "#2e9958", "#8e5ba8", "#c0392b", "#6b7a89", "#b8860b", "#17a2b8")


# CSS properties Matplotlib writes in style attributes that SVG also takes as presentation
# attributes. The charts are drawn inside the KPI page, whose security policy allows no inline
# style (no <style>, no style=); presentation attributes are part of the drawing, not CSS.
PRESENTATION = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)
SVG_NS = "{http://www.w3.org/2000/svg}"


def _declarations(style: str) -> list[tuple[str, str]]:
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return [(name.strip(), value.strip()) for name, value in pairs]


def without_inline_style(document: str) -> str:
    """Matplotlib's SVG with every style attribute turned into presentation attributes and
    its one ``<style>`` rule (``*{stroke-linejoin: round; stroke-linecap: butt}``) set on the
    root, where both properties inherit. A property SVG has no attribute for stays in a style
    attribute (and the page's policy would then refuse it, visibly, in the browser test)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document.encode("utf-8"), parser)
    for sheet in root.iter(f"{SVG_NS}style"):
        for _selector, body in re.findall(r"([^{}]*)\{([^}]*)\}", sheet.text or ""):
            for name, value in _declarations(body):
                root.set(name, value)
        sheet.getparent().remove(sheet)
    for element in root.iter():
        style = element.get("style") if isinstance(element.tag, str) else None
        if style is None:
            continue
        kept = []
        for name, value in _declarations(style):
            if name in PRESENTATION:
                element.set(name, value)
            else:
                kept.append(f"{name}: {value}")
        if kept:
            element.set("style", "; ".join(kept))
        else:
            del element.attrib["style"]
    return str(etree.tostring(root, encoding="unicode"))


def _svg(figure: Any) -> str:
    FigureCanvasAgg(figure)
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "pharmaqms-kpi", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "pharmaqms"})
    return without_inline_style(buffer.getvalue())


def _axes(title: str, ylabel: str) -> tuple[Any, Any]:
    figure = Figure(figsize=(7.6, 3.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11)
    axes.set_ylabel(ylabel, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e3e7eb", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.tick_params(labelsize=8)
    return figure, axes


def _labels(months: Sequence[date]) -> list[str]:
    return [m.strftime("%b %y") for m in months]


def bars(
    months: Sequence[date],
    values: Sequence[float | None],
    *,
    title: str,
    ylabel: str,
    notes: Sequence[str] = (),
) -> str:
    figure, axes = _axes(title, ylabel)
    labels = _labels(months)
    heights = [v if v is not None else 0.0 for v in values]
    drawn = axes.bar(labels, heights, color=PALETTE[4], width=0.6)
    for rect, note, value in zip(drawn, notes or [""] * len(labels), values, strict=False):
        if value is not None and note:
            axes.annotate(
                note,
                (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                color="#444",
            )
    axes.set_ylim(bottom=0)
    return _svg(figure)


def lines(
    months: Sequence[date],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    reference: tuple[float, str] | None = None,
) -> str:
    figure, axes = _axes(title, ylabel)
    labels = _labels(months)
    x = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        y = [float("nan") if v is None else v for v in values]
        axes.plot(
            x,
            y,
            marker="o",
            markersize=3.5,
            linewidth=1.6,
            color=PALETTE[index % len(PALETTE)],
            label=name,
        )
    if reference is not None:
        axes.axhline(
            reference[0], color="#c0392b", linewidth=0.9, linestyle="--", label=reference[1]
        )
    axes.set_xticks(x, labels)
    if series or reference:
        axes.legend(
            fontsize=8,
            frameon=False,
            ncols=min(len(series) + (1 if reference else 0), 5),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
        )
    axes.set_ylim(bottom=0)
    return _svg(figure)
