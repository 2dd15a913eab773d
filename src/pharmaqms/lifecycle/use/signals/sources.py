"""Report–drug–event rows from the files analysts bring: a CSV (``report_id,drug,event`` and
optionally ``age``, ``sex``, ``year``), an openFDA ``drug/event`` JSON export, or the FDA's
FAERS quarterly ASCII extract, as its ZIP or an unpacked directory (:mod:`.faers_ascii`).

The CSV is read by Polars (columnar, any size); the openFDA export goes through the
platform's JSON reader (:func:`pharmaqms.platform.connectors.tabular.json_records`, the
one the FAERS connector uses) and each safety report becomes the cross product of its
medicinal products and its MedDRA preferred terms, with the patient's sex, onset age in years
and the year the report was received."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from pharmaqms.lifecycle.use.signals.counts import DRUG, EVENT, REPORT
from pharmaqms.lifecycle.use.signals.errors import SignalInputError
from pharmaqms.lifecycle.use.signals.faers_ascii import is_faers_extract, read_faers
from pharmaqms.platform.connectors.tabular import json_records

CSV_TYPES: Final = {
    REPORT: pl.String,
    DRUG: pl.String,
    EVENT: pl.String,
    "age": pl.Float64,
    "sex": pl.String,
    "year": pl.Int64,
}
# openFDA patientonsetageunit (E2B D.2.2b) → years per unit.
AGE_UNIT_YEARS: Final = {
    "800": 10.0,  # decade
    "801": 1.0,  # year
    "802": 1 / 12,  # month
    "803": 7 / 365.25,  # week
    "804": 1 / 365.25,  # day
    "805": 1 / 8766,  # hour
}
OPENFDA_SEX: Final = {"1": "M", "2": "F"}  # 0 = unknown


@dataclass(frozen=True, slots=True)
class SourceRows:
    """The rows of an input file and what reading it left out (one sentence each)."""

    rows: pl.LazyFrame
    kind: str  # "csv", "openfda" or "faers"
    notes: tuple[str, ...] = ()


def read_source(path: Path, *, concomitant: bool = False, encoding: str = "utf-8") -> SourceRows:
    """The rows of a FAERS extract (a directory or a ZIP), else of a CSV or an openFDA JSON
    file. ``concomitant`` and ``encoding`` apply to a FAERS extract only."""
    if is_faers_extract(path):
        extract = read_faers(path, concomitant=concomitant, encoding=encoding)
        return SourceRows(extract.rows.lazy(), "faers", extract.notes)
    if concomitant:
        raise SignalInputError(
            f"{path.name}: --concomitant applies to a FAERS extract (the CSV or JSON rows "
            "already say which drugs count)"
        )
    if encoding != "utf-8":
        raise SignalInputError(f"{path.name}: --encoding applies to a FAERS extract only")
    if _is_json(path):
        return SourceRows(openfda_rows(path.read_bytes()).lazy(), "openfda")
    return SourceRows(csv_rows(path), "csv")


def _is_json(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    return head[:1] in (b"{", b"[")


def read_rows(path: Path) -> pl.LazyFrame:
    """The rows of a CSV or openFDA JSON file (told apart by their first character)."""
    if _is_json(path):
        return openfda_rows(path.read_bytes()).lazy()
    return csv_rows(path)


def csv_rows(path: Path) -> pl.LazyFrame:
    try:
        header = pl.scan_csv(path, infer_schema=False).collect_schema()
    except pl.exceptions.PolarsError as error:
        raise SignalInputError(f"{path.name}: not readable as CSV: {error}") from None
    missing = [name for name in (REPORT, DRUG, EVENT) if name not in header]
    if missing:
        raise SignalInputError(
            f"{path.name}: no column {', '.join(missing)} (a CSV needs report_id,drug,event)"
        )
    types = {name: kind for name, kind in CSV_TYPES.items() if name in header}
    return pl.scan_csv(path, schema_overrides=types, infer_schema=False).select(list(types))


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and str(value).strip():
        return str(value).strip()
    return None


def _age_years(patient: dict[str, Any]) -> float | None:
    try:
        age = float(patient.get("patientonsetage"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    unit = AGE_UNIT_YEARS.get(str(patient.get("patientonsetageunit") or "801"))
    return None if unit is None else age * unit


def openfda_rows(content: bytes) -> pl.DataFrame:
    """One row per report × medicinal product × reaction term of an openFDA export; a report
    without a product or a term adds nothing (it has no pair to count)."""
    reports: list[str] = []
    drugs: list[str] = []
    events: list[str] = []
    ages: list[float | None] = []
    sexes: list[str | None] = []
    years: list[int | None] = []
    for _position, record in json_records(content, "results"):
        report = _text(record.get("safetyreportid"))
        patient = record.get("patient")
        if report is None or not isinstance(patient, dict):
            continue
        products = {
            name
            for drug in patient.get("drug") or []
            if isinstance(drug, dict) and (name := _text(drug.get("medicinalproduct")))
        }
        terms = {
            term
            for reaction in patient.get("reaction") or []
            if isinstance(reaction, dict) and (term := _text(reaction.get("reactionmeddrapt")))
        }
        received = _text(record.get("receivedate"))
        year = int(received[:4]) if received and received[:4].isdecimal() else None
        age, sex = _age_years(patient), OPENFDA_SEX.get(str(patient.get("patientsex")))
        for product in sorted(products):
            for term in sorted(terms):
                reports.append(report)
                drugs.append(product)
                events.append(term)
                ages.append(age)
                sexes.append(sex)
                years.append(year)
    return pl.DataFrame(
        {REPORT: reports, DRUG: drugs, EVENT: events, "age": ages, "sex": sexes, "year": years},
        schema=CSV_TYPES,
    )
