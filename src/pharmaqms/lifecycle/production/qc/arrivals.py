"""New LIMS results are judged as soon as their delivery has committed: taken over, evaluated
against the approved specifications, and an out-of-specification result opens its
investigation and holds the lot — minutes after the lab released the result, not the next day.
The daily job runs the same take-over to catch anything missed."""

from __future__ import annotations

import logging

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.qc.results import evaluate_lims_results
from pharmaqms.platform.ingest.deliveries import add_delivery_listener

log = logging.getLogger("pharmaqms.qc")


def judge_new_lims_results(database: Database, run_id: int) -> None:
    with unit_of_work(database) as session:
        summary = evaluate_lims_results(session, actor=auth.system_actor(session, Channel.IMPORT))
    log.info("import run %d: LIMS results taken over: %s", run_id, summary)


add_delivery_listener("lims", judge_new_lims_results)
