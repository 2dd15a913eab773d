"""Stability results from the LIMS, through the data platform.

The lab logs a stability sample in the LIMS under the sample id the pull's task gives it:
``{study number}/{condition}/T{months}/{batch}``, e.g. ``STB-2026-0001/25C60RH/T6/S2601`` (one
sample per batch: the platform keys a LIMS result by sample, test and replicate); each test's
``test_code`` is the protocol's attribute code, and the LIMS lot must be the sample's batch.
The platform's LIMS connector stores the result (``TestResult``); once its delivery has
committed this module takes it over into its study. A result whose sample id names no study,
a study that is not running, or a batch, condition, time point or attribute outside the
protocol is quarantined with the reason — never dropped. Each ``TestResult`` is taken over once
(its id is unique in the results and in the quarantine): running it again changes nothing.

Note: the production QC module also judges LIMS results of its items against their release
specifications; a stability sample of a registered item is seen by both, by design (an OOS on
stability is an OOS)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import service
from pharmaqms.lifecycle.rnd.stability.models import (
    QuarantinedStabilityResult,
    ResultSource,
    StabilityResult,
    StabilityStudy,
    StudyStatus,
)
from pharmaqms.platform.ingest.deliveries import add_delivery_listener
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.platform.timeseries.models import TestResult

log = logging.getLogger("pharmaqms.stability")

PREFIX = f"{StabilityStudy.__number_prefix__}-"
SAMPLE_ID = re.compile(
    r"^(STB-\d{4}-\d{4,})/([A-Z0-9-]{1,20})/T(\d{1,3}(?:\.\d{1,3})?)/([A-Za-z0-9/_.-]{1,40})$"
)


@dataclass(frozen=True)
class TakeOver:
    stored: int
    quarantined: int


def sample_id(study_number: str, condition: str, months: float, batch: str) -> str:
    """The LIMS sample id of a batch's sample at a pull."""
    return f"{study_number}/{condition}/T{months:g}/{batch}"


def _pending(session: Session) -> list[tuple[TestResult, Lot]]:
    taken = select(StabilityResult.test_result_id).where(
        StabilityResult.test_result_id.is_not(None)
    )
    held = select(QuarantinedStabilityResult.test_result_id).where(
        QuarantinedStabilityResult.test_result_id.is_not(None)
    )
    query = (
        select(TestResult, Lot)
        .join(Lot, TestResult.lot_id == Lot.id)
        .where(
            TestResult.sample_id.startswith(PREFIX),
            TestResult.id.not_in(taken),
            TestResult.id.not_in(held),
        )
        .order_by(TestResult.id)
    )
    return [(r, lot) for r, lot in session.execute(query)]


def take_over_lims_results(session: Session, *, actor: Actor) -> TakeOver:
    stored = quarantined = 0
    by_study: dict[int, list[service.ResultIn]] = {}
    for result, lot in _pending(session):
        received = {
            "sample_id": result.sample_id,
            "test_code": result.test_code,
            "lot": lot.lot_number,
            "item": lot.item_code,
            "value": result.value,
            "text_value": result.text_value,
            "unit": result.unit,
        }
        found = SAMPLE_ID.match(result.sample_id)
        study = (
            session.scalars(
                select(StabilityStudy).where(StabilityStudy.number == found.group(1))
            ).first()
            if found
            else None
        )
        reason: str | None = None
        if found is None:
            reason = (
                f"sample id {result.sample_id!r} is not STB-YYYY-NNNN/CONDITION/T<months>/BATCH"
            )
        elif study is None:
            reason = f"no stability study {found.group(1)}"
        elif study.status != StudyStatus.APPROVED.value:
            reason = f"{study.number} is {study.status}: it takes no results"
        elif found.group(4) != lot.lot_number:
            reason = f"sample of batch {found.group(4)} reported on lot {lot.lot_number}"
        elif lot.item_code != study.product_code:
            reason = f"lot {lot.lot_number} is of {lot.item_code}, not of {study.product_code}"
        elif result.value is None:
            reason = "a stability attribute is a number; the LIMS reported text"
        if reason is not None or found is None or study is None:
            service.quarantine(
                session,
                actor=actor,
                study_id=study.id if study else None,
                source=ResultSource.LIMS,
                received=received,
                reason=reason or "not a stability sample",
                test_result_id=result.id,
            )
            quarantined += 1
            continue
        by_study.setdefault(study.id, []).append(
            service.ResultIn(
                batch=lot.lot_number,
                condition=found.group(2),
                months=float(found.group(3)),
                attribute=result.test_code,
                value=result.value,
                unit=result.unit,
                test_result_id=result.id,
            )
        )
    for study_id, results in by_study.items():
        outcome = service.record_results(
            session, actor=actor, study_id=study_id, results=results, source=ResultSource.LIMS
        )
        stored += len(outcome.stored)
        quarantined += len(outcome.quarantined)
    return TakeOver(stored, quarantined)


def take_over_after_delivery(database: Database, run_id: int) -> None:
    with unit_of_work(database) as session:
        summary = take_over_lims_results(session, actor=auth.system_actor(session, Channel.IMPORT))
    log.info("import run %d: stability results taken over: %s", run_id, summary)


add_delivery_listener("lims", take_over_after_delivery)
