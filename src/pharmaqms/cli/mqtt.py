"""``pharmaqms mqtt run``: the ingest worker for IoT sensors (topic scheme in docs/mqtt.md)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.exc import NoResultFound, OperationalError, ProgrammingError

import pharmaqms.schema  # noqa: F401 - the sensors connector registers itself on import
from pharmaqms.cli.common import fail, handle_errors
from pharmaqms.kernel import auth
from pharmaqms.kernel.db import get_database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.settings import get_settings
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.mqtt.batch import ensure_source
from pharmaqms.platform.mqtt.settings import MqttSettings, broker_from_url
from pharmaqms.platform.mqtt.worker import IngestWorker

app = typer.Typer(help="IoT sensor readings over MQTT.", no_args_is_help=True)
log = logging.getLogger("pharmaqms.mqtt")


@app.callback()
def mqtt() -> None:
    """IoT sensor readings over MQTT."""


def _settings(**overrides: Any) -> MqttSettings:
    try:
        return MqttSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        fail(f"MQTT setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")


@app.command("run")
@handle_errors
def run(
    topic: str | None = typer.Option(None, help="Topic filter [PHARMAQMS_MQTT_TOPIC]."),
    share_group: str | None = typer.Option(
        None, help="Join $share/<group>/<topic> to split the stream [PHARMAQMS_MQTT_SHARE_GROUP]."
    ),
    client_id: str | None = typer.Option(
        None, help="Fixed client id of the persistent session [PHARMAQMS_MQTT_CLIENT_ID]."
    ),
    batch_size: int | None = typer.Option(None, help="Messages per commit [500]."),
    batch_ms: int | None = typer.Option(None, help="Longest wait for a batch, in ms [200]."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every batch."),
) -> None:
    """Subscribe (QoS 1, persistent session) and store readings until SIGTERM or Ctrl-C.

    A message is acknowledged to the broker only after its reading, or its quarantine row,
    is committed. On SIGTERM/SIGINT the messages received so far are stored and acknowledged,
    then the worker disconnects; the broker keeps the session and queues what follows."""
    _logging(verbose)
    settings = _settings(
        topic=topic,
        share_group=share_group,
        client_id=client_id,
        batch_size=batch_size,
        batch_ms=batch_ms,
    )
    worker = _worker(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: storing what has arrived, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker.start()
    try:
        worker.run(stop)
    finally:
        worker.close()
    log.info("stopped; %d reading(s) stored by this run", worker.stored)


@app.command("retire")
@handle_errors
def retire(
    client_id: str = typer.Option(..., help="Client id of the worker to retire."),
    share_group: str | None = typer.Option(
        None, help="Its share group [PHARMAQMS_MQTT_SHARE_GROUP]."
    ),
    topic: str | None = typer.Option(None, help="Its topic filter [PHARMAQMS_MQTT_TOPIC]."),
    quiet_seconds: float = typer.Option(
        5.0, min=0.5, help="Done once nothing has arrived for this long."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every batch."),
) -> None:
    """Take a stopped worker of a shared subscription out for good: unsubscribe its session,
    store what the session still held, then end the session.

    Stop the worker first (its service disabled). A session merely left behind goes on
    collecting its share of the stream until it expires, and that share is lost with it."""
    _logging(verbose)
    settings = _settings(topic=topic, share_group=share_group, client_id=client_id)
    worker = _worker(settings, retiring=True)
    stop = threading.Event()
    worker.start()

    def watch() -> None:
        while not stop.wait(0.2):
            if worker.drained(quiet_seconds):
                stop.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        worker.run(stop)
    except BaseException:
        # What the session holds and was not stored must stay with the broker.
        worker.close(keep_session=True)
        raise
    worker.close()
    log.info("retired %s; %d reading(s) stored from its session", client_id, worker.stored)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _worker(settings: MqttSettings, *, retiring: bool = False) -> IngestWorker:
    broker = broker_from_url(get_settings().mqtt_url)
    database = get_database()
    try:
        with unit_of_work(database, write=False) as session:
            actor = auth.system_actor(session, Channel.MQTT)
    except (NoResultFound, OperationalError, ProgrammingError):
        fail(f"the database {database.url} is not initialised: run `pharmaqms init` first")
    ensure_source(database, actor, settings.source)
    return IngestWorker(database, settings, broker, actor, retiring=retiring)
