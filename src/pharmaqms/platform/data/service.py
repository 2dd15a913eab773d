"""What the data pages and the API read besides plain entity lists: a source's page (its
recent deliveries, the open quarantine and the data-quality figures), one delivery, and one
quarantined row with the fields a correction form needs. Writes go through ``ingest.service``
(ingest, replay, discard) and ``data.sources`` (registration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound
from pharmaqms.platform.data.quality import QualityFigures, figures
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import (
    DataSource,
    ImportRun,
    Lineage,
    QuarantinedRow,
    QuarantineStatus,
)

RECENT_RUNS = 20
OPEN_ROWS_SHOWN = 200


@dataclass(frozen=True)
class SourceOverview:
    source: DataSource
    figures: QualityFigures
    runs: list[ImportRun]
    open_rows: list[QuarantinedRow]
    open_total: int
    run_numbers: dict[int, str]


def source_overview(session: Session, code: str, start: datetime, end: datetime) -> SourceOverview:
    source = ingest.get_source(session, code)
    runs = list(
        session.scalars(
            select(ImportRun)
            .where(ImportRun.source_id == source.id)
            .order_by(ImportRun.received_at.desc(), ImportRun.id.desc())
            .limit(RECENT_RUNS)
        )
    )
    open_filter = (
        QuarantinedRow.source_id == source.id,
        QuarantinedRow.status == QuarantineStatus.OPEN,
    )
    open_rows = list(
        session.scalars(
            select(QuarantinedRow)
            .where(*open_filter)
            .order_by(QuarantinedRow.id)
            .limit(OPEN_ROWS_SHOWN)
        )
    )
    total = session.scalar(select(func.count()).select_from(QuarantinedRow).where(*open_filter))
    run_ids = {row.run_id for row in open_rows}
    numbers = dict(
        session.execute(select(ImportRun.id, ImportRun.number).where(ImportRun.id.in_(run_ids)))
        .tuples()
        .all()
    )
    return SourceOverview(
        source, figures(session, source, start, end), runs, open_rows, int(total or 0), numbers
    )


def all_sources(session: Session) -> list[tuple[DataSource, ImportRun | None, int]]:
    """Every source with its latest delivery and how many rows wait in its quarantine."""
    found = []
    for source in session.scalars(select(DataSource).order_by(DataSource.code)):
        latest = session.scalars(
            select(ImportRun)
            .where(ImportRun.source_id == source.id)
            .order_by(ImportRun.received_at.desc(), ImportRun.id.desc())
            .limit(1)
        ).first()
        waiting = session.scalar(
            select(func.count())
            .select_from(QuarantinedRow)
            .where(
                QuarantinedRow.source_id == source.id,
                QuarantinedRow.status == QuarantineStatus.OPEN,
            )
        )
        found.append((source, latest, int(waiting or 0)))
    return found


@dataclass(frozen=True)
class HeldRow:
    row: QuarantinedRow
    source: DataSource
    run: ImportRun
    replay_run: ImportRun | None
    fields: list[str]


def held_row(session: Session, row_id: int) -> HeldRow:
    row = session.get(QuarantinedRow, row_id)
    if row is None:
        raise NotFound(f"no quarantined row {row_id}")
    source = session.get(DataSource, row.source_id)
    run = session.get(ImportRun, row.run_id)
    assert source is not None and run is not None
    replay_run = session.get(ImportRun, row.replay_run_id) if row.replay_run_id else None
    connector = ingest.CONNECTORS.get(source.kind)
    spec = connector.specs.get(row.entity) if connector is not None else None
    names: list[str] = []
    if spec is not None:
        for f in spec.fields:
            names.append(f.name)
            if f.unit_field and f.unit_field not in names:
                names.append(f.unit_field)
    raw = row.raw if isinstance(row.raw, dict) else {}
    # Whatever else the row carried (an unknown column) is shown too, so it can be removed.
    names.extend(k for k in raw if k not in names)
    return HeldRow(row, source, run, replay_run, names)


@dataclass(frozen=True)
class RunDetail:
    run: ImportRun
    source: DataSource
    held: list[QuarantinedRow]
    corrections: list[Lineage]


def run_detail(session: Session, run_id: int) -> RunDetail:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"no import run {run_id}")
    source = session.get(DataSource, run.source_id)
    assert source is not None
    held = list(
        session.scalars(
            select(QuarantinedRow)
            .where(QuarantinedRow.run_id == run.id)
            .order_by(QuarantinedRow.id)
        )
    )
    corrections = list(
        session.scalars(select(Lineage).where(Lineage.run_id == run.id).order_by(Lineage.id))
    )
    return RunDetail(run, source, held, corrections)
