"""The detection run: the disproportionality scan over the whole case base, and a signal
record opened for each product–event pair a method flags.

What a re-run does (decided here, and documented in docs/pharmacovigilance.md):

- A flagged pair with an **open** signal (detected, validated, assessed, action) never gets a
  second one. When the new figures differ from the ones last noted, the run records them on
  the signal as ``latest_figures`` — an audited change with the reason "detection re-run:
  new figures" — and adds the cases that have joined as evidence. The figures at detection
  are never touched: they are what the signal was validated on.
- Same figures, nothing written: a run that finds nothing new leaves no trace on the record.
- A pair whose last signal is **closed** or was found **not a signal** is opened again only
  when its count a has grown beyond the count that signal last saw: new evidence, a new
  signal. The same evidence is not put before the reviewers twice.
- A pair no longer flagged is left as it is: a signal is closed by people, not by a run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.db import replica_reads
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.use.signals import casebase
from pharmaqms.lifecycle.use.signals.counts import DRUG, EVENT
from pharmaqms.lifecycle.use.signals.errors import SignalInputError
from pharmaqms.lifecycle.use.signals.models import OPEN_SIGNAL_STATUSES, PVSignal, SignalSource
from pharmaqms.lifecycle.use.signals.scan import (
    ALL_METHODS,
    FIGURES,
    Method,
    ScanResult,
    Thresholds,
    scan,
)

# Fewer than this many cases for a pair is anecdote for every method (the Evans n ≥ 3).
DEFAULT_MIN_COUNT = 3


@dataclass(frozen=True, slots=True)
class CaseBaseScan:
    """The scored pairs of the case base (empty when it holds nothing to count)."""

    result: ScanResult | None
    base: casebase.CaseBase
    methods: tuple[Method, ...]
    thresholds: Thresholds

    def rows(self) -> list[dict[str, Any]]:
        if self.result is None:
            return []
        out = []
        for row in self.result.pairs.iter_rows(named=True):
            term, code = self.base.terms.get(row[EVENT], (row[EVENT], ""))
            flags = [m.value for m in self.methods if row.get(f"signal_{m.value}")]
            out.append({**row, "event_term": term, "meddra_code": code, "flagged_by": flags})
        return out


@dataclass
class DetectionOutcome:
    opened: list[PVSignal] = field(default_factory=list)
    refreshed: list[PVSignal] = field(default_factory=list)
    unchanged: list[PVSignal] = field(default_factory=list)
    already_decided: list[tuple[str, str]] = field(default_factory=list)
    pairs: int = 0
    flagged: int = 0


def scan_case_base(
    session: Session,
    *,
    methods: Sequence[Method] = ALL_METHODS,
    min_count: int = 1,
    thresholds: Thresholds | None = None,
) -> CaseBaseScan:
    limits = thresholds or Thresholds()
    chosen = tuple(m for m in ALL_METHODS if m in set(methods))
    if not chosen:
        raise SignalInputError("no method chosen: choose from prr, ror, ic, ebgm")
    base = casebase.load(session)
    if base.rows.height == 0:
        return CaseBaseScan(None, base, chosen, limits)
    result = scan(base.rows, methods=chosen, min_count=min_count, thresholds=limits)
    return CaseBaseScan(result, base, chosen, limits)


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def figures_of(row: dict[str, Any], found: CaseBaseScan) -> dict[str, Any]:
    """What is frozen on the signal: the table, each method's figures and verdict, the
    thresholds and the size of the case base."""
    figures: dict[str, Any] = {name: _number(row.get(name)) for name in ("a", "b", "c", "d")}
    figures["N"] = row.get("N")
    figures["E"] = _number(row.get("E"))
    for method in found.methods:
        for name in FIGURES[method]:
            figures[name] = _number(row.get(name))
        figures[f"signal_{method.value}"] = bool(row.get(f"signal_{method.value}"))
    figures["methods"] = [m.value for m in found.methods]
    figures["thresholds"] = found.thresholds.as_dict()
    return figures


def basis_of(row: dict[str, Any], found: CaseBaseScan) -> str:
    said = {
        "prr": "PRR {PRR:.2f} (χ² {chi2:.1f}, a = {a})",
        "ror": "ROR {ROR:.2f}, lower 95 % bound {ROR_lo95:.2f}",
        "ic": "IC025 {IC025:.2f}",
        "ebgm": "EB05 {EB05:.2f}",
    }
    parts = []
    for method in found.methods:
        if row.get(f"signal_{method.value}"):
            try:
                parts.append(said[method.value].format(**row))
            except (TypeError, ValueError):
                parts.append(method.value.upper())
    return (
        f"Flagged by the disproportionality scan over {row.get('N')} reports of the case base: "
        + "; ".join(parts)
        + "."
    )


def _same_table(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old.get(k) == new.get(k) for k in ("a", "b", "c", "d"))


def _llt_keys_by_pt(session: Session) -> dict[str, set[str]]:
    """Signals opened before detection counted at PT level may name an LLT code as their
    event: each PT of the current release with the LLT keys of such signals that stand for it,
    so that a re-run refreshes them instead of opening a second signal on the PT."""
    keys = session.scalars(
        select(PVSignal.event_key).where(PVSignal.lot_number == "").distinct()
    ).all()
    codes = {k for k in keys if len(k) == 8 and k.isdecimal()}
    by_pt: dict[str, set[str]] = {}
    for code, pt in casebase.coding(session, codes).pt_of.items():
        if code != pt:
            by_pt.setdefault(pt, set()).add(code)
    return by_pt


def _open_signal_for(session: Session, product: str, keys: set[str]) -> PVSignal | None:
    return session.scalars(
        select(PVSignal).where(
            PVSignal.product == product,
            PVSignal.event_key.in_(keys),
            PVSignal.lot_number == "",
            PVSignal.status.in_(OPEN_SIGNAL_STATUSES),
        )
    ).first()


def _last_decided(session: Session, product: str, keys: set[str]) -> PVSignal | None:
    return session.scalars(
        select(PVSignal)
        .where(
            PVSignal.product == product,
            PVSignal.event_key.in_(keys),
            PVSignal.lot_number == "",
            PVSignal.status.not_in(OPEN_SIGNAL_STATUSES),
        )
        .order_by(PVSignal.id.desc())
    ).first()


def _count_seen(signal: PVSignal) -> int:
    seen = signal.latest_figures or signal.figures
    return int(seen.get("a") or signal.table_a or 0)


def refresh(
    session: Session, *, actor: Actor, signal: PVSignal, figures: dict[str, Any], cases: list[int]
) -> bool:
    """Note a re-run's figures on an open signal; False when nothing changed."""
    from pharmaqms.lifecycle.use.signals import service

    noted = signal.latest_figures or signal.figures
    if _same_table(noted, figures):
        return False
    with audit.changes(session, actor=actor, reason="detection re-run: new figures"):
        signal.latest_figures = figures
        signal.refreshed_at = clock.now()
    service.add_evidence(session, actor=actor, signal=signal, case_ids=cases, note="re-run")
    return True


def run_detection(
    session: Session,
    *,
    actor: Actor,
    methods: Sequence[Method] = ALL_METHODS,
    min_count: int = DEFAULT_MIN_COUNT,
    thresholds: Thresholds | None = None,
) -> DetectionOutcome:
    """Scan the case base and open (or refresh) a signal for every flagged pair."""
    from pharmaqms.lifecycle.use.signals import service

    actor.require("signals.detect", "run signal detection")
    # The scan reads the whole case base: from the read replica when there is one.
    with replica_reads(session) as reads:
        found = scan_case_base(reads, methods=methods, min_count=min_count, thresholds=thresholds)
    outcome = DetectionOutcome()
    if found.result is None:
        return outcome
    outcome.pairs = found.result.pairs.height
    older_keys = _llt_keys_by_pt(session)
    flag = pl.any_horizontal([pl.col(f"signal_{m.value}") for m in found.methods])
    for row in found.result.pairs.filter(flag).iter_rows(named=True):
        outcome.flagged += 1
        product, key = row[DRUG], row[EVENT]
        figures = figures_of(row, found)
        cases = found.base.cases_of(product, key)
        same = {key, *older_keys.get(key, ())}
        current = _open_signal_for(session, product, same)
        if current is not None:
            changed = refresh(session, actor=actor, signal=current, figures=figures, cases=cases)
            (outcome.refreshed if changed else outcome.unchanged).append(current)
            continue
        decided = _last_decided(session, product, same)
        if decided is not None and int(row["a"]) <= _count_seen(decided):
            outcome.already_decided.append((product, key))
            continue
        term, code = found.base.terms.get(key, (key, ""))
        signal = service.open_signal(
            session,
            actor=actor,
            product=product,
            event_key=key,
            event_term=term,
            meddra_code=code,
            source=SignalSource.DISPROPORTIONALITY,
            figures=figures,
            basis=basis_of(row, found),
            case_ids=cases,
        )
        outcome.opened.append(signal)
    return outcome
