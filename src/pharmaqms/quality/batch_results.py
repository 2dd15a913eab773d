"""Batch analyses across modules: the QC results of a product's batches, for whoever must show
them (the batch analyses of a registration dossier, CTD 3.2.P.5.4) without importing the module
that keeps them.

Production keeps the batches' QC results and the specifications they are judged against; R&D
writes the dossier. A lifecycle module never imports another, so production registers a
*provider* here at import and R&D asks through this module::

    # production, at import
    register_batch_results(ProductionBatchResults())

    # R&D
    for batch in batch_results(session, "PARA500"):
        ...

Reads only. With no provider installed the answer is empty (the caller says "no data")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AnalysisResult:
    """One valid result of a batch against its acceptance criterion."""

    test_code: str
    test_name: str
    result: str  # as recorded, with its unit ("99.6 %", "complies")
    criterion: str  # the acceptance criterion it was judged against, "" when none applied
    outcome: str  # "pass", "fail" or "not_evaluated"
    tested_at: datetime


@dataclass(frozen=True)
class BatchAnalysis:
    """A finished batch of the product and its valid QC results (invalidated ones left out)."""

    lot_number: str
    status: str  # the lot's status now: released, quarantine, rejected, …
    manufactured_on: date | None
    results: tuple[AnalysisResult, ...]


class BatchResultsProvider(Protocol):
    def batches(self, session: Session, product_code: str) -> list[BatchAnalysis]: ...


_PROVIDERS: list[BatchResultsProvider] = []


def register_batch_results(provider: BatchResultsProvider) -> None:
    _PROVIDERS[:] = [provider]


def batch_results(session: Session, product_code: str) -> list[BatchAnalysis]:
    if not _PROVIDERS:
        return []
    return _PROVIDERS[0].batches(session, product_code)
