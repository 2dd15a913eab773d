"""Data-quality figures of a source over a period, from its import runs (the runs are records,
so the figures can always be recomputed and checked):

* completeness = required fields present / required fields expected, over every row
  governance checked (required as the entity's spec declares; optional fields don't count, so
  the same readings score alike from a file and over MQTT; a value that fails its check is
  not present);
* validity = accepted / (accepted + quarantined) — duplicates are neither;
* timeliness = the median of the runs' median delays (received − measured), and the largest
  delay seen, in seconds;
* rejected = rows quarantined, plus the deliveries refused as a whole.

Replays of quarantined rows are people's corrections, not deliveries from the source: they are
left out, so fixing a row does not make the source look better than it delivered. Periods are
by the time a run was received, ``start`` inclusive and ``end`` exclusive."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.platform.ingest.models import (
    DataSource,
    ImportRun,
    QuarantinedRow,
    QuarantineStatus,
    RunStatus,
)


@dataclass(frozen=True)
class QualityFigures:
    source: str
    start: datetime
    end: datetime
    deliveries: int
    refused: int
    rows: int
    accepted: int
    corrected: int
    duplicate: int
    quarantined: int
    fields_expected: int
    fields_present: int
    median_delay_seconds: float | None
    max_delay_seconds: float | None
    open_quarantine: int

    @property
    def completeness(self) -> float | None:
        return self.fields_present / self.fields_expected if self.fields_expected else None

    @property
    def validity(self) -> float | None:
        judged = self.accepted + self.quarantined
        return self.accepted / judged if judged else None

    @property
    def rejected(self) -> int:
        return self.quarantined + self.refused

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "deliveries": self.deliveries,
            "refused": self.refused,
            "rows": self.rows,
            "accepted": self.accepted,
            "corrected": self.corrected,
            "duplicate": self.duplicate,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "completeness": self.completeness,
            "validity": self.validity,
            "timeliness_median_seconds": self.median_delay_seconds,
            "timeliness_max_seconds": self.max_delay_seconds,
            "open_quarantine": self.open_quarantine,
        }


def figures(session: Session, source: DataSource, start: datetime, end: datetime) -> QualityFigures:
    replays = select(QuarantinedRow.replay_run_id).where(QuarantinedRow.replay_run_id.is_not(None))
    runs = list(
        session.scalars(
            select(ImportRun).where(
                ImportRun.source_id == source.id,
                ImportRun.received_at >= start,
                ImportRun.received_at < end,
                ImportRun.id.not_in(replays),
            )
        )
    )
    taken = [r for r in runs if r.status == RunStatus.COMPLETED]
    medians = [r.delay_p50_seconds for r in taken if r.delay_p50_seconds is not None]
    maxima = [r.max_delay_seconds for r in taken if r.max_delay_seconds is not None]
    open_rows = session.scalar(
        select(func.count())
        .select_from(QuarantinedRow)
        .where(
            QuarantinedRow.source_id == source.id,
            QuarantinedRow.status == QuarantineStatus.OPEN,
        )
    )
    return QualityFigures(
        source=source.code,
        start=start,
        end=end,
        deliveries=len(runs),
        refused=sum(1 for r in runs if r.status == RunStatus.REFUSED),
        rows=sum(r.rows_total for r in taken),
        accepted=sum(r.rows_accepted for r in taken),
        corrected=sum(r.rows_corrected for r in taken),
        duplicate=sum(r.rows_duplicate for r in taken),
        quarantined=sum(r.rows_quarantined for r in taken),
        fields_expected=sum(r.fields_expected for r in taken),
        fields_present=sum(r.fields_present for r in taken),
        median_delay_seconds=statistics.median(medians) if medians else None,
        max_delay_seconds=max(maxima) if maxima else None,
        open_quarantine=int(open_rows or 0),
    )
