"""Production's facts about a lot, for its lifecycle page (``platform.genealogy.facts``): the
exceptions of its batch record, its OOS investigations and the SPC alerts raised on its
process. Registered at import; the PV lot page reaches them without importing production."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, BatchRecordException
from pharmaqms.lifecycle.production.monitoring.models import ProcessAlert
from pharmaqms.lifecycle.production.qc.models import OosInvestigation
from pharmaqms.platform.genealogy.facts import register_fact_provider
from pharmaqms.platform.genealogy.providers import LinkedRecord


def batch_exceptions_of(
    session: Session, lot_ids: Sequence[int], _at: object
) -> list[LinkedRecord]:
    rows = session.execute(
        select(BatchRecord.lot_id, BatchRecord.id, BatchRecordException)
        .join(BatchRecordException, BatchRecordException.batch_record_id == BatchRecord.id)
        .where(BatchRecord.lot_id.in_(lot_ids))
        .order_by(BatchRecordException.occurred_at, BatchRecordException.id)
    )
    return [
        LinkedRecord(
            lot_id=lot_id,
            kind="batch_exception",
            key=f"batch_record_exception:{exception.id}",
            label=exception.number,
            relation="exception",
            time=exception.occurred_at,
            url=f"/production/batch-records/{record_id}",
            detail=f"{exception.kind} · {exception.status} · {exception.description[:200]}",
        )
        for lot_id, record_id, exception in rows
    ]


def oos_of(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    rows = session.scalars(
        select(OosInvestigation)
        .where(OosInvestigation.lot_id.in_(lot_ids))
        .order_by(OosInvestigation.id)
    )
    return [
        LinkedRecord(
            lot_id=inv.lot_id,
            kind="oos",
            key=f"oos_investigation:{inv.id}",
            label=inv.number,
            relation="out of specification",
            time=inv.created_at,
            url=f"/production/qc/investigations/{inv.id}",
            detail=f"{inv.test_code} · {inv.status} · {inv.summary[:200]}",
        )
        for inv in rows
    ]


def spc_alerts_of(session: Session, lot_ids: Sequence[int], _at: object) -> list[LinkedRecord]:
    rows = session.scalars(
        select(ProcessAlert)
        .where(ProcessAlert.batch_id.in_(lot_ids))
        .order_by(ProcessAlert.measured_at, ProcessAlert.id)
    )
    return [
        LinkedRecord(
            lot_id=alert.batch_id,
            kind="spc_alert",
            key=f"process_alert:{alert.id}",
            label=alert.number,
            relation="rule broken",
            time=alert.measured_at,
            url=f"/production/monitoring/alerts/{alert.id}",
            detail=f"{alert.subject} · {alert.rule_name} · value {alert.value:g} · {alert.status}",
        )
        for alert in rows
    ]


register_fact_provider("production.batch_exceptions", batch_exceptions_of)
register_fact_provider("production.oos", oos_of)
register_fact_provider("production.spc_alerts", spc_alerts_of)
