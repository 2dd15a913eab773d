"""The figures of a periodic safety summary (ICH E2C(R2) PBRER §6 "Estimated exposure and use
patterns" aside, the summary tabulations of Appendix / GVP Module VII): counted from typed case
rows, pure, so a test can state the answer by hand.

Boundaries: a case is in the interval when its first receipt (UTC date) lies between the start
and the end of the period, both days included; cumulative counts every case first received up
to the end of the period, included (from the first case the system holds). A case's follow-ups
do not move it to a later interval: PBRERs tabulate cases by initial receipt.

Terms: grouped by System Organ Class and Preferred Term where the event's code is an LLT of the
organisation's loaded MedDRA release (the PT's primary SOC); else the MedDRA code as given;
else the reporter's verbatim term folded to lower case. Coded terms come first, SOC by SOC
(alphabetical, as the MedDRA international order is not in the files), then the rest. A term
is counted once per case; it is serious when the event itself meets an E2B seriousness
criterion, fatal when that criterion is death.

The figures are plain JSON (str, int, bool, lists, dicts): that is what a signed report
freezes, and what its PDF is rendered from."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from pharmaqms.lifecycle.use.psur.selection import CaseRow, ProductScope

BOUNDARIES = (
    "Interval: cases first received from {start} to {end}, both days included (UTC). "
    "Cumulative: every case first received up to {end}, included. Invalid cases and "
    "duplicates merged into another case are not counted."
)

# The EEA's member states (ISO 3166 codes: Greece is GR here, not the EU's EL).
EEA = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    }
)


def region_of(country: str | None) -> str:
    if not country:
        return "unknown"
    code = country.upper()
    if code in EEA:
        return "EU/EEA"
    if code == "US":
        return "US"
    if code == "CN":
        return "China"
    return "rest of world"


def _tally(cases: list[CaseRow]) -> dict[str, int]:
    return {
        "cases": len(cases),
        "serious": sum(1 for c in cases if c.serious),
        "non_serious": sum(1 for c in cases if not c.serious),
        "fatal": sum(1 for c in cases if c.fatal),
    }


def _terms(interval: list[CaseRow], cumulative: list[CaseRow]) -> list[dict[str, Any]]:
    labels: dict[str, str] = {}
    coded: dict[str, bool] = {}
    socs: dict[str, str] = {}

    def count(cases: list[CaseRow]) -> dict[str, Counter[str]]:
        found: dict[str, Counter[str]] = {}
        for case in cases:
            seen: dict[str, tuple[bool, bool]] = {}
            for event in case.events:
                key = event.term_key
                if event.pt_code:
                    labels.setdefault(key, event.pt_name)
                    socs[key] = event.soc_name
                else:
                    labels.setdefault(
                        key,
                        f"{event.meddra_code} ({event.verbatim})" if event.meddra_code else key,
                    )
                coded[key] = bool(event.meddra_code)
                serious, fatal = seen.get(key, (False, False))
                seen[key] = (
                    serious or bool(event.seriousness),
                    fatal or "death" in event.seriousness,
                )
            for key, (serious, fatal) in seen.items():
                tally = found.setdefault(key, Counter())
                tally["cases"] += 1
                tally["serious" if serious else "non_serious"] += 1
                tally["fatal"] += int(fatal)
        return found

    # cumulative first, so a term's label is the words of its earliest case
    total = count(cumulative)
    now = count(interval)
    keys = sorted(
        total, key=lambda k: (k not in socs, socs.get(k, ""), -total[k]["cases"], labels[k])
    )
    fields = ("cases", "serious", "non_serious", "fatal")
    return [
        {
            "term": key,
            "label": labels[key],
            "coded": coded[key],
            "soc": socs.get(key, ""),
            "interval": {f: int(now.get(key, Counter())[f]) for f in fields},
            "cumulative": {f: int(total[key][f]) for f in fields},
        }
        for key in keys
    ]


def _by(interval: list[CaseRow], cumulative: list[CaseRow], key: Any) -> list[dict[str, Any]]:
    total = Counter(key(c) for c in cumulative)
    now = Counter(key(c) for c in interval)
    return [
        {"group": group, "interval": int(now[group]), "cumulative": int(total[group])}
        for group in sorted(total, key=lambda g: (-total[g], g))
    ]


def _case_line(case: CaseRow) -> dict[str, Any]:
    return {
        "number": case.number,
        "received_on": case.received_on.isoformat(),
        "status": case.status,
        "source": case.source,
        "report_type": case.report_type,
        "country": case.country or "",
        "age": "" if case.age_years is None else f"{case.age_years.normalize():f}",
        "sex": case.sex or "",
        "events": "; ".join(e.verbatim for e in case.events),
        "criteria": list(case.criteria),
        "serious": case.serious,
        "fatal": case.fatal,
    }


def summarise(scope: ProductScope, start: date, end: date, cases: list[CaseRow]) -> dict[str, Any]:
    """The summary of the product's cases for the period [start, end]."""
    cumulative = sorted((c for c in cases if c.received_on <= end), key=lambda c: c.id)
    interval = [c for c in cumulative if c.received_on >= start]
    return {
        "product": scope.name,
        "asked": scope.asked,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "boundaries": BOUNDARIES.format(start=start.isoformat(), end=end.isoformat()),
        "totals": {"interval": _tally(interval), "cumulative": _tally(cumulative)},
        "terms": _terms(interval, cumulative),
        "sources": _by(interval, cumulative, lambda c: c.source),
        "report_types": _by(interval, cumulative, lambda c: c.report_type),
        "regions": _by(interval, cumulative, lambda c: region_of(c.country)),
        "countries": _by(interval, cumulative, lambda c: c.country or "unknown"),
        "cases": [_case_line(c) for c in interval],
    }
