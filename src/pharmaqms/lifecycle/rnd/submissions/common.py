"""The frozen content every submission document shares: the cover facts and the shape of its
sections. A section is ``{"title", "basis", "text": [..], "tables": [{"heading", "columns",
"rows", "note"}], "charts": [..], "empty": str | None}`` — plain JSON, hashed at generation,
rendered by ``pdf`` and by the detail page alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pharmaqms.kernel.reports.sections import Section
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.lifecycle.rnd.submissions.models import Authority, DocumentKind

CTD_SECTION = {
    DocumentKind.STABILITY_SUMMARY: "3.2.P.8",
    DocumentKind.PROCESS_DEVELOPMENT: "3.2.P.2",
    DocumentKind.BATCH_ANALYSES: "3.2.P.5.4",
}
TITLE = {
    DocumentKind.STABILITY_SUMMARY: "Stability",
    DocumentKind.PROCESS_DEVELOPMENT: "Pharmaceutical development",
    DocumentKind.BATCH_ANALYSES: "Batch analyses",
}
AUTHORITY_NAME = {
    Authority.NMPA: "National Medical Products Administration (NMPA), China",
    Authority.FDA: "U.S. Food and Drug Administration (FDA)",
    Authority.EMA: "European Medicines Agency (EMA), European Union",
}
NO_DATA = "no data recorded"
UTC_ZONE = ZoneInfo("UTC")


def table(
    heading: str, columns: list[str], rows: list[list[str]], note: str = ""
) -> dict[str, Any]:
    return {"heading": heading, "columns": columns, "rows": rows, "note": note}


def from_report(section: Section) -> dict[str, Any]:
    """A table of the kernel's record report (the stability study's CTD tables) as content."""
    return table(section.heading, list(section.columns), section.rows, section.note)


def section(
    title: str,
    basis: str,
    *,
    text: list[str] | None = None,
    tables: list[dict[str, Any]] | None = None,
    charts: list[dict[str, Any]] | None = None,
    empty: str | None = None,
) -> dict[str, Any]:
    return {
        "title": title,
        "basis": basis,
        "text": text or [],
        "tables": tables or [],
        "charts": charts or [],
        "empty": empty,
    }


def limits_text(lower: float | None, upper: float | None, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if lower is not None and upper is not None:
        return f"{lower:g}–{upper:g}{suffix}"
    if lower is not None:
        return f"≥ {lower:g}{suffix}"
    if upper is not None:
        return f"≤ {upper:g}{suffix}"
    return "no limit"


def utc_time(value: datetime) -> str:
    """Times in frozen content are UTC: the content must not depend on who generated it."""
    return format_time(value, zone=UTC_ZONE)
