"""The case base as report–drug–event rows for the scan: one row per case × suspect (or
interacting) product × event, from the current version of every case that counts.

Cases taken in from openFDA/FAERS or E2B are cases like any other here, so the scan over the
case base covers the imported reports too. A case found not valid, or merged as a duplicate,
is not counted (it would count a patient's reaction twice). The event is named by its MedDRA
PT code where the case holds one, else by the verbatim term in lower case, so that "Rash" and
"rash" are one event and two verbatim terms coded to the same PT are one event."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    DrugRole,
    PVCase,
    PVCaseEvent,
    PVCaseProduct,
)
from pharmaqms.lifecycle.use.signals.counts import DRUG, EVENT, REPORT

_NOT_COUNTED = (CaseStatus.INVALID.value, CaseStatus.DUPLICATE.value)
_SUSPECTED = (DrugRole.SUSPECT.value, DrugRole.INTERACTING.value)


@dataclass(frozen=True, slots=True)
class CaseBase:
    """``rows``: report_id (the case id), drug, event; ``terms``: event key → (the term shown,
    the MedDRA code or "")."""

    rows: pl.DataFrame
    terms: dict[str, tuple[str, str]]

    def cases_of(self, drug: str, event: str) -> list[int]:
        found = self.rows.filter((pl.col(DRUG) == drug) & (pl.col(EVENT) == event))
        return sorted(int(v) for v in found[REPORT].unique().to_list())


def event_key(verbatim: str, meddra_code: str) -> str:
    code = (meddra_code or "").strip()
    return code if code else " ".join((verbatim or "").split()).lower()


def load(session: Session) -> CaseBase:
    counted = select(PVCase.id).where(PVCase.status.not_in(_NOT_COUNTED))
    products = session.execute(
        select(PVCaseProduct.case_id, PVCaseProduct.product).where(
            PVCaseProduct.current.is_(True),
            PVCaseProduct.role.in_(_SUSPECTED),
            PVCaseProduct.case_id.in_(counted),
        )
    ).all()
    events = session.execute(
        select(PVCaseEvent.case_id, PVCaseEvent.verbatim, PVCaseEvent.meddra_code).where(
            PVCaseEvent.current.is_(True), PVCaseEvent.case_id.in_(counted)
        )
    ).all()
    terms: dict[str, tuple[str, str]] = {}
    event_rows = []
    for case_id, verbatim, code in events:
        key = event_key(verbatim, code)
        if not key:
            continue
        terms.setdefault(key, (verbatim.strip(), (code or "").strip()))
        event_rows.append((case_id, key))
    drug_frame = pl.DataFrame(
        {REPORT: [p[0] for p in products], DRUG: [p[1].strip() for p in products]},
        schema={REPORT: pl.Int64, DRUG: pl.String},
    )
    event_frame = pl.DataFrame(
        {REPORT: [e[0] for e in event_rows], EVENT: [e[1] for e in event_rows]},
        schema={REPORT: pl.Int64, EVENT: pl.String},
    )
    rows = drug_frame.join(event_frame, on=REPORT).unique().sort(REPORT, DRUG, EVENT)
    return CaseBase(rows, terms)
