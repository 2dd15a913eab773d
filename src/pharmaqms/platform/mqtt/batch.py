"""One batch of MQTT messages → one import run, through the one ingest pipeline.

The run is the audited record of the delivery (who: the service account on the MQTT channel;
what: the hash of exactly the messages received; the counts); the readings are append-only
rows that point at it. The acknowledgement to the broker is the side effect after commit:
``store_batch`` hands it to the unit of work, which runs it only once the commit succeeded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

import pharmaqms.platform.connectors.sensors  # noqa: F401 - registers the sensors connector
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import Conflict, DocumentRefused, InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.uow import first_after_commit, unit_of_work
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.ingest.models import DataSource, RunStatus
from pharmaqms.platform.mqtt_messages import MQTT_MAPPING, Message, encode_batch
from pharmaqms.platform.sensors import sequence


@dataclass(frozen=True)
class BatchOutcome:
    run_number: str
    messages: int
    accepted: int
    duplicate: int
    quarantined: int


def ensure_source(database: Database, actor: Actor, code: str) -> None:
    """The data source MQTT deliveries are attributed to, registered on first start."""
    for attempt in (1, 2):
        try:
            with unit_of_work(database) as session:
                source = session.scalars(select(DataSource).where(DataSource.code == code)).first()
                if source is None:
                    ingest.register_source(
                        session,
                        actor=actor,
                        code=code,
                        name="IoT sensors over MQTT",
                        kind="sensors",
                        mapping=dict(MQTT_MAPPING),
                    )
                    return
                if source.kind != "sensors" or source.mapping.get("format") != "mqtt":
                    raise InvalidInput(
                        f"data source {code} is not an MQTT sensors source "
                        f"(kind {source.kind}, mapping {source.mapping})",
                        field="source",
                    )
                return
        except Conflict:
            # Another worker of a shared subscription registered it a moment ago: read it.
            if attempt == 2:
                raise


def store_batch(
    database: Database,
    actor: Actor,
    source_code: str,
    messages: Sequence[Message],
    *,
    acknowledge: Callable[[], None],
    filename: str = "",
    sequence_grace: timedelta = timedelta(minutes=5),
) -> BatchOutcome:
    """Store the messages as one import run and, after the commit, ``acknowledge`` them.
    Raises ``DocumentRefused`` (after recording the refusal) when the batch as a whole could
    not be taken: nothing is acknowledged then, so the broker keeps the messages."""
    with unit_of_work(database) as session:
        run = ingest.ingest(
            session,
            actor=actor,
            kind="sensors",
            content=encode_batch(messages),
            filename=filename or f"MQTT batch of {len(messages)} message(s)",
            source_code=source_code,
        )
        if run.status == RunStatus.COMPLETED:
            # Numbered readings: gaps are found in the delivery's transaction, and those open
            # long enough are reported, so a gap and its finding commit with the readings.
            sequence.check_sequences(session, run.id)
            sequence.confirm_due_gaps(session, actor, sequence_grace)
            # Acknowledged as soon as committed, before the delivery's listeners judge it.
            first_after_commit(session, acknowledge)
        outcome = BatchOutcome(
            run_number=run.number,
            messages=len(messages),
            accepted=run.rows_accepted,
            duplicate=run.rows_duplicate,
            quarantined=run.rows_quarantined,
        )
        refused = run.refused_reason if run.status == RunStatus.REFUSED else None
    if refused is not None:
        raise DocumentRefused(f"MQTT batch refused ({outcome.run_number}): {refused}")
    return outcome


def confirm_gaps(database: Database, actor: Actor, grace: timedelta) -> int:
    """Report the gaps that stayed open long enough while no delivery came (an idle stream)."""
    with unit_of_work(database) as session:
        if not sequence.has_open_gaps(session):
            return 0
        return len(sequence.confirm_due_gaps(session, actor, grace))
