"""``pharmaqms demo``: a year of cold-room readings and the shipment loggers' traces (the
loader lives here because the platform does not import the command line)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.platform.connectors.sensors_demo import generate_sensor_demo


def load(session: Session, ctx: DemoContext) -> None:
    generate_sensor_demo(session, ctx)


register("sensor traces", load)
