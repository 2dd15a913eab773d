"""The case base as report–drug–event rows for the scan: one row per case × suspect (or
interacting) product × event, from the current version of every case that counts.

Cases taken in from openFDA/FAERS or E2B are cases like any other here, so the scan over the
case base covers the imported reports too. A case found not valid, or merged as a duplicate,
is not counted (it would count a patient's reaction twice).

The event counted is the MedDRA **Preferred Term** when the event is coded (standard practice:
EMA's and FDA's disproportionality runs count at PT level). Cases are coded to a Lowest Level
Term, and each LLT belongs to exactly one PT, so "itchy rash" and "skin rash" (two LLTs of the
PT "Rash") reported in one case are one event of that case, counted once. The PT is the one
stored when the event was coded, or, for an event whose code was kept before a release was
loaded, the PT of that code in the current release. An event with a code no loaded release
knows is counted by that code; an event without a code by its verbatim term in lower case
with spacing normalised, so that "Rash" and "rash " are one event. The term shown for a PT
is the PT's name in the release."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.use.cases import meddra
from pharmaqms.lifecycle.use.cases.models import (
    CaseStatus,
    DrugRole,
    MedDRAPreferredTerm,
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
    the MedDRA PT code, or the uncoded code as reported, or "")."""

    rows: pl.DataFrame
    terms: dict[str, tuple[str, str]]

    def cases_of(self, drug: str, event: str) -> list[int]:
        found = self.rows.filter((pl.col(DRUG) == drug) & (pl.col(EVENT) == event))
        return sorted(int(v) for v in found[REPORT].unique().to_list())


def event_key(verbatim: str, meddra_code: str, pt_code: str = "") -> str:
    """The key an event is counted under: its PT, else its code as given, else its words."""
    pt = (pt_code or "").strip()
    if pt:
        return pt
    code = (meddra_code or "").strip()
    return code if code else " ".join((verbatim or "").split()).lower()


@dataclass(frozen=True, slots=True)
class Coding:
    """What the current MedDRA release says of some codes: the PT of each LLT code it holds,
    and the name of each PT (empty without a release)."""

    pt_of: dict[str, str]
    pt_names: dict[str, str]

    def key(self, verbatim: str, meddra_code: str, pt_code: str = "") -> str:
        code = (meddra_code or "").strip()
        return event_key(verbatim, code, (pt_code or "").strip() or self.pt_of.get(code, ""))

    def term(self, key: str, verbatim: str, meddra_code: str) -> tuple[str, str]:
        """(the term shown, the code shown) for an event counted under ``key``."""
        if key in self.pt_names:
            return self.pt_names[key], key
        return verbatim.strip(), (meddra_code or "").strip()


def coding(session: Session, codes: Collection[str], pt_codes: Collection[str] = ()) -> Coding:
    """The PT of each of ``codes`` and the names of those PTs and of ``pt_codes``, from the
    current release; nothing without one."""
    wanted = {c.strip() for c in codes if c and c.strip()}
    pt_of = {code: c.pt_code for code, c in meddra.classify(session, wanted).items()}
    pts = {*pt_of.values(), *(p.strip() for p in pt_codes if p and p.strip())}
    release = meddra.current_release(session)
    names: dict[str, str] = {}
    if release is not None and pts:
        rows = session.execute(
            select(MedDRAPreferredTerm.pt_code, MedDRAPreferredTerm.pt_name).where(
                MedDRAPreferredTerm.release_id == release.id,
                MedDRAPreferredTerm.pt_code.in_(pts),
            )
        )
        names = {code: name for code, name in rows}
    return Coding(pt_of, names)


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
        select(
            PVCaseEvent.case_id,
            PVCaseEvent.verbatim,
            PVCaseEvent.meddra_code,
            PVCaseEvent.meddra_pt_code,
        ).where(PVCaseEvent.current.is_(True), PVCaseEvent.case_id.in_(counted))
    ).all()
    uncoded = {code for _, _, code, pt in events if code and not (pt or "").strip()}
    coded = coding(session, uncoded, {pt for *_, pt in events if pt})
    terms: dict[str, tuple[str, str]] = {}
    event_rows = []
    for case_id, verbatim, code, pt in events:
        key = coded.key(verbatim, code, pt)
        if not key:
            continue
        terms.setdefault(key, coded.term(key, verbatim, code))
        event_rows.append((case_id, key))
    drug_frame = pl.DataFrame(
        {REPORT: [p[0] for p in products], DRUG: [p[1].strip() for p in products]},
        schema={REPORT: pl.Int64, DRUG: pl.String},
    )
    event_frame = pl.DataFrame(
        {REPORT: [e[0] for e in event_rows], EVENT: [e[1] for e in event_rows]},
        schema={REPORT: pl.Int64, EVENT: pl.String},
    )
    # One row per case × drug × event key: two LLTs of one PT in a case are one row.
    rows = drug_frame.join(event_frame, on=REPORT).unique().sort(REPORT, DRUG, EVENT)
    return CaseBase(rows, terms)
