"""Prometheus metrics (``/metrics``), in the text format of ``prometheus_client``.

Two kinds:

- what each process measures itself: the request latency histogram (``requests``), and the
  process's CPU and memory. Under ``pharmaqms serve --workers N`` the workers share one
  directory (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``) and any worker's answer adds up
  all of them (prometheus_client's multiprocess mode);
- what the database knows, read when scraped, the same whichever process answers: how long
  ago the audit trail was last verified intact (kernel), how late sensor readings arrive
  (platform), how many jobs wait (the job runner). A module adds one with ``register_gauge``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.observability.models import AuditVerifyRun
from pharmaqms.kernel.uow import unit_of_work

log = logging.getLogger("pharmaqms.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# A reading: one value (None: nothing to report yet), or values by their label values.
Reading = float | None | Mapping[tuple[str, ...], float]


@dataclass(frozen=True)
class DatabaseGauge:
    name: str
    documentation: str
    read: Callable[[Session], Reading]
    labels: tuple[str, ...] = ()


_GAUGES: dict[str, DatabaseGauge] = {}


def register_gauge(
    name: str,
    documentation: str,
    read: Callable[[Session], Reading],
    labels: tuple[str, ...] = (),
) -> None:
    """A gauge read from the database at each scrape (in one read-only transaction with the
    others). ``read`` returns one value, or a mapping of label values to values when
    ``labels`` are named; None leaves the gauge without a sample (nothing measured yet)."""
    _GAUGES[name] = DatabaseGauge(name, documentation, read, labels)


class _DatabaseCollector(Collector):
    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with unit_of_work(self.database, write=False) as session:
            for gauge in _GAUGES.values():
                try:
                    value = gauge.read(session)
                except Exception:
                    # One broken reading must not hide the others; the log says which.
                    log.warning("metric %s could not be read", gauge.name, exc_info=True)
                    session.rollback()
                    continue
                family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
                if isinstance(value, Mapping):
                    for label_values, v in value.items():
                        family.add_metric(list(label_values), float(v))
                elif value is not None:
                    family.add_metric([], float(value))
                yield family


def exposition(database: Database) -> bytes:
    """The metrics text of this installation: the processes' own metrics, then the
    database's."""
    if os.environ.get(MULTIPROCESS_DIR):
        own = CollectorRegistry()
        multiprocess.MultiProcessCollector(own)  # type: ignore[no-untyped-call]
    else:
        own = REGISTRY
    shared = CollectorRegistry(auto_describe=False)
    shared.register(_DatabaseCollector(database))
    return generate_latest(own) + generate_latest(shared)


# --- the kernel's own gauges -------------------------------------------------------------


def _verify_age(session: Session) -> float | None:
    last = session.scalar(
        select(AuditVerifyRun.finished_at)
        .where(AuditVerifyRun.intact.is_(True))
        .order_by(AuditVerifyRun.finished_at.desc())
        .limit(1)
    )
    return None if last is None else max(0.0, (clock.now() - last).total_seconds())


def _last_verify_intact(session: Session) -> float | None:
    last = session.scalar(
        select(AuditVerifyRun.intact).order_by(AuditVerifyRun.finished_at.desc()).limit(1)
    )
    return None if last is None else float(bool(last))


register_gauge(
    "pharmaqms_audit_verify_age_seconds",
    "Seconds since `pharmaqms audit verify` last found the audit trail intact (no sample: "
    "never recorded).",
    _verify_age,
)
register_gauge(
    "pharmaqms_audit_verify_last_intact",
    "1 when the latest `pharmaqms audit verify` found the trail intact, 0 when it found "
    "changes (no sample: never run).",
    _last_verify_intact,
)
